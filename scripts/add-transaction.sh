#!/usr/bin/env bash
# Sends {"type":"TRANSACTION","data":<json>} to one node, which stores it and passes it on:
#   scripts/add-transaction.sh node-N ['{"from":"alice","to":"bob","amount":5}'] [--key WALLET | --unsigned]
# Without a transaction it sends a sample one. It is signed with the node folder's wallet.json
# (an Ed25519 key pair, made at first use, readable by its owner only), or the one --key names.
set -euo pipefail
if [ $# -lt 1 ] || [[ "$1" == -* ]]; then
  echo "usage: scripts/add-transaction.sh node-N ['{json}'] [--key WALLET | --unsigned]" >&2
  exit 2
fi
source "$(dirname "$0")/common.sh"
setup_java
case "$1" in   # a path with a slash in it names a node folder outside nodes/, as the tests use
  */*) folder="$1" ;;
  *) folder="$ROOT/nodes/$1" ;;
esac
[ -d "$folder" ] || { echo "add-transaction: no node folder $folder; make one with scripts/clone-node.sh" >&2; exit 1; }
shift
java_command wirelab.p2p.AddTransaction
exec "${JAVA_CMD[@]}" "$folder" "$@"
