# Sourced by the build scripts. `binary_override VAR` prints $VAR and exits when it names an existing binary to use
# instead of building one (and fails when it names anything else); does nothing when VAR is unset.
binary_override() {
  local name=$1
  local value=${!name:-}
  [ -n "$value" ] || return 0
  if [ ! -x "$value" ]; then echo "$name=$value is not an executable file" >&2; exit 1; fi
  echo "$value"
  exit 0
}

# `reuse_cached BIN LOCK`: prints BIN and exits when it is built already; otherwise takes LOCK (held until the
# script exits), so that of several checkouts building at once one builds and the others wait, then exits the
# same way when that one built BIN meanwhile.
reuse_cached() {
  local bin=$1 lock=$2
  if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
  mkdir -p "$(dirname "$lock")"
  exec 9>"$lock"
  flock 9
  if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
}
