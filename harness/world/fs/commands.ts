// Running mkfs/losetup/mount/umount: bounded, with sbin on PATH, failures as one-line errors.
import { execFile, spawnSync } from 'node:child_process';

// sbin is often missing from non-login PATHs (sudo, cron, CI).
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` };

function failure(cmd: string, args: string[], why: string): Error {
  return new Error(`${cmd} ${args.join(' ')}: ${why}`);
}

const firstLine = (s: string): string => s.trim().split('\n').find((l) => l.trim()) ?? '';

/** Runs a command, resolves with its stdout; rejects with the command and its first stderr line. */
export function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', env: ENV }, (err, stdout, stderr) => {
      if (!err) return resolve(String(stdout));
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : err.killed ? `timed out after ${timeoutMs} ms` : firstLine(String(stderr)) || err.message;
      reject(failure(cmd, args, why));
    });
  });
}

/** The synchronous form, for teardown at process exit (no event loop left there). */
export function runSync(cmd: string, args: string[], timeoutMs: number): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { env: ENV, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  const ok = r.status === 0 && !r.error;
  return { ok, output: ok ? r.stdout : r.error ? r.error.message : firstLine(r.stderr) || `exit ${r.status}` };
}
