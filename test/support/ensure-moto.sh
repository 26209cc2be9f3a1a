#!/usr/bin/env bash
# Finds a moto (the local AWS emulator) of the pinned version, or installs it into the project's
# own virtual environment (.venv/, ignored by git). `make test` and `make demo` run this first;
# test/support/moto.ts and local-emulator.sh use what it prints:
#
#   MOTO_SERVER=<path of moto_server>
#   MOTO_PYTHON=<a python3 that imports botocore (the kube-apiserver stand-in needs it)>
#
# A moto_server already on PATH is used when its version is the pinned one. Progress goes to stderr.
# EKSBOX_MOTO_VENV overrides where the virtual environment goes (tests point it at a scratch dir).
set -euo pipefail

MOTO_VERSION=5.2.1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${EKSBOX_MOTO_VENV:-$ROOT/.venv}

log() { printf '[ensure-moto] %s\n' "$*" >&2; }

# The python interpreter a moto_server script runs with (pyenv's shims are shell scripts).
python_of() {
  local script=$1 first
  first=$(head -n 1 "$script" 2>/dev/null || true)
  case $first in
    '#!'*python*) set -- ${first#\#!}; [ "$1" = /usr/bin/env ] && shift; command -v "$1" ;;
    *) if command -v pyenv >/dev/null && grep -q pyenv "$script" 2>/dev/null; then
         python_of "$(pyenv which moto_server 2>/dev/null)"
       fi ;;
  esac
}

version_of() { # python
  "$1" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true
}

fits() { # moto_server path -> prints its python when the version fits and botocore imports
  local python
  python=$(python_of "$1") || return 1
  [ -n "$python" ] || return 1
  [ "$(version_of "$python")" = "$MOTO_VERSION" ] || return 1
  "$python" -c 'import botocore' 2>/dev/null || return 1
  echo "$python"
}

found() { echo "MOTO_SERVER=$1"; echo "MOTO_PYTHON=$2"; exit 0; }

if on_path=$(command -v moto_server) && python=$(fits "$on_path"); then
  found "$on_path" "$python"
fi
if [ -x "$VENV/bin/moto_server" ] && python=$(fits "$VENV/bin/moto_server"); then
  found "$VENV/bin/moto_server" "$python"
fi

command -v python3 >/dev/null || { log "python3 is needed to install moto $MOTO_VERSION (apt-get install python3 python3-venv)"; exit 1; }
log "moto_server $MOTO_VERSION not found${on_path:+ (the one on PATH, $on_path, is another version)}; installing it into $VENV"
# One installer at a time: vitest and make may both get here on a fresh machine.
mkdir -p "$(dirname "$VENV")"
exec {lock}>"$VENV.lock"
flock "$lock"
if ! [ -x "$VENV/bin/moto_server" ] || ! fits "$VENV/bin/moto_server" >/dev/null; then
  python3 -m venv "$VENV" >&2 || { log "python3 -m venv failed: apt-get install python3-venv"; exit 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
fi
python=$(fits "$VENV/bin/moto_server") || { log "moto $MOTO_VERSION in $VENV does not run"; exit 1; }
log "installed moto $MOTO_VERSION in $VENV"
found "$VENV/bin/moto_server" "$python"
