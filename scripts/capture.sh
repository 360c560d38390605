#!/usr/bin/env bash
# make capture WHAT=exchange|network (or scripts/capture.sh exchange|network [FILE]): records a
# run on the loopback into a capture file that Wireshark and tshark decode with
# scripts/wireshark/wirelab.lua, and says how to open it.
#   exchange  a server that drops 30% of the packets it streams, on port 3000 (a free port when
#             3000 is taken), and the client with one stream, so that its resends show too.
#             Default file: build/capture/exchange.pcapng
#   network   make network N=3 from the start (HANDSHAKEs, the tree forming, catch-up), one
#             transaction, every node storing it, two seconds of the tree's quiet beat, then
#             the nodes stopped. Default file: build/capture/network.pcapng
# Capturing takes dumpcap (it comes with Wireshark and tshark) or tcpdump, and the right to
# capture: root, or on Debian and Ubuntu membership of the wireshark group
# (sudo dpkg-reconfigure wireshark-common && sudo usermod -aG wireshark "$USER", then log in again).
# It stops what it started by PID, the capture last, and leaves nothing running.
set -euo pipefail
source "$(dirname "$0")/common.sh"

what=${1:-}
case "$what" in
  exchange|network) ;;
  *) echo "usage: scripts/capture.sh exchange|network [FILE]   (make capture WHAT=exchange|network)" >&2; exit 2 ;;
esac
file=${2:-build/capture/$what.pcapng}
dissector=scripts/wireshark/wirelab.lua
setup_java
cd "$ROOT"
mkdir -p "$(dirname "$file")" build/capture
rm -f "$file"

capture_pid=""
started_pids=()
cleanup() {
  local pid
  for pid in ${started_pids[@]+"${started_pids[@]}"}; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ "$what" = network ]; then scripts/network.sh stop >/dev/null 2>&1 || true; fi
  if [ -n "$capture_pid" ]; then
    sleep 1   # dumpcap takes packets from the kernel in batches, a quarter second apart; a stop loses the last one
    kill -INT "$capture_pid" 2>/dev/null || true; wait "$capture_pid" 2>/dev/null || true
    capture_pid=""
  fi
}
trap cleanup EXIT

# start_capture FILTER: dumpcap (or tcpdump) on the loopback, until it says it is capturing.
start_capture() {
  local interface=lo log=build/capture/capturer.log
  [ "$(uname)" = Darwin ] && interface=lo0
  if command -v dumpcap >/dev/null; then
    dumpcap -q -i "$interface" -f "$1" -w "$file" >"$log" 2>&1 &
  elif command -v tcpdump >/dev/null; then
    # -U writes each packet as it comes; -Z keeps the file ours when tcpdump runs as root
    tcpdump --immediate-mode -U -Z "$(id -un)" -i "$interface" -w "$file" "$1" >"$log" 2>&1 &
  else
    echo "capture: neither dumpcap nor tcpdump is installed (Debian/Ubuntu: sudo apt-get install tshark)" >&2
    exit 1
  fi
  capture_pid=$!
  for _ in $(seq 1 100); do
    # dumpcap says "Capturing on" before it knows it may: it is capturing once the file has begun
    if grep -qE "Capturing on|listening on" "$log" && [ -s "$file" ] && kill -0 "$capture_pid" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$capture_pid" 2>/dev/null; then
      cat "$log" >&2
      echo "capture: could not capture on $interface; run as root, or join the wireshark group (see the top of $0)" >&2
      capture_pid=""
      exit 1
    fi
    sleep 0.1
  done
  echo "capture: the capture did not start within 10 s:" >&2; cat "$log" >&2; exit 1
}

capture_exchange() {
  local port=3000 server_log=build/capture/server.log
  if port_in_use 3000; then port=0; fi
  java_command wirelab.exchange.ExchangeServer
  "${JAVA_CMD[@]}" --port "$port" --drop 0.3 >"$server_log" 2>&1 &
  local server_pid=$!
  started_pids+=("$server_pid")
  port=$(await_port "$server_log" "$server_pid") || { cat "$server_log" >&2; echo "capture: the server did not start" >&2; exit 1; }
  start_capture "tcp port $port"
  java_command wirelab.exchange.ExchangeClient
  "${JAVA_CMD[@]}" --port "$port" --streams 1 --out build/capture/output.json
  [ "$port" = 3000 ] || open_flags="-o betacrew.port:$port "
}

capture_network() {
  local n=3 k id
  for k in $(seq 1 "$n"); do
    if node_running "$ROOT/nodes/node-$k"; then
      echo "capture: node-$k is running; make stop-network first, so that the capture sees the network start" >&2
      trap - EXIT; exit 1
    fi
    if port_in_use $((4000 + k)); then
      echo "capture: something else listens on port $((4000 + k)); the network needs 4001-400$n" >&2
      trap - EXIT; exit 1
    fi
  done
  start_capture "tcp portrange 4001-4099"
  scripts/network.sh start "$n"
  sleep 2   # the mesh forms in well under a second on the loopback; the rest shows the pings
  id=$(scripts/add-transaction.sh node-2 '{"from":"alice","to":"bob","amount":5}' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  for k in $(seq 1 "$n"); do
    for _ in $(seq 1 100); do grep -q "$id" "nodes/node-$k/transactions.json" 2>/dev/null && break; sleep 0.1; done
  done
  echo "every node stored transaction $id"
  sleep 2
  scripts/network.sh stop
}

open_flags=""   # set when the exchange ran on another port than 3000
"capture_$what"
cleanup
trap - EXIT
protocol=wirelab
[ "$what" = exchange ] && protocol=betacrew
echo
echo "wrote $file. Open it with the wirelab dissector:"
echo "  wireshark -X lua_script:$dissector $open_flags$file"
echo "  tshark -X lua_script:$dissector $open_flags-r $file -Y $protocol -O $protocol"
if command -v tshark >/dev/null; then
  echo "the first messages, as tshark reads them:"
  # shellcheck disable=SC2086  # open_flags is empty or two words
  tshark -X "lua_script:$dissector" $open_flags -r "$file" -Y "$protocol" 2>/dev/null | head -n 12 || true
fi
