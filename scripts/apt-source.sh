#!/usr/bin/env bash
# Fetches Debian source packages into the current directory: `apt-source.sh [apt-get source options] PACKAGE…`.
# Adds a deb-src copy of the machine's Debian entry first if there is none (apt-get source needs one).
set -euo pipefail

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

if ! grep -rqs "^Types:.*deb-src\|^deb-src " /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "adding a deb-src entry for Debian's sources" >&2
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      | $sudo tee /etc/apt/sources.list.d/logwarden-debian-src.sources >/dev/null
  else
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list \
      | $sudo tee /etc/apt/sources.list.d/logwarden-debian-src.list >/dev/null
  fi
  $sudo apt-get update -qq >&2
fi
apt-get source -qq "$@" >&2
