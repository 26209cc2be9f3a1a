#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow linter) from the Go module proxy, once per version,
# for the test of `eksbox ci github`: a binary already in the cache is reused. Release binaries
# cannot be downloaded here, Go modules can.
#
#   setup-actionlint.sh     prints the binary's path; progress goes to stderr
#
# Cache: $EKSBOX_TOOLS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/eksbox/tools/actionlint-<version>/actionlint
# (the layout the oracle's tools use).
set -euo pipefail

VERSION=v1.7.12
CACHE=${EKSBOX_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eksbox/tools}
dir=$CACHE/actionlint-$VERSION
bin=$dir/actionlint

log() { printf '[setup-actionlint] %s\n' "$*" >&2; }

if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { log "go is not installed: cannot build actionlint $VERSION"; exit 1; }
  mkdir -p "$dir"
  # One build at a time: vitest files may start at once.
  exec {lock}>"$dir/.lock"
  flock "$lock"
  if [ ! -x "$bin" ]; then
    log "building actionlint $VERSION from the Go module proxy (first time only)"
    GOBIN=$dir GOFLAGS=-mod=mod nice go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2
  fi
fi
echo "$bin"
