# Sourced by the other scripts: builds if needed, then sets ROOT, JAVA and JAVA_RUN (java with
# the project's class path and one-line logging). The Makefile is the one place that knows
# versions and paths; it writes the class path to build/classpath.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
make -s -C "$ROOT" build >&2
JAVA="$("$ROOT/scripts/find-jdk.sh")/bin/java"
JAVA_RUN=("$JAVA" "-Djava.util.logging.config.file=$ROOT/src/logging.properties" -cp "$(cat "$ROOT/build/classpath")")
