#!/usr/bin/env bash
# make demo: the exchange end to end. Starts a server that drops packets on a free port,
# runs the client against it, shows the summary and the first entries of the output, and
# stops the server by its PID. Leaves nothing running.
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup_java
cd "$ROOT"
mkdir -p build/demo
server_log=build/demo/server.log
out=build/demo/output.json

java_command wirelab.exchange.ExchangeServer
"${JAVA_CMD[@]}" --port 0 --drop 0.3 --delay-ms 20 >"$server_log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT

port=$(await_port "$server_log" "$server_pid") \
  || { cat "$server_log"; echo "demo: the server did not start, or did not report its port within 10 s" >&2; exit 1; }
echo "== server pid $server_pid listening on 127.0.0.1:$port, dropping 30% of streamed packets, 20 ms per response"

echo "== client"
java_command wirelab.exchange.ExchangeClient
"${JAVA_CMD[@]}" --port "$port" --out "$out"

echo "== first entries of $out"
head -n 15 "$out"
echo "  ..."
echo "== what the server saw"
cat "$server_log"
