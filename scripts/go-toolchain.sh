# Sourced by the build scripts of Go programs from the Go module proxy: `use_go` puts a Go >= 1.24 first on the
# PATH: LOGWARDEN_GO, /usr/local/go or the `go` on the PATH if one is recent enough, else the release below,
# fetched once (module golang.org/toolchain, as the go command itself fetches toolchains) and cached. Debian 12's
# golang-go (1.19, kept for the Kubernetes build) is too old for current modules.
go_version="go1.26.8"

use_go() {
  local cache="${LOGWARDEN_CACHE:-$HOME/.cache/logwarden}" go="" candidate
  for candidate in "${LOGWARDEN_GO:-}" /usr/local/go/bin/go "$(command -v go || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" version | grep -Eq 'go1\.(2[4-9]|[3-9][0-9])'; then
      go="$candidate"; break
    fi
  done
  if [ -z "$go" ]; then
    local toolchain="$cache/go-toolchain/$go_version"
    if [ ! -x "$toolchain/bin/go" ]; then
      local arch
      arch=$(dpkg --print-architecture)
      echo "fetching the Go toolchain $go_version ($arch, about 70 MB) from the Go module proxy" >&2
      rm -rf "$toolchain.tmp"
      python3 - "$go_version" "$arch" "$toolchain.tmp" <<'PY'
import io, sys, urllib.request, zipfile
version, arch, target = sys.argv[1:]
module = f"v0.0.1-{version}.linux-{arch}"
with urllib.request.urlopen(f"https://proxy.golang.org/golang.org/toolchain/@v/{module}.zip") as response:
    zipfile.ZipFile(io.BytesIO(response.read())).extractall(target)
PY
      chmod -R u+x "$toolchain.tmp"/golang.org/toolchain@*/bin "$toolchain.tmp"/golang.org/toolchain@*/pkg/tool
      mkdir -p "$(dirname "$toolchain")"
      mv "$toolchain.tmp"/golang.org/toolchain@* "$toolchain"
      rm -rf "$toolchain.tmp"
    fi
    go="$toolchain/bin/go"
  fi
  export PATH="$(dirname "$go"):$PATH"
}
