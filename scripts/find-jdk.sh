#!/usr/bin/env bash
# Prints the home of a JDK >= 21, looking in this order; the first that fits wins:
#   1. $JAVA_HOME, when it is 21 or newer;
#   2. the javac on the PATH (its symlinks followed), when it is 21 or newer;
#   3. the newest 21+ among the usual places: /usr/lib/jvm/* (Debian, Ubuntu, Fedora),
#      /Library/Java/JavaVirtualMachines/*/Contents/Home and `/usr/libexec/java_home -v 21+`
#      (macOS), ~/.sdkman/candidates/java/* (SDKMAN), Homebrew's opt/openjdk*, and a tarball
#      unpacked as it comes: ~/jdk*, /opt/jdk*, ~/.jdks/* (IntelliJ's downloads).
# When none fits it says what it looked at and what it found too old, and exits 1.
# WIRELAB_JDK_PLACES (space-separated globs) replaces the usual places: the tests use it.
# Written for bash 3.2 and POSIX tools, so it runs on macOS as it is and on Linux.
set -u
REQUIRED=21
looked=()    # "where: what" for the error message

major_version() {   # the feature release of the JDK at $1, from its `release` file or by asking javac
  local v=""
  if [ -r "$1/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
  fi
  if [ -z "$v" ] && [ -x "$1/bin/javac" ]; then
    v=$("$1/bin/javac" -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p' | head -n 1)
  fi
  case "$v" in 1) v=$("$1/bin/javac" -version 2>&1 | sed -n 's/^javac 1\.\([0-9]*\).*/\1/p');; esac   # "javac 1.8.0"
  echo "${v:-0}"
}

# fits HOME WHERE: true when HOME holds a javac of 21 or newer; notes what it saw either way.
fits() {
  if [ ! -x "$1/bin/javac" ]; then
    looked+=("$2: $1 has no bin/javac")
    return 1
  fi
  local v
  v=$(major_version "$1")
  if [ "$v" -ge "$REQUIRED" ]; then
    return 0
  fi
  looked+=("$2: $1 is JDK $v, too old")
  return 1
}

resolve_links() {   # follows symlinks one by one: `readlink -f` is GNU-only
  local file=$1 link
  while [ -L "$file" ]; do
    link=$(readlink "$file")
    case "$link" in
      /*) file=$link ;;
      *) file=$(dirname "$file")/$link ;;
    esac
  done
  echo "$file"
}

if [ -n "${JAVA_HOME:-}" ] && fits "$JAVA_HOME" "JAVA_HOME"; then
  echo "$JAVA_HOME"; exit 0
fi
[ -n "${JAVA_HOME:-}" ] || looked+=("JAVA_HOME: not set")

if javac_on_path=$(command -v javac 2>/dev/null); then
  home=$(cd "$(dirname "$(resolve_links "$javac_on_path")")/.." && pwd)
  if fits "$home" "javac on the PATH"; then
    echo "$home"; exit 0
  fi
else
  looked+=("PATH: no javac")
fi

candidates=()
places="/usr/lib/jvm/* /Library/Java/JavaVirtualMachines/*/Contents/Home $HOME/.sdkman/candidates/java/*
        /opt/homebrew/opt/openjdk*/libexec/openjdk.jdk/Contents/Home /usr/local/opt/openjdk*/libexec/openjdk.jdk/Contents/Home
        /home/linuxbrew/.linuxbrew/opt/openjdk*/libexec $HOME/jdk* /opt/jdk* $HOME/.jdks/*"
for home in ${WIRELAB_JDK_PLACES:-$places}; do   # unquoted on purpose: each glob expands to the folders it names
  [ -d "$home" ] && [ ! -L "$home" ] && candidates+=("$home")
done
if [ -z "${WIRELAB_JDK_PLACES:-}" ] && [ -x /usr/libexec/java_home ]; then
  home=$(/usr/libexec/java_home -v "$REQUIRED+" 2>/dev/null) && candidates+=("$home")
fi
best=""; best_version=0
for home in ${candidates[@]+"${candidates[@]}"}; do
  if fits "$home" "the usual places"; then
    v=$(major_version "$home")
    if [ "$v" -gt "$best_version" ]; then best=$home; best_version=$v; fi
  fi
done
if [ -n "$best" ]; then echo "$best"; exit 0; fi
[ ${#candidates[@]} -gt 0 ] || looked+=("the usual places: no JDK in /usr/lib/jvm, /Library/Java/JavaVirtualMachines, ~/.sdkman, Homebrew, ~/jdk*, /opt/jdk*")

{
  echo "no JDK >= $REQUIRED found. Looked at:"
  for line in "${looked[@]}"; do echo "  - $line"; done
  echo "Install one, then run make again:"
  echo "  Ubuntu 24.04, Debian 13:  sudo apt-get install openjdk-21-jdk-headless"
  echo "  Debian 12 (its archive stops at JDK 17), any of:"
  echo "    - Eclipse Temurin's apt repository (Adoptium's install page shows how to add it),"
  echo "      then: sudo apt-get install temurin-21-jdk"
  echo "    - a JDK 21 tarball for Linux (Temurin's or OpenJDK's) unpacked in your home:"
  echo "      tar -xzf OpenJDK21U-jdk_x64_linux_hotspot_*.tar.gz -C ~   (~/jdk-21* is found by itself)"
  echo "    - SDKMAN: sdk install java 21-tem"
  echo "  Fedora:                   sudo dnf install java-21-openjdk-devel"
  echo "  macOS (Homebrew):         brew install openjdk@21"
  echo "or point JAVA_HOME at a JDK 21 or newer."
} >&2
exit 1
