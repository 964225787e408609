#!/usr/bin/env bash
# Does a tcpdump on the sending device turn zero-copy completions into COPIED? Over veth with a
# native XDP_PASS program on the receiving peer (no receive-side skb_copy_ubufs), counts COPIED
# completions with the sender's capture, with the receiving side's instead, and with none.
# usage (root): bash scripts/capture-placement/measure.sh [N=10]   (needs python3 and bpffs support)
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-10}"
command -v python3 >/dev/null || { echo "measure.sh: needs python3 (to load the XDP program with bpf(2))" >&2; exit 1; }
bpffs="$(mktemp -d /tmp/zcprobe-bpffs-XXXXXX)"
cleanup() { umount "$bpffs" 2>/dev/null || true; rmdir "$bpffs"; }
trap cleanup EXIT
mount -t bpf bpf "$bpffs"
python3 scripts/capture-placement/xdp-pass.py "$bpffs/pass" >/dev/null
for method in msg-zerocopy io-uring-zc; do
  for placement in sender arrival none; do
    node --import=tsx scripts/capture-placement/copied.ts "$placement" "$bpffs/pass" "$n" "$method"
  done
done
