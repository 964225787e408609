// Bounded external commands for the kernels runner: every call has a time limit, and a failure
// throws with the command and the tail of its stderr.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';

export const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin`, DEBIAN_FRONTEND: 'noninteractive' };

export class CommandError extends Error {}

function tail(text: string, lines = 5): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Runs `cmd args`, at most `timeoutMs`; returns stdout; throws CommandError on failure. */
export function run(cmd: string, args: string[], opts: { timeoutMs: number; cwd?: string; input?: string; stdio?: SpawnSyncOptions['stdio'] }): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: ENV, encoding: 'utf8', timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20, input: opts.input, stdio: opts.stdio });
  const what = `${cmd} ${args.join(' ')}`.slice(0, 200);
  if (r.error) throw new CommandError(`${what}: ${(r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `killed after ${opts.timeoutMs / 1000} s` : r.error.message}`);
  if (r.status !== 0) throw new CommandError(`${what}: exit ${r.status ?? r.signal}${r.stderr ? `: ${tail(r.stderr)}` : ''}`);
  return r.stdout ?? '';
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { env: ENV, stdio: 'ignore', timeout: 5000 }).status === 0;
}
