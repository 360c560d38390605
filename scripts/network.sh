#!/usr/bin/env bash
# make network N=3 / make stop-network: starts nodes node-1..node-N in the background (one
# JVM each, log in nodes/node-K/node.log, pid in nodes/node-K/node.pid) and stops them again
# by those pids. Never kills by name.
# With LINK_DELAY_MS=300 (make network N=10 LINK_DELAY_MS=300) it first starts the link
# simulator (wirelab.LinkSimulator: pid in nodes/links.pid, log nodes/links.log), a station
# for each node on its port + 10000, and writes LINK_PROXY=localhost:<that port> into each
# node's .env, so that every connection between the nodes takes 300 ms each way. Started
# without it, nodes dial each other directly (the line is taken out again).
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup_java
LINKS_PID="$ROOT/nodes/links.pid"

links_running() {
  pid_running "$LINKS_PID" "wirelab.LinkSimulator"
}

# start_links N DELAY_MS: the link simulator, a station for each of node-1..node-N.
start_links() {
  local n=$1 delay=$2 ports="" k
  if links_running; then
    echo "the link simulator is already running (pid $(cat "$LINKS_PID")); make stop-network to change its delay"
    return
  fi
  for k in $(seq 1 "$n"); do ports="$ports${ports:+,}$(sed -n 's/^PORT=//p' "$ROOT/nodes/node-$k/.env")"; done
  java_command wirelab.LinkSimulator
  nohup "${JAVA_CMD[@]}" --node-ports "$ports" --delay-ms "$delay" >"$ROOT/nodes/links.log" 2>&1 </dev/null &
  echo $! > "$LINKS_PID"
  echo "started the link simulator: $delay ms each way between the nodes (pid $!, log nodes/links.log)"
}

# set_link_proxy FOLDER: LINK_PROXY in its .env names its station while the simulator runs; else no LINK_PROXY.
set_link_proxy() {
  local env="$1/.env" port
  port=$(sed -n 's/^PORT=//p' "$env")
  grep -v '^LINK_PROXY=' "$env" > "$env.tmp" || true
  if links_running; then echo "LINK_PROXY=localhost:$((port + 10000))" >> "$env.tmp"; fi
  mv "$env.tmp" "$env"
}

start() {
  local n=$1 delay=${LINK_DELAY_MS:-0}
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || { echo "network: N must be a whole number >= 1, got '$n'" >&2; exit 2; }
  [[ "$delay" =~ ^[0-9]+$ ]] || { echo "network: LINK_DELAY_MS must be a whole number of milliseconds, got '$delay'" >&2; exit 2; }
  while [ ! -d "$ROOT/nodes/node-$n" ]; do "$ROOT/scripts/clone-node.sh" >/dev/null; done
  if [ "$delay" -gt 0 ]; then start_links "$n" "$delay"; fi
  java_command wirelab.p2p.PeerNode
  for k in $(seq 1 "$n"); do
    local folder="$ROOT/nodes/node-$k"
    if node_running "$folder"; then
      echo "node-$k already running (pid $(cat "$folder/node.pid"))"
      continue
    fi
    set_link_proxy "$folder"
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
  if links_running; then
    kill "$(cat "$LINKS_PID")"
    echo "stopped the link simulator (pid $(cat "$LINKS_PID"))"
  fi
  rm -f "$LINKS_PID"
}

case "${1:-}" in
  start) start "${2:-3}" ;;
  stop) stop ;;
  *) echo "usage: scripts/network.sh start N | stop" >&2; exit 2 ;;
esac
