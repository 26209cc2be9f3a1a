#!/usr/bin/env bash
# Builds the REAL eksctl and flux CLIs from the Go module proxy for the oracle and contract tests
# (test/oracle/), once per version: a binary already in the cache is reused. Release binaries cannot
# be downloaded here, Go modules can. The versions are the ones required in
# test/oracle/tools/{eksctl,flux}/go.mod (go.sum there pins every dependency).
#
#   setup-oracle.sh [eksctl] [flux]   builds what is missing (both tools by default); prints
#                       EKSBOX_ORACLE_EKSCTL=<path>, EKSBOX_ORACLE_EKSCTL_VERSION=<v>,
#                       EKSBOX_ORACLE_FLUX=<path> and EKSBOX_ORACLE_FLUX_VERSION=<v> to eval;
#                       progress goes to stderr
#
# Cache: $EKSBOX_TOOLS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/eksbox/tools/<tool>-<version>/<tool>.
# Measured on 2 shared cores from an empty module and build cache: see test/oracle/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=$ROOT/test/oracle/tools
CACHE=${EKSBOX_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eksbox/tools}

log() { printf '[setup-oracle] %s\n' "$*" >&2; }

required_version() { # go.mod module
  awk -v m="$2" '$1 == "require" && $2 == m { print $3 } $1 == m && $2 ~ /^v/ { print $2 }' "$1" | head -n 1
}

# flux's cmd/flux embeds manifests/*.yaml, which flux's release process generates (with kustomize,
# from controller manifests downloaded from GitHub); the module holds none, so `go build` of the
# module fails with "pattern manifests/*.yaml: no matching files found". The oracle builds flux in
# a copy of its module source (checked against go.sum first) with one empty placeholder manifest:
# every command and flag is flux's own; only `flux install` and a real `flux bootstrap`, which apply
# those manifests to a cluster, would have nothing to apply. The copy builds as its own main module,
# so flux's own go.mod, go.sum and replace directive apply as in flux's release builds.
prepare_flux_source() { # version dir -> prints the source directory
  local version=$1 dir=$2 module
  module=$(cd "$TOOLS/flux" && go mod download -json "github.com/fluxcd/flux2/v2@$version" | awk -F'"' '$2 == "Dir" { print $4 }')
  [ -d "$module" ] || { log "go mod download github.com/fluxcd/flux2/v2@$version gave no source directory"; exit 1; }
  rm -rf "$dir/src"
  cp -R "$module" "$dir/src"
  chmod -R u+w "$dir/src"
  mkdir -p "$dir/src/cmd/flux/manifests"
  printf '# eksbox oracle: placeholder for the install manifests flux releases generate (see setup-oracle.sh)\n' \
    >"$dir/src/cmd/flux/manifests/eksbox-placeholder.yaml"
  echo "$dir/src"
}

# build <tool> <module> <package>: prints the binary's path.
build() {
  local tool=$1 module=$2 package=$3 version dir bin
  version=$(required_version "$TOOLS/$tool/go.mod" "$module")
  [ -n "$version" ] || { log "no version of $module in $TOOLS/$tool/go.mod"; exit 1; }
  dir=$CACHE/$tool-$version
  bin=$dir/$tool
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || { log "go is not installed: cannot build $tool $version (Go >= 1.26 is needed)"; exit 1; }
    mkdir -p "$dir"
    # One build at a time per tool: vitest files and `make oracle` may start at once.
    exec {lock}>"$dir/.lock"
    flock "$lock"
    if [ ! -x "$bin" ]; then
      log "building $tool $version from the Go module proxy (first time only; minutes on 2 cores)"
      local started=$SECONDS where=$TOOLS/$tool target=$package
      if [ "$tool" = flux ]; then where=$(prepare_flux_source "$version" "$dir"); target=./cmd/flux; fi
      # -trimpath and -s: smaller binaries, and no host paths in them. For eksctl the `tool` line in
      # go.mod names the package; -mod=readonly (the default) keeps go.sum as committed.
      (cd "$where" && nice go build -trimpath -buildvcs=false -ldflags=-s -o "$bin.tmp" "$target") >&2
      mv -f "$bin.tmp" "$bin"
      rm -rf "$dir/src"
      log "built $bin in $((SECONDS - started))s"
    fi
    exec {lock}>&-
  fi
  echo "$bin"
}

# Arguments name the tools to build (default: both); the output names only those.
for tool in eksctl flux; do
  [ "$#" -eq 0 ] || [[ " $* " == *" $tool "* ]] || continue
  case $tool in
    eksctl)
      # An assignment, so that a failed build stops the script (set -e).
      bin=$(build eksctl github.com/weaveworks/eksctl github.com/weaveworks/eksctl/cmd/eksctl)
      echo "EKSBOX_ORACLE_EKSCTL=$bin"
      echo "EKSBOX_ORACLE_EKSCTL_VERSION=$(required_version "$TOOLS/eksctl/go.mod" github.com/weaveworks/eksctl)" ;;
    flux)
      bin=$(build flux github.com/fluxcd/flux2/v2 github.com/fluxcd/flux2/v2/cmd/flux)
      echo "EKSBOX_ORACLE_FLUX=$bin"
      echo "EKSBOX_ORACLE_FLUX_VERSION=$(required_version "$TOOLS/flux/go.mod" github.com/fluxcd/flux2/v2)" ;;
  esac
done
