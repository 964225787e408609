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

# `ip netns list` prints "NAME" or "NAME (id: N)"; the first field is the name.
mapfile -t names < <(ip netns list | awk '$1 ~ /^zcprobe-/ { print $1 }')
status=0
for ns in "${names[@]}"; do
  if ip netns del "$ns"; then
    echo "removed netns $ns"
  else
    status=1
  fi
done
exit "$status"
