#!/usr/bin/env bash
# Removes what crashed zcprobe runs left on this host: the namespaces, links, /dev/shm work
# directories, mounts, loop devices and helper processes recorded in their ledgers under
# /run/zcprobe/ (or named after their dead pid), and puts back the sysctl values they changed.
# A zcprobe run still in progress is never touched, so this is safe to run at any time.
# Prints one line per thing it removed or restored. Same as `npx zcprobe cleanup`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node bin/zcprobe.js cleanup "$@"
