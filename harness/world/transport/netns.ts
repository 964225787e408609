// What every namespace-based transport shares: running `ip`/`tc` (bounded, with sbin on PATH),
// idempotent deletion, the per-process name counter behind `zcprobe-<pid>-<n>`, and the removal of
// namespaces a dead process left behind (the sweep in host/sweep.ts; scripts/cleanup.sh).
import { execFile, spawnSync } from 'node:child_process';
import { removeOrphanNetns, restoreDeadNicRuns } from '../../host/sweep.ts';

export const CMD_TIMEOUT_MS = 5000;
export const PREFIX = 'zcprobe-';
// Not-found answers from `ip` mean "already gone": teardown is idempotent.
const GONE_RE = /Cannot find device|No such file or directory|does not exist/;
// sbin is often missing from non-login PATHs (sudo, cron, CI).
export const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` };

/** "File exists" from ip: the caller retries under the next name. */
export class NameTaken extends Error {}
export const nameTaken = (e: Error): Error => (/File exists/.test(e.message) ? new NameTaken(e.message) : e);

export function run(cmd: 'ip' | 'tc', args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: CMD_TIMEOUT_MS, killSignal: 'SIGKILL', env: ENV }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = String(stderr).trim() || (err.killed ? `timed out after ${CMD_TIMEOUT_MS} ms` : err.message);
      reject(new Error(`${cmd} ${args.join(' ')}: ${why}`));
    });
  });
}

export const runGone = (args: string[]): Promise<unknown> =>
  run('ip', args).catch((e: Error) => { if (!GONE_RE.test(e.message)) throw e; });

/** The 'exit' pass of the cleanup registry runs only synchronous work, so teardown has a sync form. */
export function ipSyncGone(args: string[]): void {
  const r = spawnSync('ip', args, { timeout: CMD_TIMEOUT_MS, encoding: 'utf8', env: ENV });
  const err = r.error?.message ?? (r.status !== 0 ? r.stderr.trim() || `exit ${r.status}` : '');
  if (err && !GONE_RE.test(err)) throw new Error(`ip ${args.join(' ')}: ${err}`);
}

export async function listNetns(): Promise<string[]> {
  const out = (await run('ip', ['-j', 'netns', 'list'])).trim();
  return out ? (JSON.parse(out) as { name: string }[]).map((n) => n.name) : [];
}

let counter = 0; // per-process topology index, shared by every transport: zcprobe-<pid>-<counter>
/** The next free index for this process's names (namespaces zcprobe-<pid>-<n>, devices with n). */
export function nextIndex(): number {
  return counter++;
}
export const netnsName = (n: number): string => `${PREFIX}${process.pid}-${n}`;
export const netnsPath = (name: string): string => `/run/netns/${name}`;
/** Interface names hold 15 bytes: the pid modulo 1e5 keeps them short (clashes retry). */
export const shortId = (): number => process.pid % 100000;

/** Gives back the interfaces of dead nic runs, then deletes `zcprobe-<pid>-*` and
 * `zcprobe-probe-*` namespaces whose owner is gone and that no live run holds in its ledger
 * (host/sweep.ts; a recycled pid does not count); returns the namespaces' names. */
export async function removeStaleTopologies(): Promise<string[]> {
  await restoreDeadNicRuns();
  return removeOrphanNetns();
}
