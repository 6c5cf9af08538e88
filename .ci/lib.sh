# shellcheck shell=bash
# What the .ci scripts share: finding tools and installing the missing ones
# with apt. Sourced, never run: `source .ci/lib.sh`. Each function returns
# the status of the first command that fails, also where `set -e` is off
# (in an `if`, or before `||`).
#
# A tool is found with `type -P`, which searches PATH only: a function or an
# alias of the same name (a wrapper a script defines for itself) can never
# make a missing program look installed. .ci/fresh checks that no script
# asks `command -v`, `type`, `which` or `hash` about a name it defines.

if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
# What CI keeps from one run to the next, outside the clone, so that a new
# clone on a machine that ran CI before reuses it: the Python virtual
# environments, the stamp of the last apt-get update.
CI_CACHE=${DOUBLURE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/doublure-ci}
# One environment for the Rust tests backed by pytest (.ci/run puts it on
# PATH) and the console's browser tests (.ci/console).
# shellcheck disable=SC2034 # used by the scripts that source this file
{
  PYTEST_VENV=$CI_CACHE/pytest-venv
  PYTEST_REQUIREMENTS=("pytest>=8,<10" "selenium>=4.20,<5" "junitparser>=3,<5"
    # The HTTPS client tests (tests/it/server/tls_clients.rs).
    "requests>=2.31,<3" "requests-oauthlib>=2,<3" "authlib>=1.3,<2" "httpx[http2]>=0.27,<1")
  # oauth4webapi for the same tests' Node client, in a node_modules of
  # its own (DOUBLURE_TLS_NODE_MODULES).
  TLS_NODE=$CI_CACHE/tls-node
  TLS_NODE_PACKAGES=("oauth4webapi@3")
}

# apt_install PACKAGE...: installs with apt-get. The package lists are
# updated first unless CI updated them in the last hour: a new machine's
# lists may be empty or stale, and one update serves every install of a
# run.
apt_install() {
  echo "apt-get install $*"
  local stamp=$CI_CACHE/apt-updated
  if [ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
    "${SUDO[@]}" apt-get update -qq || return
    mkdir -p "$CI_CACHE" && touch "$stamp"
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

# node_prefix DIR PACKAGE...: DIR/node_modules holding the npm packages.
# Installed once: a later run finds the same list in DIR/ci-packages and
# leaves it as it is, with no call to the registry.
node_prefix() {
  local dir=$1
  shift
  if [ -d "$dir/node_modules" ] && [ "$(cat "$dir/ci-packages" 2>/dev/null)" = "$*" ]; then
    return 0
  fi
  rm -rf "$dir" && mkdir -p "$dir" || return
  echo '{"private": true}' >"$dir/package.json" || return
  (cd "$dir" && npm install --no-audit --no-fund --no-package-lock "$@") || return
  echo "$*" >"$dir/ci-packages"
}

# venv DIR REQUIREMENT...: a Python virtual environment at DIR (under
# $CI_CACHE) holding the requirements. Made and filled once: a later run
# finds the same requirements written in DIR/ci-requirements and leaves it
# as it is, with no call to PyPI.
venv() {
  local dir=$1
  shift
  if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c '' 2>/dev/null \
    && [ "$(cat "$dir/ci-requirements" 2>/dev/null)" = "$*" ]; then
    return 0
  fi
  rm -rf "$dir" || return
  python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv || return
  python3 -m venv "$dir" || return
  if [ "$#" -gt 0 ]; then "$dir/bin/pip" install -q --disable-pip-version-check "$@" || return; fi
  echo "$*" >"$dir/ci-requirements"
}
