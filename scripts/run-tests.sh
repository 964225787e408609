#!/usr/bin/env bash
# npm test: installs what is missing, removes namespaces a crashed run may have left, then runs
# every ava suite (unit tests and property suites). Extra arguments go to ava (e.g. --tap).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -x scripts/cleanup-netns.sh ] && [ "$(id -u)" = 0 ] && bash scripts/cleanup-netns.sh >/dev/null || true
exec npx ava "$@"
