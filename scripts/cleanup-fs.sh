#!/usr/bin/env bash
# Removes what zcprobe's filesystems left behind when a run was killed (SIGKILL, a crash): mounts
# on a zcprobe-fs-* directory, loop devices whose backing image lies in one, the image
# directories (ZCPROBE_FS_IMAGE_DIR, default /var/tmp) and tmpfs source directories in /dev/shm.
# Every such name carries the pid of the run that made it (zcprobe-fs-<pid>-...): a run that is
# still alive is left alone, unless --all is given (only when no zcprobe can be running).
# Prints each thing it removed; prints nothing and succeeds when there is nothing to remove.
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"

all=0
case "${1:-}" in
  --all) all=1 ;;
  "") ;;
  *) echo "usage: cleanup-fs.sh [--all]" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "cleanup-fs: must run as root (umount, losetup -d)" >&2
  exit 1
fi
image_dir="${ZCPROBE_FS_IMAGE_DIR:-/var/tmp}"
status=0

# The pid in a path's zcprobe-fs-<pid>- component; true when that run is gone (or --all).
abandoned() {
  local pid
  pid=$(printf '%s\n' "$1" | sed -n 's|.*/zcprobe-fs-\([0-9][0-9]*\)-.*|\1|p')
  [ -n "$pid" ] || return 1
  [ "$all" = 1 ] || ! kill -0 "$pid" 2>/dev/null
}

# 1. Mounts (deepest first), lazily when something still holds them.
mapfile -t mounts < <(awk '$5 ~ /\/zcprobe-fs-[0-9]+-/ { print $5 }' /proc/self/mountinfo | sort -r)
for m in "${mounts[@]}"; do
  abandoned "$m" || continue
  if umount "$m" 2>/dev/null || umount -l "$m"; then echo "unmounted $m"; else status=1; fi
done

# 2. Loop devices backed by an image in a zcprobe-fs-* directory (" (deleted)" if it is gone).
while read -r dev file; do
  [ -n "$dev" ] || continue
  abandoned "$file" || continue
  if losetup -d "$dev"; then echo "detached $dev ($file)"; else status=1; fi
done < <(losetup --list --noheadings --output NAME,BACK-FILE 2>/dev/null | awk '$2 ~ /\/zcprobe-fs-[0-9]+-/ { print $1, $2 }')

# 3. Image directories and tmpfs source directories, once nothing is mounted on them.
for d in "$image_dir"/zcprobe-fs-* /dev/shm/zcprobe-fs-*; do
  [ -e "$d" ] || continue
  abandoned "$d" || continue
  if grep -q " ${d}/" /proc/self/mountinfo; then
    echo "cleanup-fs: $d still has a mount, left in place" >&2
    status=1
    continue
  fi
  if rm -rf "$d"; then echo "removed $d"; else status=1; fi
done
exit "$status"
