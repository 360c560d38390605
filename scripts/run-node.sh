#!/usr/bin/env bash
# Runs one node in the foreground: scripts/run-node.sh node-N (Ctrl-C stops it).
set -euo pipefail
if [ $# -lt 1 ] || [[ "$1" == -* ]]; then
  echo "usage: scripts/run-node.sh node-N   (make one with scripts/clone-node.sh)" >&2
  exit 2
fi
source "$(dirname "$0")/common.sh"
folder="$ROOT/nodes/$1"
[ -d "$folder" ] || { echo "run-node: no folder nodes/$1; make it with scripts/clone-node.sh" >&2; exit 1; }
exec "${JAVA_RUN[@]}" wirelab.p2p.PeerNode "$folder"
