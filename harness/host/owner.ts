// Who owns a host resource, and is it still running? Pids are recycled, so an owner is (pid, start ticks) from /proc/<pid>/stat;
// resources named only by pid are judged by comparing the process's start time with the resource's creation time.
import { readdirSync, readFileSync } from 'node:fs';
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

/** Processes in process group `pgid` (field 5 of /proc/<pid>/stat), with their start ticks. */
export function processGroupMembers(pgid: number): Owner[] {
  const out: Owner[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X' || Number(rest[2]) !== pgid) continue;
    out.push({ pid: Number(name), startTicks: Number(rest[19]) });
  }
  return out;
}

/** The members of group `pgid` that belong to the group whose leader started at `leaderTicks`:
 * all of them while that leader runs; once it is gone, those started after it (a group's id is
 * not handed out again while any member is left, so they are the leader's). None when the pid now
 * leads another group. */
export function groupOf(pgid: number, leaderTicks: number): Owner[] {
  const leader = startTicksOf(pgid);
  if (leader !== null && leader !== leaderTicks) return [];
  return processGroupMembers(pgid).filter((m) => m.startTicks >= leaderTicks);
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
