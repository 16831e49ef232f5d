#!/usr/bin/env bash
# Builds kcat from Debian's `kafkacat` source package (upstream kcat 1.7.1), statically linked against a current
# librdkafka, and caches the binary at <cache>/kcat/bin/kcat. Debian 12's own kcat links librdkafka 2.0.2,
# whose SCRAM authentication fails against Kafka 4.x; librdkafka >= 2.6.1 works. No registry ships a current
# librdkafka's C sources as such, but the `rdkafka-sys` crate on crates.io vendors them whole.
# The binary is self-contained: librdkafka, OpenSSL, zlib and yajl (kcat's -J) are linked in; only libc and libm
# are shared.
# Prints the path of the binary on stdout; progress goes to stderr.
# LOGWARDEN_KCAT may name an existing kcat (linked against librdkafka >= 2.6.1) to use instead of building one.
set -euo pipefail

source "$(dirname "$0")/binary-override.sh"
binary_override LOGWARDEN_KCAT

# rdkafka-sys 4.10.0 vendors librdkafka 2.12.1 (the part after "+" in the crate's version)
rdkafka_sys_version="4.10.0+2.12.1"
# The stamp carries the build recipe, so a binary cached by an earlier recipe is never reused.
recipe="kcat-1.7.1+librdkafka-${rdkafka_sys_version#*+}-static-1"
cache="${LOGWARDEN_CACHE:-$HOME/.cache/logwarden}"
dir="$cache/kcat"
bin="$dir/bin/kcat"
built() { [ -x "$bin" ] && [ "$(cat "$dir/RECIPE" 2>/dev/null)" = "$recipe" ]; }
if built; then echo "$bin"; exit 0; fi

# Several checkouts may run `make install` at once: one builds, the others wait and reuse its binary.
mkdir -p "$cache"
exec 9>"$cache/kcat.lock"
flock 9
if built; then echo "$bin"; exit 0; fi

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
need=()
for p in gcc make pkg-config libssl-dev zlib1g-dev libyajl-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
command -v cargo >/dev/null || need+=(cargo)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

scripts="$(cd "$(dirname "$0")" && pwd)"
work="$cache/kcat-src"
rm -rf "$work"  # a half-built tree from an interrupted run is not worth trusting
mkdir -p "$work/crate"
cd "$work"
started=$(date +%s)

echo "fetching Debian's kafkacat source package into $work" >&2
# only the upstream tarball: kcat builds from it as it is (and some mirrors lack the Debian part)
bash "$scripts/apt-source.sh" --tar-only kafkacat
tar xzf kafkacat_*.orig.tar.gz
kcat_src=$(find "$work" -maxdepth 1 -type d -name 'kafkacat-*' | head -n 1)

echo "fetching librdkafka ${rdkafka_sys_version#*+} (crate rdkafka-sys $rdkafka_sys_version) from crates.io" >&2
cat > crate/Cargo.toml <<EOF
[package]
name = "logwarden-kcat-sources"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
path = "lib.rs"

[dependencies]
rdkafka-sys = { version = "=${rdkafka_sys_version%+*}", default-features = false }
EOF
touch crate/lib.rs
cargo vendor -q --versioned-dirs --manifest-path crate/Cargo.toml "$work/vendor" >/dev/null
rdkafka_src="$work/vendor/rdkafka-sys-$rdkafka_sys_version/librdkafka"

echo "building librdkafka (about 3 minutes on 2 cores)" >&2
prefix="$work/prefix"
cd "$rdkafka_src"
# SCRAM needs OpenSSL; what a log consumer does not need (Kerberos, OIDC over curl, zstd) stays out.
nice -n 10 ./configure --prefix="$prefix" --enable-static --enable-ssl --enable-zlib --disable-zstd \
  --disable-gssapi --disable-curl --disable-lz4-ext --disable-debug-symbols >&2
nice -n 10 make -C src -j2 >&2
make -C src install >&2

echo "building kcat" >&2
cd "$kcat_src"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" nice -n 10 ./configure --enable-static --enable-json --disable-avro >&2
# kcat's configure links librdkafka.a but not the static libraries librdkafka itself needs: name them all.
libdir=$(pkg-config --variable=libdir zlib)
nice -n 10 make -j2 kcat LIBS="$prefix/lib/librdkafka.a $libdir/libyajl_s.a -Wl,-Bstatic -lssl -lcrypto -lz \
  -Wl,-Bdynamic -lm -ldl -lpthread -lrt" >&2
./kcat -V >&2

mkdir -p "$dir/bin"
cp kcat "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "$recipe" > "$dir/RECIPE"
echo "built $bin in $(( $(date +%s) - started ))s" >&2

cd "$cache"
rm -rf "$work"
echo "$bin"
