// Who owns a host resource, and is it still running? Pids are recycled, so an owner is (pid, start ticks) from /proc/<pid>/stat;
// resources named only by pid are judged by comparing the process's start time with the resource's creation time.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export interface Owner {
  pid: number;
  /** field 22 of /proc/<pid>/stat: start time, clock ticks after boot */
  startTicks: number;
}

/** start time of `pid` in ticks, or null when no such process (or it is a zombie) */
export function startTicksOf(pid: number): number | null {
  if (!(Number.isInteger(pid) && pid > 0)) return null;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: the fields after the last ')' are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return null; // exited, waiting to be reaped
  const ticks = Number(rest[19]);
  return Number.isFinite(ticks) ? ticks : null;
}

let me: Owner | undefined;
export function selfOwner(): Owner {
  me ??= { pid: process.pid, startTicks: startTicksOf(process.pid) ?? 0 };
  return me;
}

export function isAlive(o: Owner): boolean {
  return startTicksOf(o.pid) === o.startTicks;
}

let clock: { bootMs: number; tickMs: number } | undefined;
function bootClock(): { bootMs: number; tickMs: number } {
  if (!clock) {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).stdout?.trim());
    clock = { bootMs: Number(btime?.[1] ?? 0) * 1000, tickMs: 1000 / (hz > 0 ? hz : 100) };
  }
  return clock;
}

/** epoch ms at which `pid` started, or null when it is not running */
export function startedAtMs(pid: number): number | null {
  const ticks = startTicksOf(pid);
  if (ticks === null) return null;
  const c = bootClock();
  return c.bootMs + ticks * c.tickMs;
}

// btime has whole-second resolution: a process started up to this long after the resource may
// still be its creator, and is given the benefit of the doubt (kept, never removed by mistake).
export const OWNER_SLACK_MS = 2000;

/** Could the process now running as `pid` have created a resource at `createdAtMs`? */
export function couldOwn(pid: number, createdAtMs: number): boolean {
  const started = startedAtMs(pid);
  return started !== null && started <= createdAtMs + OWNER_SLACK_MS;
}
