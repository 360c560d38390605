#!/usr/bin/env bash
# make hosts-network N=3 / make stop-hosts-network: several hosts on one machine, each a Linux
# network namespace with its own address, joined by a bridge, one node per host:
#
#   wirelab-h1  198.18.0.1 --+
#   wirelab-h2  198.18.0.2 --+-- bridge (in namespace wirelab-bridge) -- 198.18.0.254 wirelab0 (this machine)
#   wirelab-h3  198.18.0.3 --+
#
# 198.18.0.0/15 is the range set aside for benchmarking (RFC 2544): never routed anywhere. Each
# node listens on 4001 with HOST=0.0.0.0, advertises MY_ADDRESS=ws://198.18.0.K:4001, may dial
# ALLOWED_PEER_HOSTS=198.18.0.0/24, and knows hosts 1 and 3, as the curriculum's nodes know
# ports 4001 and 4003. The node folders are nodes/host-K. This machine reaches every host
# through wirelab0, so a browser here can open the live view.
#
#   scripts/hosts-network.sh up N     build the hosts and start their nodes
#   scripts/hosts-network.sh down     stop the nodes (by pid file) and remove every namespace and link
#
# Needs root and `ip` (iproute2); Linux only. A failure half-way through `up` undoes all of it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
NODES="${WIRELAB_NODES:-$ROOT/nodes}"
BRIDGE_NS=wirelab-bridge
HOST_LINK=wirelab0

require_root_and_ip() {
  if [ "$(uname -s)" != Linux ]; then echo "hosts-network: needs Linux network namespaces; this is $(uname -s)" >&2; exit 1; fi
  if [ "$(id -u)" != 0 ]; then echo "hosts-network: needs root to make network namespaces (try: sudo make hosts-network)" >&2; exit 1; fi
  if ! command -v ip >/dev/null; then echo "hosts-network: needs the ip command (apt-get install iproute2)" >&2; exit 1; fi
}

# Every namespace this script ever made, whatever N was.
our_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^wirelab-(h[0-9]+|bridge)$' || true; }

down() {
  local stopped=0
  for folder in "$NODES"/host-*; do
    [ -f "$folder/node.pid" ] || continue
    local pid
    pid=$(cat "$folder/node.pid")
    if node_running "$folder"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do node_running "$folder" || break; sleep 0.1; done
      if node_running "$folder"; then kill -9 "$pid" 2>/dev/null || true; fi
      stopped=$((stopped + 1))
    fi
    rm -f "$folder/node.pid"
  done
  ip link del "$HOST_LINK" 2>/dev/null || true
  for ns in $(our_namespaces); do ip netns del "$ns"; done
  echo "hosts-network: $stopped nodes stopped; namespaces and links removed"
}

up() {
  local n=$1
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 250 ] || { echo "hosts-network: N must be from 1 to 250, got '$n'" >&2; exit 2; }
  if [ -n "$(our_namespaces)" ]; then
    echo "hosts-network: already up ($(our_namespaces | tr '\n' ' ')); stop it first: make stop-hosts-network" >&2
    exit 1
  fi
  setup_java
  java_command wirelab.p2p.PeerNode
  trap 'echo "hosts-network: failed half-way; undoing it" >&2; down >&2' ERR
  ip netns add "$BRIDGE_NS"
  ip -n "$BRIDGE_NS" link add br0 type bridge
  ip -n "$BRIDGE_NS" link set br0 up
  ip link add "$HOST_LINK" type veth peer name uplink netns "$BRIDGE_NS"
  ip -n "$BRIDGE_NS" link set uplink master br0 up
  ip addr add 198.18.0.254/24 dev "$HOST_LINK"
  ip link set "$HOST_LINK" up
  for k in $(seq 1 "$n"); do
    local ns="wirelab-h$k"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$BRIDGE_NS" link add "h$k" type veth peer name eth0 netns "$ns"
    ip -n "$BRIDGE_NS" link set "h$k" master br0 up
    ip -n "$ns" addr add "198.18.0.$k/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  for k in $(seq 1 "$n"); do
    local folder="$NODES/host-$k"
    mkdir -p "$folder"
    printf 'PORT=4001\nHOST=0.0.0.0\nMY_ADDRESS=ws://198.18.0.%d:4001\nALLOWED_PEER_HOSTS=198.18.0.0/24\n' "$k" > "$folder/.env"
    printf '["ws://198.18.0.1:4001","ws://198.18.0.3:4001"]\n' > "$folder/known-peers.json"
    # `ip netns exec` runs the command in place (exec), so $! is the node's own pid.
    nohup ip netns exec "wirelab-h$k" "${JAVA_CMD[@]}" "$folder" >"$folder/node.log" 2>&1 </dev/null &
    echo $! > "$folder/node.pid"
    echo "started a node on host $k: ws://198.18.0.$k:4001 (pid $!, log ${folder#"$ROOT"/}/node.log)"
  done
  trap - ERR
  echo "live view of the mesh: http://198.18.0.1:4001/"
  echo "stop it with: make stop-hosts-network"
}

case "${1:-}" in
  up) require_root_and_ip; up "${2:-3}" ;;
  down) require_root_and_ip; down ;;
  *) echo "usage: scripts/hosts-network.sh up N | down" >&2; exit 2 ;;
esac
