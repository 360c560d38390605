#!/usr/bin/env bash
# Prints the home of a JDK >= 21: $JAVA_HOME when it is new enough, else the newest one
# under /usr/lib/jvm. Exits 1 with a hint when there is none. The Makefile and the run
# scripts call it, because `java` on the PATH of these machines is 17.
set -u
REQUIRED=21

major_version() {   # the feature release of the JDK at $1, from its `release` file or by asking it
  local v=""
  if [ -r "$1/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
  fi
  if [ -z "$v" ] && [ -x "$1/bin/java" ]; then
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  fi
  echo "${v:-0}"
}

usable() { [ -x "$1/bin/javac" ] && [ "$(major_version "$1")" -ge "$REQUIRED" ]; }

if [ -n "${JAVA_HOME:-}" ] && usable "$JAVA_HOME"; then
  echo "$JAVA_HOME"; exit 0
fi
best=""; best_version=0
for home in /usr/lib/jvm/*; do
  [ -d "$home" ] || continue
  if usable "$home"; then
    v=$(major_version "$home")
    if [ "$v" -gt "$best_version" ]; then best=$home; best_version=$v; fi
  fi
done
if [ -n "$best" ]; then echo "$best"; exit 0; fi
echo "no JDK >= $REQUIRED found (looked at JAVA_HOME='${JAVA_HOME:-}' and /usr/lib/jvm/*);" \
     "install one, e.g. 'apt-get install openjdk-21-jdk-headless', or set JAVA_HOME" >&2
exit 1
