#!/usr/bin/env bash
# npm start: installs what is missing, then runs the evidence suite and prints the report's path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ "$(id -u)" = 0 ] && bash scripts/cleanup-netns.sh >/dev/null || true
exec node bin/zcprobe.js report "$@"
