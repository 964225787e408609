// One bounded qemu run: the argument list (pure), and a runner that kills the guest at its limit, on our exit or interrupt, and via
// setpriv --pdeathsig when we die; a state file lets scripts/kernels/cleanup.sh remove what a crashed owner left.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerCleanup } from '../../host/exit-hooks.ts';
import { ENV, hasCommand } from './exec.ts';
import { STATE_DIR } from './paths.ts';

export type Accel = { name: 'kvm'; cpu: string } | { name: 'tcg' };

export interface BootSpec {
  accel: Accel;
  vmlinuz: string;
  initrd: string;
  /** extra kernel command line words */
  append: string[];
  /** virtio disks in order: /dev/vda, /dev/vdb, … */
  disks: { path: string; snapshot?: boolean; readonly?: boolean }[];
  memoryMiB: number;
  cpus: number;
  consoleFile: string;
}

export function qemuArgs(b: BootSpec): string[] {
  const accel = b.accel.name === 'kvm' ? ['-accel', 'kvm', '-cpu', b.accel.cpu] : ['-accel', 'tcg,thread=multi', '-cpu', 'max'];
  const disks = b.disks.flatMap((d) => ['-drive', `file=${d.path},format=raw,if=virtio${d.snapshot ? ',snapshot=on' : ''}${d.readonly ? ',readonly=on' : ''}`]);
  return [
    ...accel,
    '-smp', String(b.cpus),
    '-m', `${b.memoryMiB}M`,
    '-kernel', b.vmlinuz,
    '-initrd', b.initrd,
    // panic=-1 + -no-reboot: a guest that panics (or whose init exits) stops qemu at once
    '-append', ['console=ttyS0', 'panic=-1', 'loglevel=4', ...b.append].join(' '),
    ...disks,
    // no network device: the suites talk only over the guest's loopback and its own namespaces
    '-nic', 'none',
    '-display', 'none',
    '-monitor', 'none',
    '-serial', `file:${b.consoleFile}`,
    '-no-reboot',
  ];
}

export interface QemuOutcome {
  /** exited: qemu stopped by itself (guest powered off or panicked); timeout: killed at the limit;
   * stopped: killed because `until` said so */
  end: 'exited' | 'timeout' | 'stopped';
  code: number | null;
  /** the signal that ended qemu (SIGKILL at the limit; SIGABRT when qemu itself aborts) */
  signal: string | null;
  ms: number;
  /** qemu's own stderr (not the guest console), last lines */
  stderr: string;
}

let seq = 0;

/** Runs qemu with `args` for at most `timeoutMs`; `until` (polled every 200 ms) may stop it early.
 * `tempFiles` are listed in the state file for a cleanup after a crash (the caller removes them). */
export async function runQemu(
  args: string[], opts: { timeoutMs: number; tmpDir: string; tempFiles: string[]; until?: () => boolean },
): Promise<QemuOutcome> {
  const bin = 'qemu-system-x86_64';
  // qemu's snapshot=on overlays go to TMPDIR: ours, so they go with the run's directory
  const env = { ...ENV, TMPDIR: opts.tmpDir };
  const [cmd, argv] = hasCommand('setpriv') ? ['setpriv', ['--pdeathsig', 'KILL', '--', bin, ...args]] : [bin, args];
  const t0 = performance.now();
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const kill = () => { try { child.kill('SIGKILL'); } catch { /* already gone */ } };
  const unregister = registerCleanup(`qemu ${child.pid}`, kill);
  const state = join(STATE_DIR, `kernels-${process.pid}-${++seq}.state`);
  try {
    mkdirSync(STATE_DIR, { recursive: true });
    writeFileSync(state, [`owner=${process.pid}`, `qemu=${child.pid}`, ...opts.tempFiles.map((f) => `file=${f}`), `dir=${opts.tmpDir}`].join('\n') + '\n');
  } catch {
    // no writable state dir (not root): the in-process cleanups and pdeathsig still hold
  }
  let end: QemuOutcome['end'] = 'exited';
  const timer = setTimeout(() => { end = 'timeout'; kill(); }, opts.timeoutMs);
  const poll = opts.until ? setInterval(() => { if (opts.until!()) { end = 'stopped'; kill(); } }, 200) : undefined;
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('error', (e) => { stderr += `\n${e.message}`; resolve({ code: null, signal: null }); });
    child.on('exit', (c, sig) => resolve({ code: c, signal: sig }));
  });
  clearTimeout(timer);
  if (poll) clearInterval(poll);
  unregister();
  rmSync(state, { force: true });
  return { end, code, signal, ms: performance.now() - t0, stderr: stderr.trim().split('\n').slice(-3).join('\n') };
}

/** The console file's text (for the probe marker and a hung guest's report). */
export function consoleText(file: string): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8');
}

/** Touches the console file so qemu appends to a known-empty file. */
export function emptyFile(path: string): void {
  closeSync(openSync(path, 'w'));
}
