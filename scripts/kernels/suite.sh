#!/usr/bin/env bash
# Runs one zcprobe suite and leaves its results in OUTDIR: the same script on the host and inside
# a qemu guest (scripts/kernels/guest-init.sh), so the kernels compare like for like.
#   suite.sh doctor|smoke|test|report OUTDIR
# ZCPROBE_TEST_FILES (space-separated ava files) limits the test suite to those files.
# OUTDIR gets: kernel (uname -r), doctor.json/.txt, steps.tsv (step, exit status, seconds), and per
# suite report/report.json (smoke, report), tap.txt + observations.jsonl (test).
set -uo pipefail
cd "$(dirname "$0")/../.."
suite=${1:?suite: doctor|smoke|test|report}
out=${2:?output directory}
mkdir -p "$out"
export PATH="$PATH:/usr/sbin:/sbin" CI=true

status=0
step() { # step NAME COMMAND...: runs it, records "NAME<TAB>exit<TAB>seconds"
  local name=$1 t0 rc
  shift
  t0=$(date +%s.%N)
  "$@"
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" >>"$out/steps.tsv"
  return "$rc"
}

uname -r >"$out/kernel"
: >"$out/steps.tsv"
# doctor's exit status says whether everything the full suite needs is there; a missing feature
# is part of what this kernel is, not a failed run, so it does not change the suite's status.
step doctor-json sh -c 'node bin/zcprobe.js doctor --json >"$1/doctor.json"' _ "$out"
node bin/zcprobe.js doctor >"$out/doctor.txt" 2>&1

case "$suite" in
  doctor) ;;
  smoke)
    # a few universal-claim cells and observations (harness/tools/kernels/smoke.ts)
    step report node --import=tsx harness/tools/kernels/smoke.ts "$out/report" || status=1
    ;;
  test)
    # shellcheck disable=SC2086 # a list of plain file names
    ZCPROBE_OBSERVATIONS_FILE="$out/observations.jsonl" step ava node_modules/.bin/ava --tap ${ZCPROBE_TEST_FILES:-} >"$out/tap.txt" 2>&1 || status=1
    ;;
  report)
    step report node bin/zcprobe.js report --cost-total 0 --out "$out/report" || status=1
    ;;
  *)
    echo "suite.sh: unknown suite \"$suite\" (doctor, smoke, test, report)" >&2
    exit 2
    ;;
esac
exit "$status"
