#!/usr/bin/env bash
# Makes the next node folder, nodes/node-N, with .env PORT=400N and the curriculum's
# known-peers.json; makes nodes/node-1 first when it is missing. Prints the folder it made.
# Every node runs the same code (src/); only .env differs.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODES="${WIRELAB_NODES:-$ROOT/nodes}"   # the tests point this at a temp folder
mkdir -p "$NODES"

make_node() {   # make_node N
  local folder="$NODES/node-$1"
  mkdir -p "$folder"
  printf 'PORT=%d\n' "$((4000 + $1))" > "$folder/.env"
  printf '["ws://localhost:4001","ws://localhost:4003"]\n' > "$folder/known-peers.json"
  echo "${folder#"$ROOT"/}"
}

if [ ! -d "$NODES/node-1" ]; then
  make_node 1
  exit 0
fi
n=2
while [ -d "$NODES/node-$n" ]; do n=$((n + 1)); done
if [ "$n" -gt 999 ]; then echo "clone-node: already 999 nodes; PORT would pass 4999" >&2; exit 1; fi
make_node "$n"
