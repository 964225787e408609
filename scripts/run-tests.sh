#!/usr/bin/env bash
# npm test: installs what is missing, removes namespaces a crashed run may have left, then runs
# every ava suite (unit tests and property suites). Extra arguments go to ava (e.g. --tap).
# Observations (kernel-dependent results) are recorded in captures/observations/<uname -r>.jsonl,
# where the evidence report picks them up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -x scripts/cleanup-netns.sh ] && [ "$(id -u)" = 0 ] && bash scripts/cleanup-netns.sh >/dev/null || true
if [ -z "${ZCPROBE_OBSERVATIONS_FILE:-}" ]; then
  mkdir -p captures/observations
  export ZCPROBE_OBSERVATIONS_FILE="$PWD/captures/observations/$(uname -r).jsonl"
  : > "$ZCPROBE_OBSERVATIONS_FILE"
fi
exec npx ava "$@"
