// The host↔guest channel that does not depend on the console: a small ext4 image (mke2fs -d) with job.env that the guest mounts as
// /dev/vdb and writes out/ into; the host copies out/ with debugfs, never mounting anything of the guest's.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.ts';
import { ext4FromDir } from './root-image.ts';

export interface Job {
  suite: string;
  /** the guest's own bound on the suite (it powers off after); the host's is a little longer */
  timeLimitS: number;
  /** suite test: only these ava files (project-relative) */
  testFiles?: string[];
}

/** job.env, sourced by the guest's shell: only plain words, so nothing needs quoting. */
export function jobEnv(job: Job): string {
  const words = [job.suite, ...(job.testFiles ?? [])];
  const bad = words.find((w) => !/^[A-Za-z0-9_./-]+$/.test(w));
  if (bad !== undefined) throw new Error(`job: "${bad}" is not a plain word (letters, digits, _ . / -)`);
  return `SUITE=${job.suite}\nTIME_LIMIT_S=${Math.round(job.timeLimitS)}\nexport ZCPROBE_TEST_FILES="${(job.testFiles ?? []).join(' ')}"\n`;
}

/** Makes `image` (sparse: `sizeMiB` is room for results, e.g. pcaps of a report) holding job.env. */
export function makeJobDisk(image: string, job: Job, sizeMiB: number): void {
  const dir = `${image}.d`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'out'), { recursive: true });
  writeFileSync(join(dir, 'job.env'), jobEnv(job));
  try {
    ext4FromDir(dir, image, 'zcprobe-job', sizeMiB);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Copies the guest's out/ from the job disk into `dest` (which must not exist yet). */
export function readJobResults(image: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  run('debugfs', ['-R', `rdump /out ${dest}`, image], { timeoutMs: 300_000 });
  if (!existsSync(join(dest, 'out'))) throw new Error(`the job disk ${image} has no out/ directory`);
}
