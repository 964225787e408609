// Runs one suite under each kernel (qemu from the cached root image, results back on the job disk) or, for "host", here directly.
// Every run is bounded; one that hit its limit is reported as a timeout with whatever results it left.
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { registerCleanup } from '../../host/exit-hooks.ts';
import { chooseAccel, type AccelChoice } from './accel.ts';
import { buildInitramfs } from './initramfs.ts';
import { makeJobDisk, readJobResults } from './job-disk.ts';
import type { GuestKernel, KernelTarget } from './kernel-source.ts';
import { cacheDir, PROJECT_ROOT } from './paths.ts';
import { emptyFile, qemuArgs, runQemu } from './qemu.ts';
import { ensureRootImage, ext4FromDir, type RootImage } from './root-image.ts';
import { run } from './exec.ts';

export const SUITES = ['doctor', 'smoke', 'test', 'report'] as const;
export type Suite = (typeof SUITES)[number];

/** Room on the job disk for each suite's results (sparse: only what is written takes space). */
const JOB_DISK_MIB: Record<Suite, number> = { doctor: 64, smoke: 512, test: 2048, report: 4096 };
/** Boot and power-off on top of the suite's own limit (TCG boots in ~10 s). */
const BOOT_MARGIN_S = 120;

export interface KernelRun {
  label: string;
  spec: string;
  release: string;
  where: 'host' | 'qemu';
  /** qemu: the accelerator and why */
  accel?: string;
  /** completed: the suite ran to its end (whatever it found); timeout: killed at the limit;
   * failed: it could not run (boot failure, no results) */
  end: 'completed' | 'timeout' | 'failed';
  /** the suite script's exit status (0: every step ran and passed) */
  suiteStatus: number | null;
  error?: string;
  /** where its results are (kernel, doctor.json, steps.tsv, report/, tap.txt, …) */
  dir: string;
  /** wallS: the whole run (image disks, qemu, reading results); qemuS: qemu's own run time;
   * bootS: the guest's uptime when its init started; suiteS: the suite inside the guest */
  timings: { wallS: number; qemuS?: number; bootS?: number; suiteS?: number };
}

export interface RunOptions {
  suite: Suite;
  outDir: string;
  accel: 'auto' | 'kvm' | 'tcg';
  /** the suite's own time limit per kernel */
  timeLimitS: number;
  memoryMiB: number;
  /** suite test: only these ava files */
  testFiles?: string[];
  log: (line: string) => void;
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._+-]+/g, '_');
const secs = (ms: number) => Math.round(ms / 100) / 10;

function readNumber(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const n = Number(readFileSync(path, 'utf8').trim());
  return Number.isFinite(n) ? n : undefined;
}

/** The kernel's modules as an ext4 image (cached): the guest mounts it on /lib/modules. */
function modulesImage(k: GuestKernel): string {
  const dir = join(cacheDir(), 'kernels', k.id);
  const image = join(dir, 'modules.ext4');
  if (existsSync(image)) return image;
  mkdirSync(dir, { recursive: true });
  const parent = dirname(k.modulesDir);
  let src = parent;
  let staging: string | undefined;
  if (readdirSync(parent).some((d) => d !== basename(k.modulesDir))) {
    // e.g. the host's /lib/modules: only this release goes in
    staging = join(dir, 'modules.staging');
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    run('cp', ['-a', k.modulesDir, staging], { timeoutMs: 300_000 });
    src = staging;
  }
  try {
    ext4FromDir(src, `${image}.partial-${process.pid}`, 'zcprobe-modules', 32);
    renameSync(`${image}.partial-${process.pid}`, image);
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
  return image;
}

async function runGuest(k: GuestKernel, root: RootImage, accel: AccelChoice, tmp: string, dest: string, o: RunOptions): Promise<KernelRun> {
  const t0 = performance.now();
  const base = { label: k.label, spec: k.spec, release: k.release, where: 'qemu' as const, accel: accel.why, dir: dest };
  const initrd = join(tmp, 'initrd.cpio');
  writeFileSync(initrd, buildInitramfs({ modulesDir: k.modulesDir, busybox: join(root.baseDir, 'bin', 'busybox') }));
  const modules = modulesImage(k);
  const job = join(tmp, 'job.ext4');
  makeJobDisk(job, { suite: o.suite, timeLimitS: o.timeLimitS, ...(o.testFiles ? { testFiles: o.testFiles } : {}) }, JOB_DISK_MIB[o.suite]);
  const consoleFile = join(tmp, 'console.log');
  emptyFile(consoleFile);
  const args = qemuArgs({
    accel: accel.accel, vmlinuz: k.vmlinuz, initrd, append: [], memoryMiB: o.memoryMiB, cpus: 2, consoleFile,
    disks: [{ path: root.path, snapshot: true }, { path: job }, { path: modules, readonly: true }],
  });
  o.log(`kernels: booting ${k.label} (${k.release}) under ${accel.accel.name.toUpperCase()}, suite ${o.suite}, limit ${o.timeLimitS} s`);
  const q = await runQemu(args, { timeoutMs: (o.timeLimitS + BOOT_MARGIN_S) * 1000, tmpDir: tmp, tempFiles: [job, initrd, consoleFile] });
  mkdirSync(dest, { recursive: true });
  copyFileSync(consoleFile, join(dest, 'console.log'));
  let error: string | undefined;
  try {
    const back = join(tmp, 'results');
    readJobResults(job, back);
    // a copy, not a rename: the cache and the results directory may be on different filesystems
    for (const f of readdirSync(join(back, 'out'))) cpSync(join(back, 'out', f), join(dest, f), { recursive: true });
  } catch (e) {
    error = `no results from the job disk: ${(e as Error).message}`;
  }
  const suiteStatus = readNumber(join(dest, 'suite.status')) ?? null;
  const bootS = readNumber(join(dest, 'uptime-at-init'));
  const endS = readNumber(join(dest, 'uptime-at-end'));
  const wallS = secs(performance.now() - t0);
  const timings = {
    wallS,
    qemuS: secs(q.ms),
    ...(bootS !== undefined ? { bootS } : {}),
    ...(bootS !== undefined && endS !== undefined ? { suiteS: Math.round((endS - bootS) * 10) / 10 } : {}),
  };
  if (q.end === 'timeout') return { ...base, end: 'timeout', suiteStatus, error: `killed after ${o.timeLimitS + BOOT_MARGIN_S} s (the guest did not power off); console: ${join(dest, 'console.log')}`, timings };
  if (suiteStatus === null) {
    const why = error ?? 'the guest wrote no suite status';
    return { ...base, end: 'failed', suiteStatus, error: `${why}${q.stderr ? `; qemu: ${q.stderr.split('\n')[0]}` : ''}; console: ${join(dest, 'console.log')}`, timings };
  }
  // timeout(1) inside the guest: 124 after SIGTERM, 137 when it had to SIGKILL
  if (suiteStatus === 124 || suiteStatus === 137) return { ...base, end: 'timeout', suiteStatus, error: `the suite hit its limit of ${o.timeLimitS} s inside the guest (partial results kept)`, timings };
  return { ...base, end: 'completed', suiteStatus, timings };
}

async function runHost(k: KernelTarget, dest: string, o: RunOptions): Promise<KernelRun> {
  const t0 = performance.now();
  mkdirSync(dest, { recursive: true });
  o.log(`kernels: running suite ${o.suite} on the host (${k.release}), limit ${o.timeLimitS} s`);
  // its own process group, so the limit kills the whole suite (ava workers, tcpdump, receivers)
  const child = spawn('bash', [join(PROJECT_ROOT, 'scripts', 'kernels', 'suite.sh'), o.suite, dest], {
    cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ZCPROBE_TEST_FILES: (o.testFiles ?? []).join(' ') },
  });
  const logFile = join(dest, 'suite.log');
  const chunks: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stderr.on('data', (d: Buffer) => chunks.push(d));
  const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  const unregister = registerCleanup(`host suite ${child.pid}`, killGroup);
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; killGroup(); }, o.timeLimitS * 1000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  unregister();
  writeFileSync(logFile, Buffer.concat(chunks));
  const base = { label: k.label, spec: k.spec, release: k.release, where: 'host' as const, dir: dest, timings: { wallS: secs(performance.now() - t0), suiteS: secs(performance.now() - t0) } };
  if (timedOut) return { ...base, end: 'timeout', suiteStatus: null, error: `killed after ${o.timeLimitS} s` };
  return { ...base, end: 'completed', suiteStatus: code };
}

export interface RunAll {
  runs: KernelRun[];
  image?: { path: string; bytes: number; built: RootImage['built'] };
  accel?: string;
}

/** Runs the suite under every kernel, one after the other (they share the two CPUs). */
export async function runKernels(kernels: KernelTarget[], o: RunOptions): Promise<RunAll> {
  mkdirSync(o.outDir, { recursive: true });
  // what a crashed run left (its owner is gone): qemu processes, job disks, run directories
  const left = run('bash', [join(PROJECT_ROOT, 'scripts', 'kernels', 'cleanup.sh'), cacheDir()], { timeoutMs: 60_000 }).trim();
  if (left) o.log(`kernels: cleaned up after an earlier run:\n${left}`);
  const guests = kernels.filter((k): k is GuestKernel => k.kind === 'guest');
  const tmpRoot = join(cacheDir(), 'runs', `${process.pid}-${Date.now()}`);
  mkdirSync(tmpRoot, { recursive: true });
  const removeTmp = () => rmSync(tmpRoot, { recursive: true, force: true });
  const unregister = registerCleanup(`kernels temp ${tmpRoot}`, removeTmp);
  const out: RunAll = { runs: [] };
  try {
    let root: RootImage | undefined;
    let accel: AccelChoice | undefined;
    if (guests.length) {
      root = await ensureRootImage(o.log);
      out.image = { path: root.path, bytes: root.bytes, built: root.built };
      o.log(`kernels: root image ${root.path} (${(root.bytes / (1 << 20)).toFixed(0)} MiB${root.built ? `, built in ${secs(root.built.imageMs)} s${root.built.baseMs !== null ? ` + debootstrap ${secs(root.built.baseMs)} s` : ''}` : ', cached'})`);
    }
    for (const [i, k] of kernels.entries()) {
      const dest = join(o.outDir, `${i + 1}-${safeName(k.label)}`);
      if (k.kind === 'host') {
        out.runs.push(await runHost(k, dest, o));
        continue;
      }
      const tmp = join(tmpRoot, String(i + 1));
      mkdirSync(tmp, { recursive: true });
      try {
        if (!accel) {
          const probeInitrd = join(tmp, 'probe-initrd.cpio');
          writeFileSync(probeInitrd, buildInitramfs({ modulesDir: k.modulesDir, busybox: join(root!.baseDir, 'bin', 'busybox') }));
          accel = await chooseAccel({ mode: o.accel, vmlinuz: k.vmlinuz, initrd: probeInitrd, tmpDir: tmp });
          out.accel = accel.why;
          o.log(`kernels: ${accel.why}`);
        }
        out.runs.push(await runGuest(k, root!, accel, tmp, dest, o));
      } catch (e) {
        out.runs.push({ label: k.label, spec: k.spec, release: k.release, where: 'qemu', end: 'failed', suiteStatus: null, error: (e as Error).message, dir: dest, timings: { wallS: 0 } });
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      const r = out.runs.at(-1)!;
      o.log(`kernels: ${k.label}: ${r.end}${r.suiteStatus !== null ? ` (suite exit ${r.suiteStatus})` : ''}, ${r.timings.wallS} s${r.error ? ` — ${r.error}` : ''}`);
    }
    writeFileSync(join(o.outDir, 'runs.json'), JSON.stringify(out, null, 2) + '\n');
    return out;
  } finally {
    unregister();
    removeTmp();
  }
}
