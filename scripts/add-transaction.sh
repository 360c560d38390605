#!/usr/bin/env bash
# Sends {"type":"TRANSACTION","data":<json>} to one node, which stores it and passes it on:
#   scripts/add-transaction.sh node-N ['{"from":"alice","to":"bob","amount":5}']
# Without a transaction it sends a sample one.
set -euo pipefail
if [ $# -lt 1 ] || [[ "$1" == -* ]]; then
  echo "usage: scripts/add-transaction.sh node-N ['{json}']" >&2
  exit 2
fi
source "$(dirname "$0")/common.sh"
setup_java
folder="$ROOT/nodes/$1"
[ -d "$folder" ] || { echo "add-transaction: no folder nodes/$1" >&2; exit 1; }
shift
exec "${JAVA_RUN[@]}" wirelab.p2p.AddTransaction "$folder" "$@"
