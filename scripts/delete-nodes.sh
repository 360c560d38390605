#!/usr/bin/env bash
# Removes every node folder but nodes/node-1. A node that is still running (its node.pid
# names a live process) is left alone: stop it first (make stop-network).
set -euo pipefail
source "$(dirname "$0")/common.sh"
NODES="${WIRELAB_NODES:-$ROOT/nodes}"   # the tests point this at a temp folder
status=0
for folder in "$NODES"/node-*; do
  [ -d "$folder" ] || continue
  name=$(basename "$folder")
  [ "$name" = "node-1" ] && continue
  if node_running "$folder"; then
    echo "delete-nodes: $name is running (pid $(cat "$folder/node.pid")); stop it first with make stop-network" >&2
    status=1
    continue
  fi
  rm -rf "$folder"
  echo "deleted ${folder#"$ROOT"/}"
done
exit $status
