#!/usr/bin/env bash
# scripts/train-startup-cache.sh JDK_MAJOR (run by make): makes build/startup/NAME.aot (JDK 25+:
# the AOT cache, classes loaded and linked ahead of time) or NAME.jsa (JDK 21-24: a class-data
# sharing archive) for each entry point, by running it once for real on loopback: a server with
# the client against it, a node with add-transaction against it. Whatever fails leaves no cache
# for that entry point, and the JVM then starts the usual way: slower, never wrong.
set -u
source "$(dirname "$0")/common.sh"
major=$1
out="$ROOT/build/startup"
rm -rf "$out" && mkdir -p "$out"
tmp=$(mktemp -d)
trap 'kill "${server_pid:-}" "${node_pid:-}" 2>/dev/null; rm -rf "$tmp"' EXIT

flags=()
while IFS= read -r line; do flags+=("$line"); done < "$ROOT/build/java-flags"
cache_flag() {   # cache_flag NAME: the flag that makes this run write NAME's cache as it exits
  if [ "$major" -ge 25 ]; then echo "-XX:AOTCacheOutput=$out/$1.aot"; else echo "-XX:ArchiveClassesAtExit=$out/$1.jsa"; fi
}
await_port() {   # await_port LOG: the port a server or node logged once it listens
  local port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on [^0-9]*[0-9.]*:\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  return 1
}

echo "training the start-up cache (once per build of the classes)" >&2
"${flags[@]}" "$(cache_flag ExchangeServer)" wirelab.exchange.ExchangeServer --port 0 --drop 0.25 >"$tmp/server.log" 2>&1 &
server_pid=$!
if port=$(await_port "$tmp/server.log"); then
  "${flags[@]}" "$(cache_flag ExchangeClient)" wirelab.exchange.ExchangeClient --port "$port" --out "$tmp/out.json" >/dev/null 2>&1
fi
kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null

mkdir -p "$tmp/node"
printf 'PORT=0\n' > "$tmp/node/.env"
"${flags[@]}" "$(cache_flag PeerNode)" wirelab.p2p.PeerNode "$tmp/node" >"$tmp/node.log" 2>&1 &
node_pid=$!
if port=$(await_port "$tmp/node.log"); then
  printf 'PORT=%s\n' "$port" > "$tmp/node/.env"   # add-transaction dials the port .env names
  "${flags[@]}" "$(cache_flag AddTransaction)" wirelab.p2p.AddTransaction "$tmp/node" >/dev/null 2>&1
fi
kill -TERM "$node_pid" 2>/dev/null; wait "$node_pid" 2>/dev/null
rm -f "$out"/*.config
exit 0
