#!/usr/bin/env bash
# Builds kwok (sigs.k8s.io/kwok, from the Go module proxy), which simulates the nodes of the harness's Kubernetes
# cluster and the lifecycle of their pods, so the DaemonSet controller makes real pods whose state changes; caches
# the binary at <cache>/bin/kwok-<version>. About 2 minutes on 2 idle cores.
# Prints the path of the binary on stdout; progress goes to stderr.
# LOGWARDEN_KWOK may name an existing kwok binary to use instead of building one.
set -euo pipefail

scripts="$(cd "$(dirname "$0")" && pwd)"
source "$scripts/binary-override.sh"
binary_override LOGWARDEN_KWOK

version="v0.7.0"
cache="${LOGWARDEN_CACHE:-$HOME/.cache/logwarden}"
bin="$cache/bin/kwok-$version"
reuse_cached "$bin" "$cache/kwok.lock"

source "$scripts/go-toolchain.sh"
use_go
work="$cache/kwok-build"
rm -rf "$work"
mkdir -p "$work"
echo "building kwok $version from the Go module proxy (about 2 minutes on 2 idle cores)" >&2
started=$(date +%s)
GOBIN="$work" GOFLAGS=-trimpath go install "sigs.k8s.io/kwok/cmd/kwok@$version" >&2
mv "$work/kwok" "$bin.tmp"
mv "$bin.tmp" "$bin"
rm -rf "$work"
echo "built $bin in $(( $(date +%s) - started ))s" >&2
echo "$bin"
