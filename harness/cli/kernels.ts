// zcprobe kernels: runs a suite under each kernel (qemu guests; the host's own too unless --no-host)
// and prints them side by side. Exit 1: a universal claim contradicted, a test failed, a suite crashed
// or a guest hung; 3 (CANNOT_RUN): no tools, package, image or boot here. Findings never fail a run.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareKernels, renderKernelsView } from '../tools/kernels/compare.ts';
import { resolveKernel, type KernelTarget } from '../tools/kernels/kernel-source.ts';
import { PROJECT_ROOT } from '../tools/kernels/paths.ts';
import { loadKernelResults } from '../tools/kernels/results.ts';
import { runKernels, SUITES, type RunAll, type Suite } from '../tools/kernels/runner.ts';
import { ensureHostTools } from '../tools/kernels/setup.ts';
import { CAPTURES_DIR, newRunId } from '../session/session.ts';
import { flagValue, nonNegativeInt, oneOf, UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';

const OPTIONS = {
  kernel: { type: 'string', multiple: true, value: '<pkg|path>', help: 'a Debian kernel package (e.g. linux-image-cloud-amd64), a .deb or a vmlinuz; repeatable' },
  suite: { type: 'string', value: '<name>', help: `what to run under each kernel: ${SUITES.join(', ')} (default smoke)` },
  'test-file': { type: 'string', multiple: true, value: '<path>', help: 'suite test: run only this ava file (repeatable), e.g. properties/sendfile.test.ts' },
  'no-host': { type: 'boolean', help: 'do not run the suite on the host kernel for comparison' },
  accel: { type: 'string', value: '<mode>', help: 'auto (KVM if a probe boot works, else TCG), kvm or tcg (default auto)' },
  'time-limit': { type: 'string', value: '<s>', help: 'seconds each kernel\'s suite may take (default: smoke 420, doctor 120, test 5400, report 5400)' },
  memory: { type: 'string', value: '<MiB>', help: 'guest memory (default 3072)' },
  out: { type: 'string', value: '<dir>', help: 'results directory (default captures/kernels-<run-id>)' },
  json: { type: 'boolean', help: 'print the comparison as JSON' },
} satisfies FlagSpecs;

/** exit status: the kernels could not be run on this host (a reason was printed) */
export const CANNOT_RUN = 3;

const DEFAULT_LIMIT_S: Record<Suite, number> = { doctor: 120, smoke: 420, test: 5400, report: 5400 };

export const command = defineCommand({
  name: 'kernels',
  usage: '--kernel <pkg|path> [--kernel …] [--suite doctor|smoke|test|report]',
  options: OPTIONS,
  run: kernels,
});

async function kernels(flags: FlagValues<typeof OPTIONS>): Promise<number> {
  const specs = flags.kernel ?? [];
  if (!specs.length) throw new UsageError('needs at least one --kernel (e.g. --kernel linux-image-cloud-amd64)');
  const suite = flagValue(flags, 'suite', oneOf(SUITES)) ?? 'smoke';
  const accel = flagValue(flags, 'accel', oneOf(['auto', 'kvm', 'tcg'] as const)) ?? 'auto';
  const timeLimitS = flagValue(flags, 'time-limit', nonNegativeInt) ?? DEFAULT_LIMIT_S[suite];
  const memoryMiB = flagValue(flags, 'memory', nonNegativeInt) ?? 3072;
  if (timeLimitS < 10) throw new UsageError('--time-limit must be at least 10 s');
  if (memoryMiB < 512) throw new UsageError('--memory must be at least 512 MiB');
  const testFiles = flags['test-file'];
  if (testFiles && suite !== 'test') throw new UsageError('--test-file goes with --suite test');
  for (const f of testFiles ?? []) if (!existsSync(join(PROJECT_ROOT, f))) throw new UsageError(`--test-file ${f}: no such file in the project`);
  const outDir = flags.out ?? join(CAPTURES_DIR, `kernels-${newRunId()}`);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const cannot = (why: string) => {
    process.stderr.write(`zcprobe kernels: cannot run the kernels here: ${why}\n`);
    return CANNOT_RUN;
  };
  const kernels: KernelTarget[] = [];
  let all: RunAll;
  try {
    ensureHostTools(log);
    if (!flags['no-host']) kernels.push(await resolveKernel('host'));
    for (const s of specs) kernels.push(await resolveKernel(s).catch((e: Error) => Promise.reject(new Error(`--kernel ${s}: ${e.message}`))));
    all = await runKernels(kernels, { suite, outDir, accel, timeLimitS, memoryMiB, log, ...(testFiles ? { testFiles } : {}) });
  } catch (e) {
    return cannot((e as Error).message);
  }
  const results = all.runs.map(loadKernelResults);
  const cmp = compareKernels(results);
  writeFileSync(join(outDir, 'kernels.md'), renderKernelsView(cmp, 'markdown'));
  writeFileSync(join(outDir, 'kernels.json'), JSON.stringify(cmp, null, 2) + '\n');
  if (flags.json) process.stdout.write(JSON.stringify({ outDir, image: all.image, accel: all.accel, runs: all.runs, comparison: cmp }, null, 2) + '\n');
  else process.stdout.write(renderKernelsView(cmp, 'text'));
  log(`kernels: results in ${outDir}`);
  const hung = all.runs.filter((r) => r.end === 'timeout' || (r.end === 'completed' && r.suiteStatus !== 0));
  if (cmp.failures > 0 || hung.length) return 1;
  const unbootable = all.runs.filter((r) => r.end === 'failed');
  if (unbootable.length) return cannot(unbootable.map((r) => `${r.label}: ${r.error}`).join('; '));
  return 0;
}
