#!/usr/bin/env bash
# Removes what a crashed `zcprobe kernels` left: for every state file /run/zcprobe/kernels-*.state
# whose owner process is gone, kills its qemu (only if that pid is still a qemu-system process)
# and deletes the temporary files it lists (job disk, initramfs, qemu's snapshot overlays); then
# the run directories under the cache whose owner is gone. Runs of live owners are left alone.
# Prints each thing it removed; prints nothing when there was nothing.
#   cleanup.sh [CACHE_DIR]   (default: .cache/zcprobe-kernels beside this project)
# Called by `zcprobe kernels` before it starts and by .ci/run; a general cleanup script can call it.
set -uo pipefail
cd "$(dirname "$0")/../.."
state_dir=${ZCPROBE_STATE_DIR:-/run/zcprobe}
cache=${1:-${ZCPROBE_KERNELS_CACHE:-.cache/zcprobe-kernels}}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

for state in "$state_dir"/kernels-*.state; do
  [ -e "$state" ] || continue
  owner=$(sed -n 's/^owner=//p' "$state")
  alive "$owner" && continue
  qemu=$(sed -n 's/^qemu=//p' "$state")
  if alive "$qemu" && tr '\0' ' ' <"/proc/$qemu/cmdline" 2>/dev/null | grep -q 'qemu-system'; then
    kill -9 "$qemu" && echo "killed qemu $qemu (owner $owner is gone)"
  fi
  while IFS= read -r f; do
    [ -n "$f" ] && [ -e "$f" ] && rm -rf -- "$f" && echo "removed $f"
  done < <(sed -n 's/^file=//p; s/^dir=//p' "$state")
  rm -f -- "$state"
done

# run directories are named <owner pid>-<start ms>
for d in "$cache"/runs/*-*; do
  [ -d "$d" ] || continue
  pid=${d##*/}
  pid=${pid%%-*}
  alive "$pid" && continue
  rm -rf -- "$d" && echo "removed $d"
done
exit 0
