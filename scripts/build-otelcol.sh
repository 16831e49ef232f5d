#!/usr/bin/env bash
# Builds the OpenTelemetry Collector distribution in deploy/otelcol/builder.yaml (the shipper Logwarden runs and
# tests end to end) from the Go module proxy with the collector's builder, and caches the binary at
# <cache>/otelcol/<recipe-hash>/otelcol-logwarden. No registry ships a collector binary with these components.
# About 6.5 minutes on 2 idle cores, a ~116 MB binary.
# Prints the path of the binary on stdout; progress goes to stderr.
# LOGWARDEN_OTELCOL may name an existing binary (built from the same manifest) to use instead of building one.
set -euo pipefail

source "$(dirname "$0")/binary-override.sh"
binary_override LOGWARDEN_OTELCOL

builder_version="v0.155.0"
scripts="$(cd "$(dirname "$0")" && pwd)"
manifest="$scripts/../deploy/otelcol/builder.yaml"
cache="${LOGWARDEN_CACHE:-$HOME/.cache/logwarden}"
# The directory is named by the recipe (the manifest and how it is built: bump build_steps when the steps below
# change), so a binary cached by an earlier recipe is never reused.
build_steps="builder-$builder_version+go-build-mod-1"
recipe=$( (echo "$build_steps"; cat "$manifest") | sha256sum | cut -c1-16)
dir="$cache/otelcol/$recipe"
bin="$dir/otelcol-logwarden"
reuse_cached "$bin" "$cache/otelcol.lock"

source "$scripts/go-toolchain.sh"
use_go

work="$cache/otelcol-src"
rm -rf "$work"  # a half-built tree from an interrupted run is not worth trusting
mkdir -p "$work/bin"
started=$(date +%s)
echo "installing the collector builder $builder_version from the Go module proxy" >&2
GOBIN="$work/bin" go install "go.opentelemetry.io/collector/cmd/builder@$builder_version" >&2

# The builder writes go.mod and the sources, then runs `go mod tidy`, which fails on test-only modules the proxy
# does not serve (pkg/xk8stest, pkg/golden): that failure is expected, Go resolves the modules while compiling.
# (--skip-get-modules would skip writing go.mod as well.)
echo "generating the collector sources from $manifest" >&2
cp "$manifest" "$work/builder.yaml"
(cd "$work" && "$work/bin/builder" --config builder.yaml --skip-compilation >"$work/builder.log" 2>&1) || true
if [ ! -f "$work/otelcol-logwarden/go.mod" ] || [ ! -f "$work/otelcol-logwarden/components.go" ]; then
  cat "$work/builder.log" >&2
  echo "the collector builder generated no sources" >&2
  exit 1
fi

echo "compiling otelcol-logwarden (about 6.5 minutes on 2 idle cores; go prints nothing meanwhile)" >&2
(cd "$work/otelcol-logwarden" && GOFLAGS=-mod=mod go build -trimpath -o otelcol-logwarden . >&2)
mkdir -p "$dir"
cp "$work/otelcol-logwarden/otelcol-logwarden" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "built $bin in $(( $(date +%s) - started ))s" >&2

cd "$cache"
rm -rf "$work"
echo "$bin"
