#!/usr/bin/env bash
# Builds the MinIO server (the S3-compatible store the archive is tested on) from the Go module proxy and
# caches the binary. No registry ships the binary itself.
# Prints the path of the binary on stdout; progress goes to stderr.
# LOGWARDEN_MINIO may name an existing minio binary to use instead of building one.
set -euo pipefail

# A pinned module version (not @latest), so the same recipe always builds the same server; the cached binary's
# name carries the recipe, so a binary cached by an earlier recipe is never reused.
version="v0.0.0-20260212201848-7aac2a2c5b7c"
cache="${LOGWARDEN_CACHE:-$HOME/.cache/logwarden}"
bin="$cache/bin/minio-$version-1"
chosen="${LOGWARDEN_MINIO:-}"
[ -z "$chosen" ] || { [ -x "$chosen" ] && echo "$chosen" && exit 0; echo "LOGWARDEN_MINIO=$chosen is not an executable file" >&2; exit 1; }
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

# Several checkouts may run `make install` at once: one builds, the others wait and reuse its binary.
mkdir -p "$cache/bin"
exec 9>"$cache/minio.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

go=$(command -v go || true)
[ -n "$go" ] || go=/usr/local/go/bin/go
if [ ! -x "$go" ]; then echo "no Go toolchain found (MinIO needs Go >= 1.24)" >&2; exit 1; fi

work="$cache/minio-build"
rm -rf "$work"  # a half-built tree from an interrupted run is not worth trusting
mkdir -p "$work"
echo "building minio $version (about 5 minutes on 2 cores)" >&2
started=$(date +%s)
GOPATH="$work/gopath" GOBIN="$work/bin" GOMODCACHE="$work/gopath/pkg/mod" GOFLAGS=-modcacherw \
  nice -n 10 "$go" install -trimpath "github.com/minio/minio@$version" >&2
cp "$work/bin/minio" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "built $bin in $(( $(date +%s) - started ))s" >&2

# The module and build caches take well over 1 GB; the cached binary is all later runs need.
rm -rf "$work"
echo "$bin"
