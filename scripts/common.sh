# Sourced by the other scripts. ROOT is the repository. The Makefile is the one place that
# knows versions, paths and JVM flags; it writes the JVM's command line to build/java-flags.
# (Shell built-ins only where a script runs often: each program started costs a few ms.)
ROOT="${BASH_SOURCE[0]%/*}/.."
ROOT="$(cd "$ROOT" && pwd)"

# setup_java: builds (and trains the start-up cache) only when a source is newer than the last
# build, so a script that runs often does not pay for make each time.
setup_java() {
  local stamp="$ROOT/build/startup/.built" file
  if [ -f "$stamp" ] && [ -f "$ROOT/build/java-flags" ]; then
    for file in "$ROOT"/src/wirelab/*.java "$ROOT"/src/wirelab/*/*.java "$ROOT"/src/wirelab/*/*.html "$ROOT/Makefile"; do
      [ "$file" -nt "$stamp" ] && break
      file=""
    done
    [ -z "$file" ] && return 0
  fi
  make -s -C "$ROOT" build startup-cache >&2
}

# java_command MAIN [FLAG...]: sets JAVA_CMD to the JVM as build/java-flags states it, plus the
# flags the Makefile gives MAIN alone (build/java-flags-NAME), plus MAIN's start-up cache when
# there is one (build/startup/NAME.aot on JDK 25+, NAME.jsa before), plus FLAGs, then MAIN.
# Without a cache the JVM simply starts the usual way.
java_command() {
  local main="$1" name="${1##*.}" line
  shift
  JAVA_CMD=()
  while IFS= read -r line; do JAVA_CMD+=("$line"); done < "$ROOT/build/java-flags"
  if [ -f "$ROOT/build/java-flags-$name" ]; then
    while IFS= read -r line; do JAVA_CMD+=("$line"); done < "$ROOT/build/java-flags-$name"
  fi
  if [ -f "$ROOT/build/startup/$name.aot" ]; then
    JAVA_CMD+=("-XX:AOTCache=$ROOT/build/startup/$name.aot" "-Xlog:aot=off" "-Xlog:cds=off")
  elif [ -f "$ROOT/build/startup/$name.jsa" ]; then
    JAVA_CMD+=("-XX:SharedArchiveFile=$ROOT/build/startup/$name.jsa" "-Xlog:cds=off")
  fi
  JAVA_CMD+=("$@" "$main")
}

# pid_running PIDFILE COMMAND: true when PIDFILE names a live process whose command line holds
# COMMAND. A killed process that nobody has reaped yet (a zombie) is not running, and neither is
# an unrelated process that happens to have reused the pid.
pid_running() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/status" ]; then
    grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" && return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$2" || return 1
  else   # no /proc (macOS): ask ps for the command line instead
    ps -p "$pid" -o command= 2>/dev/null | grep -qF "$2" || return 1
  fi
  return 0
}

# node_running FOLDER: true when FOLDER/node.pid names a live process running that node.
node_running() {
  pid_running "$1/node.pid" "wirelab.p2p.PeerNode $1"
}

# port_in_use PORT: true when something on this machine accepts TCP connections on PORT (bash alone).
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# await_port LOG [PID]: prints the port a server or node logged once it listens (its "listening
# on host:port" line), within 10 s; fails at once when PID is given and that process has ended.
await_port() {
  local port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on [^0-9]*[0-9.]*:\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}
