#!/usr/bin/env bash
# make network N=3 / make stop-network: starts nodes node-1..node-N in the background (one
# JVM each, log in nodes/node-K/node.log, pid in nodes/node-K/node.pid) and stops them again
# by those pids. Never kills by name.
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup_java
java_command wirelab.p2p.PeerNode

start() {
  local n=$1
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || { echo "network: N must be a whole number >= 1, got '$n'" >&2; exit 2; }
  while [ ! -d "$ROOT/nodes/node-$n" ]; do "$ROOT/scripts/clone-node.sh" >/dev/null; done
  for k in $(seq 1 "$n"); do
    local folder="$ROOT/nodes/node-$k"
    if node_running "$folder"; then
      echo "node-$k already running (pid $(cat "$folder/node.pid"))"
      continue
    fi
    nohup "${JAVA_CMD[@]}" "$folder" >"$folder/node.log" 2>&1 </dev/null &
    echo $! > "$folder/node.pid"
    echo "started node-$k on port $(sed -n 's/^PORT=//p' "$folder/.env") (pid $!, log nodes/node-$k/node.log)"
  done
  echo "live view of the mesh: http://localhost:$(sed -n 's/^PORT=//p' "$ROOT/nodes/node-1/.env")/"
  echo "stop them with: make stop-network"
}

stop() {
  local stopped=0
  for folder in "$ROOT"/nodes/node-*; do
    [ -f "$folder/node.pid" ] || continue
    local pid
    pid=$(cat "$folder/node.pid")
    if node_running "$folder"; then
      kill "$pid"   # SIGTERM: the node closes its connections with close frames
      for _ in $(seq 1 50); do node_running "$folder" || break; sleep 0.1; done
      if node_running "$folder"; then kill -9 "$pid"; fi
      echo "stopped $(basename "$folder") (pid $pid)"
      stopped=$((stopped + 1))
    fi
    rm -f "$folder/node.pid"
  done
  echo "$stopped nodes stopped"
}

case "${1:-}" in
  start) start "${2:-3}" ;;
  stop) stop ;;
  *) echo "usage: scripts/network.sh start N | stop" >&2; exit 2 ;;
esac
