#!/usr/bin/env bash
# npm test: installs what is missing, removes what crashed runs left (never a live run's), then
# runs every ava suite (unit tests and property suites). Extra arguments go to ava (e.g. --tap).
# SIGINT or SIGTERM to npm stops the run like Ctrl-C: ava interrupts its test files (SIGTERM to
# each, whose cleanup registry removes namespaces, tcpdump, sysctl overrides), then exits.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/signals.sh
run_forwarding TERM bash scripts/setup.sh
if [ "$(id -u)" = 0 ]; then run_forwarding TERM bash scripts/cleanup.sh; fi
# ava handles SIGINT (interrupt, clean up, report) but dies at once on SIGTERM, leaving its test
# processes running: pass SIGTERM on as SIGINT. Not via npx: that adds another npm wrapper.
run_forwarding INT node node_modules/ava/entrypoints/cli.mjs "$@"
