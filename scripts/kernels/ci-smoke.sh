#!/usr/bin/env bash
# The cross-kernel smoke for .ci/run: doctor plus the smoke cells (universal claims and a few
# observations, harness/tools/kernels/smoke.ts) under Debian's 6.1 cloud kernel and on the host, side by
# side. Hard-bounded to 10 minutes including installing qemu/debootstrap and building the image.
# Prints one line "kernels smoke: passed|FAILED|skipped — …" last, and exits
#   0 passed · 1 failed (a universal claim contradicted under a kernel, a suite crashed or a guest
#   hung) · 3 skipped (qemu cannot boot the kernel here, or setup could not finish in time; the
#   reason is printed).
set -uo pipefail
cd "$(dirname "$0")/../.."
KERNEL=${ZCPROBE_SMOKE_KERNEL:-linux-image-cloud-amd64}
BOUND_S=600
# kept across CI runs on this machine: rebuilt only when its inputs change (keys in the names)
export ZCPROBE_KERNELS_CACHE=${ZCPROBE_KERNELS_CACHE:-/var/cache/zcprobe-kernels}
out=captures/kernels-ci

mkdir -p captures
t0=$(date +%s)
# the guest's suite gets 300 s (the smoke takes ~1 min under TCG); qemu is killed 120 s after that
timeout -k 10 "$BOUND_S" node bin/zcprobe.js kernels --kernel "$KERNEL" --suite smoke --time-limit 300 --out "$out" 2>&1 | tee "$out.log"
rc=${PIPESTATUS[0]}
took=$(( $(date +%s) - t0 ))
case "$rc" in
  0) echo "kernels smoke: passed — $KERNEL vs the host, ${took} s (results: $out)"; exit 0 ;;
  1) echo "kernels smoke: FAILED — a universal claim was contradicted, a suite failed or a guest hung under $KERNEL (see above; results: $out)"; exit 1 ;;
  3) echo "kernels smoke: skipped — $(grep -m1 'cannot run the kernels here' "$out.log" | sed 's/^zcprobe kernels: //')"; exit 3 ;;
  124|137) echo "kernels smoke: skipped — not finished within ${BOUND_S} s (setup, image build and boots) on this machine"; exit 3 ;;
  *) echo "kernels smoke: FAILED — zcprobe kernels exited $rc (see above)"; exit 1 ;;
esac
