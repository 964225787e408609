#!/usr/bin/env bash
# Deletes every network namespace whose name starts with "zcprobe-" (live or not): for use after a
# crash or at the start of CI, when no zcprobe run can be in progress. Deleting a namespace also
# destroys the veth pair whose one end lives in it (the root-side end goes with it). The tun
# transport's namespaces (zcprobe-<pid>-<n>s / -<n>r) hold TUN devices that vanish with their relay,
# which dies with its parent; their namespaces are removed here like any other. Prints each name it
# removed; prints nothing and succeeds when there are none.
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"

if [ "$(id -u)" != 0 ]; then
  echo "cleanup-netns: must run as root (ip netns del)" >&2
  exit 1
fi

status=0

# The nic transport's interfaces first (state files written by harness/transport/nic-state.ts
# before it changed anything): IF2 back from the receiver namespace, global addresses (all ours)
# flushed, MTU, up/down and the saved link-scope addresses as they were. Deleting the namespace
# with IF2 still inside would destroy a virtual port or strip a physical one.
restore_nic() { # $1 = state file
  local k v netns='' if1='' if2=''
  declare -A st=()
  while IFS='=' read -r k v; do
    [[ $k =~ ^(PID|NETNS|IF[12](_MTU|_UP|_ADDRS)?)$ ]] && st[$k]=$v
  done <"$1"
  netns=${st[NETNS]:-}; if1=${st[IF1]:-}; if2=${st[IF2]:-}
  [[ $netns =~ ^zcprobe-[A-Za-z0-9-]+$ && $if1 =~ ^[A-Za-z0-9_.-]{1,15}$ && $if2 =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || { echo "cleanup-netns: $1: unreadable state, left in place" >&2; return 1; }
  ip -n "$netns" link set dev "$if2" netns $$ 2>/dev/null || true
  local i ok=0 dev mtu up a
  for i in IF1 IF2; do
    dev=${st[$i]}; mtu=${st[${i}_MTU]}; up=${st[${i}_UP]}
    if ! ip link show dev "$dev" >/dev/null 2>&1; then
      echo "cleanup-netns: $dev no longer exists: nothing to restore" >&2
      continue
    fi
    ip addr flush dev "$dev" scope global || ok=1
    ip link set dev "$dev" mtu "$mtu" || ok=1
    if [ "$up" = 1 ]; then ip link set dev "$dev" up || ok=1; else ip link set dev "$dev" down || ok=1; fi
    for a in ${st[${i}_ADDRS]}; do
      if [[ $a == *:* ]]; then ip addr add "$a" dev "$dev" nodad 2>/dev/null || true; else ip addr add "$a" dev "$dev" 2>/dev/null || true; fi
    done
  done
  [ "$ok" = 0 ] && rm -f "$1" && echo "restored nic pair $if1,$if2"
  return "$ok"
}
shopt -s nullglob
for f in /run/zcprobe/nic-*.state; do
  restore_nic "$f" || status=1
done

# `ip netns list` prints "NAME" or "NAME (id: N)"; the first field is the name.
mapfile -t names < <(ip netns list | awk '$1 ~ /^zcprobe-/ { print $1 }')
for ns in "${names[@]}"; do
  if ip netns del "$ns"; then
    echo "removed netns $ns"
  else
    status=1
  fi
done
exit "$status"
