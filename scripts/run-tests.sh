#!/usr/bin/env bash
# npm test: installs what is missing, type-checks and lints (failing fast: tsx strips types, so
# only tsc sees a type error), removes namespaces a crashed run may have left, then runs every ava
# suite (unit tests and property suites). Extra arguments go to ava (e.g. --tap). The checks
# print to stderr so that stdout stays ava's (TAP) output.
# Observations (kernel-dependent results) are recorded in captures/observations/<uname -r>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! npx tsc --noEmit >&2; then
  echo "zcprobe test: typecheck failed (npm run typecheck): fix the type errors above" >&2
  exit 1
fi
if ! npx eslint . >&2; then
  echo "zcprobe test: lint failed (npm run lint; npm run lint -- --fix fixes the formatting ones)" >&2
  exit 1
fi
[ -x scripts/cleanup-netns.sh ] && [ "$(id -u)" = 0 ] && bash scripts/cleanup-netns.sh >/dev/null || true
if [ -z "${ZCPROBE_OBSERVATIONS_FILE:-}" ]; then
  mkdir -p captures/observations
  export ZCPROBE_OBSERVATIONS_FILE="$PWD/captures/observations/$(uname -r).jsonl"
  : > "$ZCPROBE_OBSERVATIONS_FILE"
fi
exec npx ava "$@"
