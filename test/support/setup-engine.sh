#!/usr/bin/env bash
# Makes sure the tests have what they need on this machine and reuses whatever is already there:
#  1. a Docker engine that answers (installs Debian's docker.io and starts dockerd when none does, as root);
#  2. the base image eksbox-test/debian:bookworm, made with debootstrap + docker import, since no
#     registry can be reached here.
set -euo pipefail

BASE_IMAGE=${EKSBOX_TEST_BASE_IMAGE:-eksbox-test/debian:bookworm}

log() { printf '[setup-engine] %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "need root to install $*; install them yourself or run as root"; exit 1
  fi
  if [ ! -f /tmp/.eksbox-apt-updated ]; then apt-get update -qq && touch /tmp/.eksbox-apt-updated; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

engine_answers() { docker info >/dev/null 2>&1; }

if ! engine_answers; then
  if [ -z "${DOCKER_HOST:-}" ] && ! command -v dockerd >/dev/null 2>&1; then
    log "no Docker engine answers; installing Debian's docker.io"
    apt_install docker.io
  fi
  if [ -z "${DOCKER_HOST:-}" ] && ! engine_answers; then
    log "starting dockerd"
    nohup dockerd >/tmp/eksbox-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do engine_answers && break; sleep 1; done
  fi
  engine_answers || { log "the Docker engine did not start; see /tmp/eksbox-dockerd.log"; exit 1; }
fi

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  root=$(mktemp -d /tmp/eksbox-rootfs.XXXXXX)
  log "building $BASE_IMAGE with debootstrap from $mirror (a few minutes, once)"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/tmp/eksbox-debootstrap.log 2>&1 \
    || { log "debootstrap failed; see /tmp/eksbox-debootstrap.log"; exit 1; }
  tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
fi
log "engine $(docker version --format '{{.Server.Version}}'), base image $BASE_IMAGE ready"
