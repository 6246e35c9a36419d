#!/usr/bin/env bash
# Shared set-up for scripts/train.sh and scripts/test.sh, sourced by them.
# Creates .venv with numkeras and the given extras, and installs the Debian package
# dataset-fashion-mnist when apt can be used (as root, or with password-less sudo).
# Usage: source scripts/setup.sh "<extras>"   e.g. "plot" or "test"
set -euo pipefail

extras="${1:-}"
root_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    root_cmd=(sudo -n)
  else
    root_cmd=(none)
  fi
fi

apt_install() {  # apt_install PACKAGE...: install the missing ones if apt is usable
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "${root_cmd[*]-}" = "none" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: cannot install ${missing[*]} (apt-get needs root or sudo); continuing without." >&2
    return 0
  fi
  echo "setup: installing Debian package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${root_cmd[@]}" apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
    "${root_cmd[@]}" apt-get update -q >/dev/null
    "${root_cmd[@]}" apt-get install -y -q "${missing[@]}" >/dev/null
  }
}

python=${PYTHON:-python3}
"$python" -c 'import sys; assert sys.version_info >= (3, 10), "numkeras needs Python >= 3.10"'
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  apt_install "python${version}-venv"
fi
apt_install dataset-fashion-mnist
# plot_model's tests run Graphviz's `dot` for real.
case ",${extras}," in *,test,*) apt_install graphviz ;; esac

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
echo "setup: installing numkeras${extras:+[$extras]} into .venv"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
