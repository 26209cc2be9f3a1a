#!/usr/bin/env bash
# The local AWS emulator behind `make demo`: on 127.0.0.1:5055 the EKS stand-in
# (test/doubles/eks_standin.py: the EKS APIs moto lacks) in front of moto on the next port, the
# kube-apiserver stand-in, and the TEST toolbox image whose eksctl and flux are test doubles
# (nothing reaches real AWS).
#
#   local-emulator.sh start    starts what is not running; prints shell assignments to eval:
#                              EKSBOX_DEMO_MOTO_URL, EKSBOX_TEST_KUBE_API, EKSBOX_DEMO_IMAGE
#   local-emulator.sh stop     stops the processes this script started (by their recorded pids)
#   local-emulator.sh status
#
# Run from the project root (state goes to ./.eksbox-test/). MOTO_PORT overrides 5055.
set -euo pipefail

MOTO_PORT=${MOTO_PORT:-5055}
MOTO_URL="http://127.0.0.1:${MOTO_PORT}"
BACK_PORT=$((MOTO_PORT + 1))
BACK_URL="http://127.0.0.1:${BACK_PORT}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=.eksbox-test
MOTO_PID=$STATE/emulator-moto.pid
STANDIN_PID=$STATE/emulator-eks-standin.pid
KUBE_PID=$STATE/emulator-kube-api.pid
KUBE_URL_FILE=$STATE/kube-api-url
IMAGE_FILE=$STATE/emulator-image

log() { printf '[local-emulator] %s\n' "$*" >&2; }

# A pid file is trusted only while its process is still the one we started (pids get reused).
alive() { # pidfile pattern
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1")
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

moto_answers() { curl -fsS -o /dev/null --max-time 2 "${1:-$MOTO_URL}/moto-api/" 2>/dev/null; }

start() {
  mkdir -p "$STATE"
  # The pinned moto: the one on PATH when its version fits, else installed into .venv/.
  eval "$(bash "$ROOT/test/support/ensure-moto.sh")"
  if moto_answers "$BACK_URL"; then
    log "moto already answers on $BACK_URL; reusing it"
  else
    log "starting moto on $BACK_URL"
    MOTO_IAM_LOAD_MANAGED_POLICIES=true nohup "$MOTO_SERVER" -H 127.0.0.1 -p "$BACK_PORT" >"$STATE/emulator-moto.log" 2>&1 &
    echo $! >"$MOTO_PID"
    for _ in $(seq 1 60); do moto_answers "$BACK_URL" && break; sleep 0.5; done
    moto_answers "$BACK_URL" || { log "moto did not start; see $STATE/emulator-moto.log"; exit 1; }
  fi
  if alive "$STANDIN_PID" eks_standin.py && moto_answers; then
    log "the EKS stand-in already answers on $MOTO_URL"
  else
    log "starting the EKS stand-in on $MOTO_URL in front of moto"
    nohup python3 "$ROOT/test/doubles/eks_standin.py" --port "$MOTO_PORT" --moto "$BACK_URL" >"$STATE/emulator-eks-standin.log" 2>&1 &
    echo $! >"$STANDIN_PID"
    for _ in $(seq 1 40); do moto_answers && break; sleep 0.25; done
    moto_answers || { log "the EKS stand-in did not start; see $STATE/emulator-eks-standin.log"; exit 1; }
  fi

  if alive "$KUBE_PID" kube-apiserver.py && [ -s "$KUBE_URL_FILE" ]; then
    log "kube API stand-in already running at $(cat "$KUBE_URL_FILE")"
    # An EKS stand-in started just now does not know it yet (kube-apiserver.py registers at its start).
    curl -fsS -o /dev/null --max-time 5 -X PUT -H "Content-Type: application/json" \
      -d "{\"url\": \"$(cat "$KUBE_URL_FILE")\"}" "$MOTO_URL/_standin/kube-api" || log "the EKS stand-in did not take the kube API stand-in's URL"
  else
    rm -f "$KUBE_URL_FILE"
    log "starting the kube-apiserver stand-in"
    nohup "$MOTO_PYTHON" "$ROOT/test/doubles/kube-apiserver.py" "$MOTO_URL" --port "${KUBE_API_PORT:-0}" \
      --url-file "$KUBE_URL_FILE" >"$STATE/emulator-kube-api.log" 2>&1 &
    echo $! >"$KUBE_PID"
    for _ in $(seq 1 40); do [ -s "$KUBE_URL_FILE" ] && break; sleep 0.25; done
    [ -s "$KUBE_URL_FILE" ] || { log "the kube API stand-in did not start; see $STATE/emulator-kube-api.log"; exit 1; }
  fi

  log "building the test toolbox image (reused when unchanged)"
  (cd "$ROOT" && npx --no-install tsx test/support/test-toolbox.ts) >"$IMAGE_FILE"
  echo "EKSBOX_DEMO_MOTO_URL=$MOTO_URL"
  echo "EKSBOX_TEST_KUBE_API=$(cat "$KUBE_URL_FILE")"
  echo "EKSBOX_DEMO_IMAGE=$(cat "$IMAGE_FILE")"
}

stop_one() { # pidfile pattern name
  if alive "$1" "$2"; then
    local pid; pid=$(cat "$1")
    log "stopping $3 (pid $pid)"
    kill "$pid" 2>/dev/null || true
    # Wait, so a `start` right after does not find the port still taken.
    for _ in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
    [ -d "/proc/$pid" ] && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

stop() {
  stop_one "$KUBE_PID" kube-apiserver.py "the kube API stand-in"
  stop_one "$STANDIN_PID" eks_standin.py "the EKS stand-in"
  stop_one "$MOTO_PID" moto_server "moto"
  rm -f "$KUBE_URL_FILE" "$IMAGE_FILE"
}

status() {
  if moto_answers; then echo "moto: $MOTO_URL"; else echo "moto: not running"; fi
  if alive "$KUBE_PID" kube-apiserver.py; then echo "kube API stand-in: $(cat "$KUBE_URL_FILE")"; else echo "kube API stand-in: not running"; fi
  if [ -s "$IMAGE_FILE" ]; then echo "image: $(cat "$IMAGE_FILE")"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
