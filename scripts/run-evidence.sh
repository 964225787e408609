#!/usr/bin/env bash
# npm start: installs what is missing, removes what crashed runs left (never a live run's), then
# runs the evidence suite and prints the report's path. The suite runs as this process (exec), so
# SIGINT/SIGTERM sent to npm reach it and stop it like Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/signals.sh
run_forwarding TERM bash scripts/setup.sh
if [ "$(id -u)" = 0 ]; then run_forwarding TERM bash scripts/cleanup.sh; fi
exec node bin/zcprobe.js report "$@"
