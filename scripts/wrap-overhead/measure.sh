#!/usr/bin/env bash
# What the preload shim costs a correct program: each correct fixture of properties/fixtures/apps serves
# N connections of SIZE bytes on loopback, read as fast as possible by drain.c, without the shim, with it
# (as zcprobe wrap runs it), and with it but no write protection (ZCSHIM_PROTECT=0: snapshots only); prints
# MB/s, the ratios measured in this run, and the shim's log size.
# Usage: scripts/wrap-overhead/measure.sh [N [SIZE]]   (default 8 connections of 64 MiB)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-8}
SIZE=${2:-$((64 << 20))}
SHIM=$PWD/build/Release/zcshim.so
[ -f "$SHIM" ] || { echo "measure: $SHIM is missing (npm ci builds it)" >&2; exit 1; }
# In /dev/shm, as zcprobe wrap keeps the shim's log in its work dir there (named with our pid: the
# cleanup sweep removes it if this script is killed).
WORK=$(mktemp -d "/dev/shm/zcprobe-$$-wrap-overhead-XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
APPS=properties/fixtures/apps
cc -O2 -Wall -o "$WORK/drain" scripts/wrap-overhead/drain.c
for app in zc-refill-fixed uring-early-release vmsplice-ack; do
  libs=(); [[ $app == uring* ]] && libs=(-luring)
  cc -g -O1 -Wall -o "$WORK/$app" "$APPS/$app.c" "${libs[@]}"
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listen() {
  for _ in $(seq 1 200); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.05; done
  echo "measure: nothing listens on port $1 after 10 s" >&2; return 1
}
# run SHIM(0|1|snap) CMD... → prints "MBPS LOGBYTES"
run() {
  local shim=$1; shift
  local port; port=$(free_port)
  local log="$WORK/log-$RANDOM"; mkdir -p "$log"
  if [ "$shim" != 0 ]; then
    LD_PRELOAD=$SHIM ZCSHIM_LOG=$log ZCSHIM_CAP=8GiB ZCSHIM_PROTECT=$([ "$shim" = snap ] && echo 0 || echo 1) \
      "$@" "$port" >/dev/null 2>"$WORK/stderr" &
  else
    "$@" "$port" >/dev/null 2>"$WORK/stderr" &
  fi
  local pid=$!; PIDS+=("$pid")
  wait_listen "$port"
  local out; out=$(timeout 300 "$WORK/drain" "$port" "$N")
  kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  local bytes secs; read -r bytes secs <<<"$out"
  [ "$bytes" = $((N * SIZE)) ] || { echo "measure: read $bytes bytes, expected $((N * SIZE)); stderr: $(tail -3 "$WORK/stderr")" >&2; exit 1; }
  local logb; logb=$(du -sb "$log" | cut -f1); rm -rf "$log"
  awk -v b="$bytes" -v s="$secs" -v l="$logb" 'BEGIN { printf "%.0f %d\n", b / s / 1e6, l }'
}

echo "wrap overhead: $N connections × $((SIZE >> 20)) MiB, loopback, kernel $(uname -r), $(nproc) CPUs"
printf '%-28s %12s %19s %26s %10s\n' program without 'with the shim' 'snapshots only' 'shim log'
for spec in "zc-refill-fixed|$WORK/zc-refill-fixed" "uring-early-release --fixed|$WORK/uring-early-release" \
            "vmsplice-ack|$WORK/vmsplice-ack"; do
  label=${spec%%|*}; bin=${spec#*|}
  case $label in
    uring*) cmd=(sh -c "exec $bin \"\$0\" $SIZE --fixed") ;;
    *) cmd=(sh -c "exec $bin \"\$0\" $SIZE") ;;
  esac
  read -r without _ < <(run 0 "${cmd[@]}")
  read -r with logb < <(run 1 "${cmd[@]}")
  read -r snaponly _ < <(run snap "${cmd[@]}")
  awk -v l="$label" -v a="$without" -v b="$with" -v c="$snaponly" -v g="$logb" \
    'BEGIN { printf "%-28s %7d MB/s %7d MB/s (%.2f×) %7d MB/s (%.2f×) %6.0f MiB\n", l, a, b, b / a, c, c / a, g / 1048576 }'
done
