// KVM or TCG: KVM only when a probe boot proves it works — the kernel with the initramfs in probe
// mode must print its marker on the console within a few seconds — else TCG, with the reason.
// (On some hosts /dev/kvm exists but `-cpu host` fails on an MSR, or the guest hangs silently.)
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { PROBE_MARKER } from './initramfs.ts';
import { consoleText, emptyFile, qemuArgs, runQemu, type Accel } from './qemu.ts';

export interface AccelChoice {
  accel: Accel;
  /** one line: why this accelerator */
  why: string;
}

export const TCG: Accel = { name: 'tcg' };
/** A KVM boot reaches the initramfs marker in ~1 s; 15 s leaves room for a loaded host. */
const PROBE_TIMEOUT_MS = 15_000;

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim())?.trim() ?? '';
}

/** Probe-boots `vmlinuz`+`initrd` under KVM; `mode` auto falls back to TCG, kvm fails instead. */
export async function chooseAccel(opts: { mode: 'auto' | 'kvm' | 'tcg'; vmlinuz: string; initrd: string; tmpDir: string }): Promise<AccelChoice> {
  if (opts.mode === 'tcg') return { accel: TCG, why: 'TCG (asked for with --accel tcg)' };
  const no = (why: string): AccelChoice => {
    if (opts.mode === 'kvm') throw new Error(`--accel kvm: ${why}`);
    return { accel: TCG, why: `TCG, because ${why}` };
  };
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch (e) {
    return no(`/dev/kvm cannot be opened (${(e as NodeJS.ErrnoException).code})`);
  }
  const kvm: Accel = { name: 'kvm', cpu: 'host' };
  const consoleFile = join(opts.tmpDir, 'kvm-probe.console');
  emptyFile(consoleFile);
  const args = qemuArgs({ accel: kvm, vmlinuz: opts.vmlinuz, initrd: opts.initrd, append: ['zcprobe.probe'], disks: [], memoryMiB: 512, cpus: 1, consoleFile });
  const seen = () => consoleText(consoleFile).includes(PROBE_MARKER);
  const r = await runQemu(args, { timeoutMs: PROBE_TIMEOUT_MS, tmpDir: opts.tmpDir, tempFiles: [consoleFile], until: seen });
  if (seen()) return { accel: kvm, why: `KVM (a probe boot reached the initramfs in ${(r.ms / 1000).toFixed(1)} s)` };
  if (r.end === 'timeout') {
    const lines = consoleText(consoleFile).trim().split('\n').filter(Boolean).length;
    return no(`a KVM probe boot printed ${lines ? `${lines} console lines but no marker` : 'no console line'} within ${PROBE_TIMEOUT_MS / 1000} s`);
  }
  return no(`a KVM probe boot failed: qemu ${r.signal ? `died of ${r.signal}` : `exited ${r.code}`}${r.stderr ? `: ${firstLine(r.stderr)}` : ''}`);
}
