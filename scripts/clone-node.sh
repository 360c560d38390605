#!/usr/bin/env bash
# Makes the next node folder, nodes/node-N, as a copy of nodes/node-1, as the curriculum's
# clone-node.js does: node-1's known-peers.json, and its .env with PORT=400N (and MY_ADDRESS,
# when it names node-1's port, moved to the new port); every other setting (MAX_PEERS, ...) as
# node-1 has it. Makes nodes/node-1 first when it is missing. Prints the folder it made.
# Every node runs the same code (src/); only PORT (and MY_ADDRESS) differ.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODES="${WIRELAB_NODES:-$ROOT/nodes}"   # the tests point this at a temp folder
mkdir -p "$NODES"
first="$NODES/node-1"

if [ ! -d "$first" ]; then
  mkdir -p "$first"
  printf 'PORT=4001\n' > "$first/.env"
  printf '["ws://localhost:4001","ws://localhost:4003"]\n' > "$first/known-peers.json"
  echo "${first#"$ROOT"/}"
  exit 0
fi
n=2
while [ -d "$NODES/node-$n" ]; do n=$((n + 1)); done
if [ "$n" -gt 999 ]; then echo "clone-node: already 999 nodes; PORT would pass 4999" >&2; exit 1; fi
port=$((4000 + n))
first_port=$(sed -n 's/^[[:space:]]*PORT[[:space:]]*=[[:space:]]*//p' "$first/.env" | tr -d "\"'[:space:]")
folder="$NODES/node-$n"
mkdir -p "$folder"
# PORT becomes the new one; MY_ADDRESS keeps its host and moves from node-1's port to the new one.
sed -e "s/^\([[:space:]]*PORT[[:space:]]*=\).*/\1$port/" \
    -e "/^[[:space:]]*MY_ADDRESS[[:space:]]*=/s/:$first_port\([^0-9]\|\$\)/:$port\1/" \
    "$first/.env" > "$folder/.env"
grep -q '^[[:space:]]*PORT[[:space:]]*=' "$folder/.env" || printf 'PORT=%d\n' "$port" >> "$folder/.env"
if [ -f "$first/known-peers.json" ]; then
  cp "$first/known-peers.json" "$folder/known-peers.json"
else
  printf '["ws://localhost:4001","ws://localhost:4003"]\n' > "$folder/known-peers.json"
fi
echo "${folder#"$ROOT"/}"
