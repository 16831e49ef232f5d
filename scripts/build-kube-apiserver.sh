#!/usr/bin/env bash
# Builds the control plane the harness runs — kube-apiserver, kube-controller-manager (the DaemonSet and node
# lifecycle controllers) and kube-scheduler (which binds DaemonSet pods to nodes) — from Debian's `kubernetes`
# source package (upstream v1.20.2, Go dependencies vendored) with Debian's Go toolchain, and caches the binaries.
# No registry ships them. Only the binaries not cached yet are built (one `make` for all three: about 8 minutes on
# 2 idle cores; kube-apiserver alone about 5). Also installs what the API server runs on (etcd) and what the
# harness uses (openssl).
# Prints the paths of kube-apiserver, kube-controller-manager and kube-scheduler on one line (in that order) on
# stdout; progress goes to stderr.
# KUBE_APISERVER, KUBE_CONTROLLER_MANAGER and KUBE_SCHEDULER may name existing binaries to use instead of building.
set -euo pipefail

cache="${LOGWARDEN_CACHE:-$HOME/.cache/logwarden}"
scripts="$(cd "$(dirname "$0")" && pwd)"
# The name carries the build recipe, so a binary cached by an earlier recipe is never reused.
recipe="v1.20.2-reflect2-1.0.2"
components=(kube-apiserver kube-controller-manager kube-scheduler)
overrides=(KUBE_APISERVER KUBE_CONTROLLER_MANAGER KUBE_SCHEDULER)

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

apt_install() {
  echo "installing Debian packages: $*" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

need=()
command -v etcd >/dev/null || need+=(etcd-server)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

# Each component: the binary its variable names, else the cached build; `missing` are the ones to build.
paths=()
missing=()
for i in "${!components[@]}"; do
  override=${overrides[$i]}
  if [ -n "${!override:-}" ]; then
    if [ ! -x "${!override}" ]; then echo "$override=${!override} is not an executable file" >&2; exit 1; fi
    paths+=("${!override}")
    continue
  fi
  paths+=("$cache/bin/${components[$i]}-$recipe")
  [ -x "${paths[$i]}" ] || missing+=("${components[$i]}")
done
if [ ${#missing[@]} -eq 0 ]; then echo "${paths[*]}"; exit 0; fi

# Several checkouts may start the harness at once: one builds, the others wait and reuse its binaries.
mkdir -p "$cache/bin"
exec 9>"$cache/kubernetes.lock"
flock 9
still=()
for component in "${missing[@]}"; do [ -x "$cache/bin/$component-$recipe" ] || still+=("$component"); done
if [ ${#still[@]} -eq 0 ]; then echo "${paths[*]}"; exit 0; fi
missing=("${still[@]}")

# Kubernetes 1.20's vendored tree does not build with current Go releases; Debian's Go 1.19
# (/usr/lib/go, package golang-go) is the toolchain Debian builds this package with.
need=()
[ -x /usr/lib/go/bin/go ] || need+=(golang-go)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
command -v rsync >/dev/null || need+=(rsync)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

work="$cache/kubernetes-src"
rm -rf "$work"  # a half-built tree from an interrupted run is not worth trusting
mkdir -p "$work" "$cache/bin"
cd "$work"
echo "fetching Debian's kubernetes source package into $work" >&2
bash "$scripts/apt-source.sh" kubernetes
tree=$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)

# Kubernetes 1.20 vendors github.com/modern-go/reflect2 v1.0.1, whose map iteration crashes the API
# server (SIGSEGV in json-iterator) under Go >= 1.18 as soon as it encodes some objects (server-side
# apply responses, for one). v1.0.2 fixes exactly that and is API-compatible; Debian ships its source.
# In vendor mode Go does not hash-check vendored files, so swapping the sources is enough.
echo "replacing the vendored reflect2 v1.0.1 with Debian's v1.0.2" >&2
bash "$scripts/apt-source.sh" golang-github-modern-go-reflect2
reflect2_src=$(find . -maxdepth 1 -type d -name 'golang-github-modern-go-reflect2-*' | head -n 1)
reflect2_vendor="$tree/vendor/github.com/modern-go/reflect2"
rm -f "$reflect2_vendor"/*.go "$reflect2_vendor"/*.s
cp "$reflect2_src"/*.go "$reflect2_src"/*.s "$reflect2_vendor"/
cd "$tree"

what=""
for component in "${missing[@]}"; do what+=" cmd/$component"; done
echo "building${what} $recipe (kube-apiserver about 5 minutes on 2 cores, 1.3 GB peak memory; all three about 8)" >&2
started=$(date +%s)
PATH=/usr/lib/go/bin:$PATH HOME=$PWD/.home KUBE_GIT_VERSION=v1.20.2 KUBE_GIT_TREE_STATE=clean \
  KUBE_GIT_COMMIT=debian GOPROXY=off GOFLAGS=-mod=vendor make WHAT="${what# }" >&2
for component in "${missing[@]}"; do
  cp "_output/bin/$component" "$cache/bin/$component-$recipe.tmp"
  mv "$cache/bin/$component-$recipe.tmp" "$cache/bin/$component-$recipe"
done
echo "built ${missing[*]} in $(( $(date +%s) - started ))s" >&2

# The source tree and its Go build cache take ~1.8 GB; the cached binaries are all later runs need.
cd "$cache"
rm -rf "$work"
echo "${paths[*]}"
