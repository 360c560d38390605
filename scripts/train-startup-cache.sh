#!/usr/bin/env bash
# scripts/train-startup-cache.sh JDK_MAJOR (run by make): makes build/startup/NAME.aot (JDK 25+:
# the AOT cache, classes loaded and linked ahead of time) or NAME.jsa (JDK 21-24: a class-data
# sharing archive) for each entry point, by running it once for real on loopback: a server with
# the client against it, a node in a two-node mesh with add-transaction against it. Whatever
# fails leaves no cache for that entry point, and the JVM then starts the usual way: slower,
# never wrong.
set -u
source "$(dirname "$0")/common.sh"
major=$1
out="$ROOT/build/startup"
rm -rf "$out" && mkdir -p "$out"
tmp=$(mktemp -d)
trap 'kill "${server_pid:-}" "${node_pid:-}" "${peer_pid:-}" 2>/dev/null; rm -rf "$tmp"' EXIT

training() {   # training MAIN: JAVA_CMD runs MAIN as the scripts do, writing its cache as it exits
  local name="${1##*.}"
  if [ "$major" -ge 25 ] && grep -qx -- -XX:TieredStopAtLevel=1 "$ROOT/build/java-flags-$name" 2>/dev/null; then
    # By default the cache also keeps each method's profile, which only C2 reads: an entry point
    # that runs C1 alone keeps none, and maps that much less.
    java_command "$1" "-XX:AOTCacheOutput=$out/$name.aot" -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining
  elif [ "$major" -ge 25 ]; then
    java_command "$1" "-XX:AOTCacheOutput=$out/$name.aot"
  else
    java_command "$1" "-XX:ArchiveClassesAtExit=$out/$name.jsa"
  fi
}
await_line() {   # await_line FILE TEXT: true once FILE holds TEXT, within 10 s
  for _ in $(seq 1 100); do grep -qF "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
await_lines() {   # await_lines FILE N: true once FILE has N lines that hold an "id", within 10 s
  for _ in $(seq 1 100); do [ "$(grep -c '"id"' "$1" 2>/dev/null)" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}

echo "training the start-up cache (once per build of the classes)" >&2
training wirelab.exchange.ExchangeServer
"${JAVA_CMD[@]}" --port 0 --drop 0.25 >"$tmp/server.log" 2>&1 &
server_pid=$!
if port=$(await_port "$tmp/server.log"); then
  training wirelab.exchange.ExchangeClient
  "${JAVA_CMD[@]}" --port "$port" --out "$tmp/out.json" >/dev/null 2>&1
fi
kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null

# The node trains inside a two-node mesh, so that its cache also holds the JDK WebSocket client
# it dials peers with, catch-up, and gossip both ways: a fresh node then loads none of that from
# the jar while its first transactions arrive.
mkdir -p "$tmp/peer" "$tmp/node"
printf 'PORT=0\n' > "$tmp/peer/.env"
printf 'PORT=0\n' > "$tmp/node/.env"
java_command wirelab.p2p.PeerNode
"${JAVA_CMD[@]}" "$tmp/peer" >"$tmp/peer.log" 2>&1 &
peer_pid=$!
if peer_port=$(await_port "$tmp/peer.log"); then
  printf '["ws://localhost:%s"]\n' "$peer_port" > "$tmp/node/known-peers.json"
  training wirelab.p2p.PeerNode
  "${JAVA_CMD[@]}" "$tmp/node" >"$tmp/node.log" 2>&1 &
  node_pid=$!
  if port=$(await_port "$tmp/node.log") && await_line "$tmp/node.log" "connected to ws://localhost:$peer_port"; then
    printf 'PORT=%s\n' "$port" > "$tmp/node/.env"   # add-transaction dials the port .env names
    training wirelab.p2p.AddTransaction
    "${JAVA_CMD[@]}" "$tmp/node" >/dev/null 2>&1
    java_command wirelab.p2p.AddTransaction
    for _ in 1 2 3; do "${JAVA_CMD[@]}" "$tmp/node" >/dev/null 2>&1; done
    await_lines "$tmp/peer/transactions.json" 4   # the peer stored all four: gossip ran
  fi
  kill -TERM "$node_pid" 2>/dev/null; wait "$node_pid" 2>/dev/null
fi
kill -TERM "$peer_pid" 2>/dev/null; wait "$peer_pid" 2>/dev/null
rm -f "$out"/*.config
exit 0
