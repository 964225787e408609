#!/usr/bin/env bash
# Removes what crashed zcprobe runs left on this host: the namespaces, links, /dev/shm work
# directories, mounts, loop devices and helper processes recorded in their ledgers under
# /run/zcprobe/ (or named after their dead pid), and puts back the sysctl values they changed.
# Then the loop-image filesystems (scripts/cleanup-fs.sh) and the qemu guests of `zcprobe kernels`
# (scripts/kernels/cleanup.sh) of runs that are gone.
# A zcprobe run still in progress is never touched, so this is safe to run at any time.
# Prints one line per thing it removed or restored. `npx zcprobe cleanup` is the first part.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
node bin/zcprobe.js cleanup "$@" || status=$?
if [ "$(id -u)" = 0 ]; then
  bash scripts/cleanup-fs.sh || status=$?
  bash scripts/kernels/cleanup.sh || status=$?
fi
exit "$status"
