#!/usr/bin/env bash
# Runs one node in the foreground: scripts/run-node.sh node-N [--trace] (Ctrl-C stops it). A path with
# a slash in it (./somewhere/node-x) names a node folder outside nodes/, as the tests use.
set -euo pipefail
if [ $# -lt 1 ] || [[ "$1" == -* ]]; then
  echo "usage: scripts/run-node.sh node-N   (make one with scripts/clone-node.sh)" >&2
  exit 2
fi
source "$(dirname "$0")/common.sh"
setup_java
case "$1" in
  */*) folder="$1" ;;
  *) folder="$ROOT/nodes/$1" ;;
esac
[ -d "$folder" ] || { echo "run-node: no node folder $folder; make one with scripts/clone-node.sh" >&2; exit 1; }
shift
java_command wirelab.p2p.PeerNode
exec "${JAVA_CMD[@]}" "$folder" "$@"   # --trace, if given
