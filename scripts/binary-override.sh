# Sourced by the build scripts: `binary_override VAR` prints $VAR and exits when it names an existing binary to use
# instead of building one (and fails when it names anything else); does nothing when VAR is unset.
binary_override() {
  local name=$1
  local value=${!name:-}
  [ -n "$value" ] || return 0
  if [ ! -x "$value" ]; then echo "$name=$value is not an executable file" >&2; exit 1; fi
  echo "$value"
  exit 0
}
