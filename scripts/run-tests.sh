#!/usr/bin/env bash
# npm test: installs what is missing, type-checks and lints (failing fast), removes what crashed
# runs left (never a live run's), then
# runs every ava suite (unit tests and property suites). Extra arguments go to ava (e.g. --tap).
# SIGINT or SIGTERM to npm stops the run like Ctrl-C: ava interrupts its test files (SIGTERM to
# each, whose cleanup registry removes namespaces, tcpdump, sysctl overrides), then exits.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/signals.sh
run_forwarding TERM bash scripts/setup.sh
# tsx strips types, so only tsc sees a type error; both checks print to stderr so that stdout
# stays ava's (TAP) output.
if ! run_forwarding TERM node node_modules/typescript/bin/tsc --noEmit >&2; then
  echo "zcprobe test: typecheck failed (npm run typecheck): fix the type errors above" >&2
  exit 1
fi
if ! run_forwarding TERM node node_modules/eslint/bin/eslint.js . >&2; then
  echo "zcprobe test: lint failed (npm run lint; npm run lint -- --fix fixes the formatting ones)" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then run_forwarding TERM bash scripts/cleanup.sh; fi
# Observations (kernel-dependent results) are recorded where the evidence report picks them up.
if [ -z "${ZCPROBE_OBSERVATIONS_FILE:-}" ]; then
  mkdir -p captures/observations
  export ZCPROBE_OBSERVATIONS_FILE="$PWD/captures/observations/$(uname -r).jsonl"
  : > "$ZCPROBE_OBSERVATIONS_FILE"
fi
# ava handles SIGINT (interrupt, clean up, report) but dies at once on SIGTERM, leaving its test
# processes running: pass SIGTERM on as SIGINT. Not via npx: that adds another npm wrapper.
run_forwarding INT node node_modules/ava/entrypoints/cli.mjs "$@"
