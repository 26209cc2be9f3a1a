#!/bin/sh
# Downloads one release artifact, refuses it unless its sha256 matches the pin, and records what was
# installed as a manifest fragment (the final stage merges the fragments into /etc/eksbox/tools.json).
# Usage: fetch-verified TOOL VERSION URL SHA256 OUTFILE [KEY=VALUE...]
# Extra KEY=VALUE pairs are added to the manifest entry as strings.
set -eu

tool=$1 version=$2 url=$3 sha256=$4 outfile=$5
shift 5

fail() { printf 'fetch-verified: %s: %s\n' "$tool" "$*" >&2; exit 1; }

case $sha256 in
  *[!0-9a-f]*|'') fail "no usable sha256 pin for $version (got '$sha256'); set the ${tool}'s SHA256 build arg to the 64 lowercase hex digits published for $url" ;;
esac
[ ${#sha256} -eq 64 ] || fail "the sha256 pin '$sha256' is ${#sha256} characters long, not 64"

curl --fail --silent --show-error --location --retry 3 --retry-connrefused --output "$outfile" "$url" \
  || fail "download failed: $url"

actual=$(sha256sum "$outfile" | cut -d' ' -f1)
if ! printf '%s  %s\n' "$sha256" "$outfile" | sha256sum -c --quiet - >/dev/null 2>&1; then
  rm -f "$outfile"
  fail "CHECKSUM MISMATCH for $version from $url: expected sha256 $sha256, got $actual. The artifact is not the pinned one; do not bypass this."
fi
echo "fetch-verified: $tool $version sha256 OK ($sha256)"

mkdir -p /out/manifest
extra=""
for pair in "$@"; do
  extra="$extra, \"${pair%%=*}\": \"${pair#*=}\""
done
printf '{"tool": "%s", "version": "%s", "sha256": "%s", "url": "%s"%s}\n' \
  "$tool" "$version" "$sha256" "$url" "$extra" >"/out/manifest/$tool.json"
