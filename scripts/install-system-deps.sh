#!/usr/bin/env bash
# Installs the Debian packages the real test services need (Kafka runs on the JDK and Maven that the
# machine has; everything else comes from Debian). Idempotent: packages already present are skipped, so a
# warm machine pays only for the dpkg check.
set -euo pipefail

packages=(
  # python-ldap builds from source
  gcc libldap2-dev libsasl2-dev
  # the servers
  slapd ldap-utils postgresql redis-server etcd-server
  # building kube-apiserver from Debian's kubernetes source package
  golang-go dpkg-dev rsync jq
  # OpenSSL for the API server's service-account key pair
  openssl
)
if [ "${LOGWARDEN_BROWSER:-1}" = 1 ]; then
  packages+=(chromium)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v java >/dev/null || missing+=(default-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian starts the packaged servers on install in some environments; the project runs its own copies on
# ports it chooses, so the system ones are not needed.
for svc in slapd redis-server postgresql; do
  $sudo service "$svc" stop >/dev/null 2>&1 || true
done
