# shellcheck shell=bash
# What the .ci scripts share: finding tools and installing the missing ones
# with apt. Sourced, never run: `source .ci/lib.sh`.
#
# A tool is found with `type -P`, which searches PATH only: a function or an
# alias of the same name (a wrapper a script defines for itself) can never
# make a missing program look installed. .ci/fresh checks that no script
# asks `command -v`, `type`, `which` or `hash` about a name it defines.

if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi

# apt_install PACKAGE...: installs with apt-get. The package lists are
# updated first unless this clone updated them in the last hour: a new
# machine's lists may be empty or stale, and one update serves every install
# of a run.
apt_install() {
  echo "apt-get install $*"
  local stamp=target/ci-apt-updated
  if [ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
    "${SUDO[@]}" apt-get update -qq
    mkdir -p target && touch "$stamp"
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# apt_need TOOL:PACKAGE...: installs, in one apt-get call, each PACKAGE
# whose TOOL is not on PATH.
apt_need() {
  local missing=() pair
  for pair in "$@"; do
    type -P "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# venv DIR REQUIREMENT...: a Python virtual environment at DIR holding the
# requirements. Made and filled once: a later run finds the same
# requirements written in DIR/ci-requirements and leaves it as it is, with
# no call to PyPI (CI keeps DIR under target/ from one run to the next).
venv() {
  local dir=$1
  shift
  if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c '' 2>/dev/null \
    && [ "$(cat "$dir/ci-requirements" 2>/dev/null)" = "$*" ]; then
    return 0
  fi
  rm -rf "$dir"
  python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  python3 -m venv "$dir"
  if [ "$#" -gt 0 ]; then "$dir/bin/pip" install -q --disable-pip-version-check "$@"; fi
  echo "$*" >"$dir/ci-requirements"
}
