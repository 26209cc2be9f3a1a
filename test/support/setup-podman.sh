#!/usr/bin/env bash
# What the Podman suite (vitest.podman.config.ts) needs, reusing whatever is already there:
#  1. Debian's podman, catatonit (Podman's --init), uidmap, fuse-overlayfs and slirp4netns;
#  2. a rootful `podman system service` on /run/podman/podman.sock;
#  3. the base image eksbox-test/debian:bookworm in Podman's store, exported from Docker's (made by
#     setup-engine.sh) or made with debootstrap, since no registry can be reached here;
#  4. for the rootless checks: the user eksbox-rootless with sub-ids, its own rootless
#     `podman system service` on /run/user/<uid>/podman/podman.sock, and the base image in its store;
#     and the user eksbox-nosubid without sub-ids, with its own service (eksbox must refuse that one);
#  5. rootless Docker (dockerd-rootless.sh under rootlesskit) for eksbox-rootless, with the base image.
# Run as root. Prints nothing on success but one summary line.
set -euo pipefail

BASE_IMAGE=${EKSBOX_TEST_BASE_IMAGE:-eksbox-test/debian:bookworm}
ROOTFUL_SOCKET=/run/podman/podman.sock
ROOTLESS_USER=${EKSBOX_TEST_ROOTLESS_USER:-eksbox-rootless}
NO_SUBID_USER=eksbox-nosubid

log() { printf '[setup-podman] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then log "run as root (it installs packages and starts the Podman services)"; exit 1; fi

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
[ -x /usr/libexec/podman/catatonit ] || missing+=(catatonit)
command -v newuidmap >/dev/null 2>&1 || missing+=(uidmap)
command -v fuse-overlayfs >/dev/null 2>&1 || missing+=(fuse-overlayfs)
command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
command -v rootlesskit >/dev/null 2>&1 || missing+=(rootlesskit)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  if [ ! -f /tmp/.eksbox-apt-updated ]; then apt-get update -qq && touch /tmp/.eksbox-apt-updated; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Rootful Podman gives containers 1048576 open files and processes. Raising a hard limit needs
# CAP_SYS_RESOURCE, which this machine's root lacks when it is itself a container: then every
# container fails to start ("error setting rlimit"). Default to the limits we have instead.
cap_eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
if (( (16#$cap_eff >> 24 & 1) == 0 )); then
  conf=/etc/containers/containers.conf.d/eksbox-test-ulimits.conf
  # Podman itself lowers its processes' nproc to 32768 when it cannot raise it.
  nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  want=$(printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' "$(ulimit -Hn)" "$(ulimit -Hn)" "$nproc" "$nproc")
  if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
    log "no CAP_SYS_RESOURCE here: containers get this machine's limits ($conf)"
    mkdir -p "$(dirname "$conf")" && printf '%s\n' "$want" >"$conf"
  fi
fi

answers() { curl -sf --max-time 5 --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }

# Starts `podman system service` on a socket as a user, detached, unless it already answers.
start_service() {
  local user=$1 socket=$2 log_file=$3
  answers "$socket" && return 0
  log "starting podman system service on $socket (as $user)"
  if [ "$user" = root ]; then
    mkdir -p "$(dirname "$socket")"
    setsid nohup podman system service --time=0 "unix://$socket" >"$log_file" 2>&1 </dev/null &
  else
    runuser -u "$user" -- mkdir -p "$(dirname "$socket")"
    runuser -u "$user" -- env XDG_RUNTIME_DIR="$(dirname "$(dirname "$socket")")" HOME="$(getent passwd "$user" | cut -d: -f6)" \
      setsid nohup podman system service --time=0 "unix://$socket" >"$log_file" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do answers "$socket" && return 0; sleep 0.5; done
  log "podman system service did not answer on $socket; see $log_file"; exit 1
}

start_service root "$ROOTFUL_SOCKET" /tmp/eksbox-podman-service.log

# A rootfs tar on stdout: Docker's copy of the base image when there is one, else debootstrap.
# `docker export` has no entry for / (so / gets mode 755: a debootstrap dir from mktemp is 700, which
# keeps every non-root user out) and adds /.dockerenv, which is dropped.
base_rootfs() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    local id; id=$(docker create "$BASE_IMAGE" /bin/true)
    docker export "$id" | tar --delete -f - .dockerenv
    docker rm "$id" >/dev/null
  else
    command -v debootstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    local mirror root
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    root=$(mktemp -d /tmp/eksbox-rootfs.XXXXXX) && chmod 755 "$root"
    debootstrap --variant=minbase bookworm "$root" "${mirror:-http://deb.debian.org/debian}" >/tmp/eksbox-debootstrap.log 2>&1 \
      || { log "debootstrap failed; see /tmp/eksbox-debootstrap.log"; exit 1; }
    tar -C "$root" -c .
    rm -rf "$root"
  fi
}

if ! podman image exists "$BASE_IMAGE"; then
  log "importing $BASE_IMAGE into Podman"
  base_rootfs | podman import - "$BASE_IMAGE" >/dev/null
fi

# Rootless Podman as an unprivileged user. Skipped (and the rootless tests say why) where it cannot run.
rootless=unavailable
if [ "${EKSBOX_TEST_SKIP_ROOTLESS:-}" != 1 ]; then
  id "$ROOTLESS_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$ROOTLESS_USER"
  grep -q "^$ROOTLESS_USER:" /etc/subuid || usermod --add-subuids 200000-265535 --add-subgids 200000-265535 "$ROOTLESS_USER"
  uid=$(id -u "$ROOTLESS_USER")
  run_dir=/run/user/$uid
  mkdir -p "$run_dir" && chown "$ROOTLESS_USER:" "$run_dir" && chmod 700 "$run_dir"
  as_user() { runuser -u "$ROOTLESS_USER" -- env XDG_RUNTIME_DIR="$run_dir" HOME="$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)" "$@"; }
  if as_user podman info >/tmp/eksbox-podman-rootless-info.log 2>&1; then
    start_service "$ROOTLESS_USER" "$run_dir/podman/podman.sock" /tmp/eksbox-podman-rootless-service.log
    if ! as_user podman image exists "$BASE_IMAGE"; then
      log "loading $BASE_IMAGE into $ROOTLESS_USER's Podman store"
      podman save "$BASE_IMAGE" 2>/dev/null | (cd / && as_user podman load >/dev/null 2>&1)
    fi
    rootless="user $ROOTLESS_USER, $run_dir/podman/podman.sock"
    # A second user with no sub-ids, whose engine eksbox must refuse at start.
    id "$NO_SUBID_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$NO_SUBID_USER"
    sed -i "/^$NO_SUBID_USER:/d" /etc/subuid /etc/subgid
    no_subid_dir=/run/user/$(id -u "$NO_SUBID_USER")
    mkdir -p "$no_subid_dir" && chown "$NO_SUBID_USER:" "$no_subid_dir" && chmod 700 "$no_subid_dir"
    start_service "$NO_SUBID_USER" "$no_subid_dir/podman/podman.sock" /tmp/eksbox-podman-nosubid-service.log
  else
    log "rootless Podman cannot run here; see /tmp/eksbox-podman-rootless-info.log"
  fi

  # Rootless Docker for the same user, from Debian's docker.io scripts, with its default network:
  # rootlesskit gives dockerd a network namespace of its own through slirp4netns. That needs
  # /dev/net/tun open to every user, as Debian's udev rules make it; this machine's is root's only, so
  # it is opened up here. (rootlesskit --net=host, tried before, cannot work: dockerd must enter the
  # host's network namespace for a host-network container, and a user namespace may not, so every
  # start failed with "failed to create default sandbox ... operation not permitted".)
  rl_script=/usr/share/docker.io/contrib/dockerd-rootless.sh
  rl_socket=$run_dir/docker.sock
  if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    log "opening /dev/net/tun to all users, as Debian's udev rules do (slirp4netns for rootless Docker)"
    chmod 666 /dev/net/tun || true
  fi
  if ! as_user sh -c 'exec 3<>/dev/net/tun' 2>/dev/null; then
    log "rootless Docker skipped: $ROOTLESS_USER cannot open /dev/net/tun, which slirp4netns needs"
  elif [ -x "$rl_script" ] && command -v rootlesskit >/dev/null 2>&1; then
    home=$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)
    start_rootless_docker() {
      log "starting rootless dockerd on $rl_socket (as $ROOTLESS_USER)"
      # runuser itself goes to the background, not a shell function: a backgrounded function keeps
      # copies of this script's stdout and stderr open, and whoever reads them would wait forever.
      (cd / && runuser -u "$ROOTLESS_USER" -- env XDG_RUNTIME_DIR="$run_dir" HOME="$home" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        setsid nohup "$rl_script" --host "unix://$rl_socket" --data-root "$home/.local/share/docker" \
        --exec-root "$run_dir/dockerd" --pidfile "$run_dir/dockerd.pid" \
        >/tmp/eksbox-dockerd-rootless.log 2>&1 </dev/null &)
      for _ in $(seq 1 60); do answers "$rl_socket" && return 0; sleep 0.5; done
      return 1
    }
    starts_a_container() { DOCKER_HOST="unix://$rl_socket" docker run --rm --network host "$BASE_IMAGE" true >/tmp/eksbox-dockerd-rootless-check.log 2>&1; }
    answers "$rl_socket" || start_rootless_docker || true
    if answers "$rl_socket"; then
      if ! DOCKER_HOST="unix://$rl_socket" docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        log "importing $BASE_IMAGE into $ROOTLESS_USER's rootless Docker"
        base_rootfs | DOCKER_HOST="unix://$rl_socket" docker import - "$BASE_IMAGE" >/dev/null
      fi
      # One already running may be of the older --net=host set-up, which starts no container: restart it.
      if ! starts_a_container; then
        log "rootless dockerd on $rl_socket starts no container; restarting it"
        pkill -u "$ROOTLESS_USER" -f dockerd-rootless.sh || true
        for _ in $(seq 1 20); do pgrep -u "$ROOTLESS_USER" -f dockerd-rootless.sh >/dev/null || break; sleep 0.5; done
        start_rootless_docker || true
      fi
      if ! starts_a_container; then
        log "rootless Docker on $rl_socket cannot start a container; see /tmp/eksbox-dockerd-rootless-check.log and /tmp/eksbox-dockerd-rootless.log"
        exit 1
      fi
      rootless="$rootless; rootless Docker on $rl_socket"
    else
      log "rootless dockerd did not start; see /tmp/eksbox-dockerd-rootless.log"
    fi
  fi
fi

log "podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version), $ROOTFUL_SOCKET, base image $BASE_IMAGE; rootless: $rootless"
