# Sourced by the other scripts. ROOT is the repository; the Makefile is the one place that
# knows versions and paths, and writes the class path to build/classpath.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# setup_java: builds if needed, then sets JAVA_RUN (java with the project's class path and
# one-line logging).
setup_java() {
  make -s -C "$ROOT" build >&2
  JAVA_RUN=("$("$ROOT/scripts/find-jdk.sh")/bin/java" "-Djava.util.logging.config.file=$ROOT/src/logging.properties"
            -cp "$(cat "$ROOT/build/classpath")")
}

# node_running FOLDER: true when FOLDER/node.pid names a live process running that node. A
# killed process that nobody has reaped yet (a zombie) is not running, and neither is an
# unrelated process that happens to have reused the pid.
node_running() {
  local pid
  pid=$(cat "$1/node.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/status" ]; then
    grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" && return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "wirelab.p2p.PeerNode $1" || return 1
  fi
  return 0
}
