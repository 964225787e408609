#!/usr/bin/env bash
# Compares relay implementations over the same tun topology: zcrelay (C) and ts-relay.mjs (the
# same loop in JavaScript, started by `zcrelay --exec` on the devices zcrelay created). For each
# MTU and relay: a C sender (zcbench) in one namespace sends TOTAL bytes in 1 MiB messages to a C
# receiver in the other; prints MB/s and the relay's CPU (user+sys) per GB. Run as root, under
# `flock /work/live.lock`; removes everything it creates (also on Ctrl-C).
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
relay="$root/build/Release/zcrelay"
bench="$root/build/Release/zcbench"
total=${TOTAL:-268435456}
A="zcprobe-relaycmp-$$-a"; B="zcprobe-relaycmp-$$-b"
cleanup() { [ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null; ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null; true; }
trap cleanup EXIT; trap "echo SIGINT >&2; exit 130" INT; trap "echo SIGTERM >&2; exit 143" TERM

one() { # uses $impl (c|ts) and $mtu
  ip netns add "$A"; ip netns add "$B"
  local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
  if [ "$impl" = c ]; then "$relay" --a "/run/netns/$A:rca" --b "/run/netns/$B:rcb" <"$fifo" >/dev/null & rpid=$!
  else "$relay" --a "/run/netns/$A:rca" --b "/run/netns/$B:rcb" --exec node "$here/ts-relay.mjs" <"$fifo" >/dev/null & rpid=$!; fi
  exec 9>"$fifo"; rm "$fifo"
  for i in $(seq 50); do ip -n "$B" link show rcb >/dev/null 2>&1 && break; sleep 0.1; done
  for x in "$A rca 10.200.0.1" "$B rcb 10.200.0.2"; do set -- $x
    ip -n "$1" link set "$2" addrgenmode none; ip -n "$1" addr add "$3/30" dev "$2"
    ip -n "$1" link set "$2" mtu "$mtu" txqueuelen 10000 up; ip -n "$1" link set lo up; done
  local port rxpid; coproc RX { ip netns exec "$B" "$bench" recv --host 10.200.0.2; }
  rxpid=$RX_PID
  read -r -u "${RX[0]}" _ port
  local t0; t0=$(awk '{print $14+$15}' "/proc/$rpid/stat")
  local out; out=$(ip netns exec "$A" "$bench" send --method write --size 1048576 --total "$total" --host 10.200.0.2 --port "$port")
  local t1; t1=$(awk '{print $14+$15}' "/proc/$rpid/stat")
  wait "$rxpid" 2>/dev/null || true
  local ns; ns=$(sed -E 's/.*"elapsedNs":([0-9]+).*/\1/' <<<"$out")
  local hz; hz=$(getconf CLK_TCK)
  awk -v impl="$impl" -v mtu="$mtu" -v b="$total" -v ns="$ns" -v ticks=$((t1 - t0)) -v hz="$hz" 'BEGIN {
    printf "%-3s mtu %5d: %7.0f MB/s, relay CPU %6.0f ms/GB\n", impl, mtu, b / ns * 1000, ticks / hz * 1000 / (b / 1e9) }'
  exec 9>&-; wait "$rpid" 2>/dev/null || true; rpid=
  ip netns del "$A"; ip netns del "$B"
}

for mtu in ${MTUS:-1500 9000}; do
  for impl in c ts; do one; done
done
