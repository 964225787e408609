// Crash recovery: removes what dead zcprobe runs left, never a live run's (every run's start, `zcprobe cleanup`, scripts/cleanup.sh):
// dead owners' ledgers, then pid-named leftovers no live ledger lists, then sysctl overrides whose users died (docs/operating.md).
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { settleDeadSysctlUsers } from './sysctl.ts';
import { readStateFile, removeStateFile, restoreSteps, stateFiles } from './nic-state.ts';
import { describeResource, readLedgers, type Resource } from './ledger.ts';
import { withLock } from './lock.ts';
import { couldOwn, groupOf, isAlive, OWNER_SLACK_MS, startedAtMs, startTicksOf } from './owner.ts';
import { stateDir } from './state-dir.ts';
import { workDirBase } from './workdir.ts';

const CMD_TIMEOUT_MS = 10_000;
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` };
// Not-found answers mean "already gone": every removal is idempotent.
const GONE_RE = /Cannot find device|No such file or directory|does not exist|not mounted|no mount point/i;
/** zcprobe-<pid>-… and zcprobe-probe-<pid>[-…]: the owner pid is in the name */
export const OWNED_NAME_RE = /^zcprobe-(?:probe-)?(\d+)(?:-|$)/;

export interface SweepReport {
  removed: string[];
  /** interfaces given back to the host (a dead nic run's ports), as they were before it */
  restored: string[];
  /** sysctl values put back (or re-applied for the remaining users) */
  sysctls: string[];
  /** resources of live runs that were left alone */
  kept: string[];
  errors: string[];
}

function cmd(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: CMD_TIMEOUT_MS, killSignal: 'SIGKILL', env: ENV }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      reject(new Error(`${file} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
    });
  });
}
const gone = (p: Promise<unknown>): Promise<void> => p.then(() => {}, (e: Error) => { if (!GONE_RE.test(e.message)) throw e; });

function mountPoints(): Set<string> {
  // /proc/self/mountinfo field 5 is the mount point, with spaces etc. as octal escapes.
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  return new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => unescape(l.split(' ')[4]!)));
}

async function loopBacking(device: string): Promise<string | null> {
  const out = await cmd('losetup', ['--list', '--noheadings', '--raw', '-O', 'NAME,BACK-FILE']).catch(() => '');
  for (const line of out.split('\n')) {
    const [name, ...file] = line.trim().split(' ');
    if (name === device) return file.join(' ').replace(/ \(deleted\)$/, '');
  }
  return null;
}

function safeWorkDir(path: string): boolean {
  return isAbsolute(path) && basename(path).startsWith('zcprobe-') && path.split('/').filter(Boolean).length >= 2;
}

/** Removes one resource of a dead owner; idempotent. */
export async function removeResource(r: Resource): Promise<void> {
  switch (r.kind) {
    case 'process':
      // Only the very process recorded: a recycled pid has another start time.
      if (startTicksOf(r.pid) === r.startTicks) process.kill(r.pid, 'SIGKILL');
      return;
    case 'process-group':
      // A server's master and the workers it forked (they outlive a killed master).
      for (const m of groupOf(r.pgid, r.startTicks)) {
        try {
          process.kill(m.pid, 'SIGKILL');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
        }
      }
      return;
    case 'mount':
      if (!mountPoints().has(r.path)) return;
      await cmd('umount', [r.path]).catch(() => cmd('umount', ['-l', r.path])); // busy: detach lazily
      return;
    case 'loop':
      if ((await loopBacking(r.device)) === r.backing) await gone(cmd('losetup', ['-d', r.device]));
      return;
    case 'link': {
      const shown = await cmd('ip', ['-j', 'link', 'show', 'dev', r.name]).catch(() => '[]');
      const [now] = JSON.parse(shown.trim() || '[]') as { ifindex: number }[];
      if (now?.ifindex === r.ifindex) await gone(cmd('ip', ['link', 'del', r.name]));
      return;
    }
    case 'netns':
      await gone(cmd('ip', ['netns', 'del', r.name]));
      return;
    case 'workdir':
      if (!safeWorkDir(r.path)) throw new Error(`refusing to remove ${r.path}: not a zcprobe-* work directory`);
      rmSync(r.path, { recursive: true, force: true });
      return;
  }
}

async function listNetns(): Promise<string[]> {
  const out = (await cmd('ip', ['-j', 'netns', 'list']).catch(() => '')).trim();
  return out ? (JSON.parse(out) as { name: string }[]).map((n) => n.name) : [];
}

// The creation time of a resource we only know by name; ctime ≥ creation, so the real owner
// always passes couldOwn (and a pid recycled in between is judged conservatively: kept).
function createdAtMs(path: string): number | null {
  try {
    const st = lstatSync(path);
    return st.birthtimeMs > 0 ? Math.min(st.birthtimeMs, st.ctimeMs) : st.ctimeMs;
  } catch {
    return null;
  }
}

/** Is a resource named with `pid`, made at `path`'s creation time, an orphan? */
function orphaned(name: string, path: string): boolean {
  const m = OWNED_NAME_RE.exec(name);
  if (!m) return false;
  const made = createdAtMs(path);
  return made !== null && !couldOwn(Number(m[1]), made);
}

/** Namespaces named after a pid that no longer runs (and in no live ledger); returns their names. */
/** Gives back the interfaces of nic runs whose process is gone (state files written by
 * transport/nic-state.ts before anything changed), before their namespace is deleted: deleting it
 * with IF2 inside would destroy a virtual port or strip a physical one. A pid now owned by a
 * process started after the state file was written does not count as the owner. */
export async function restoreDeadNicRuns(): Promise<string[]> {
  const restored: string[] = [];
  for (const file of stateFiles()) {
    const state = readStateFile(file);
    if (couldOwn(state.pid, statSync(file).mtimeMs)) continue;
    for (const step of restoreSteps(state, process.pid))
      await cmd('ip', step.args).catch((e: Error) => { if (!step.tolerate?.test(e.message)) throw e; });
    removeStateFile(file);
    restored.push(`nic pair ${state.if1.name},${state.if2.name} (pid ${state.pid}, dead)`);
  }
  return restored;
}

export async function removeOrphanNetns(live: Set<string> = liveResourceKeys()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listNetns()) {
    if (live.has(`netns ${name}`) || !orphaned(name, `/run/netns/${name}`)) continue;
    await gone(cmd('ip', ['netns', 'del', name]));
    removed.push(name);
  }
  return removed;
}

/** zcprobe-XXXXXX: the work dirs of versions before the ledger (mkdtemp, no pid in the name). */
export const PRE_LEDGER_NAME_RE = /^zcprobe-(?!\d{6}$)[A-Za-z0-9]{6}$/;

/** When each node process running now started (zcprobe runs only under node), epoch ms. */
function nodeStartsMs(): number[] {
  const starts: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (!/^node/.test(readFileSync(`/proc/${p}/comm`, 'utf8'))) continue;
    } catch {
      continue; // gone meanwhile
    }
    const s = startedAtMs(Number(p));
    if (s !== null) starts.push(s);
  }
  return starts;
}

/**
 * A pre-ledger work dir names no owner, but its owner was a node process running when the dir was made (`madeMs`, from
 * its ctime, which is never before the creation): when every node process running now started after that, the owner is
 * provably gone. The same slack as couldOwn keeps a process started at about that time as a possible owner.
 */
export function preLedgerOwnerGone(madeMs: number, nodeStarts: readonly number[]): boolean {
  return !nodeStarts.some((s) => s <= madeMs + OWNER_SLACK_MS);
}

/** /dev/shm (and $ZCPROBE_WORKDIR) entries named after a pid that no longer runs, and pre-ledger ones whose owner is gone. */
function removeOrphanWorkDirs(live: Set<string>): string[] {
  const nodes = nodeStartsMs();
  const preLedgerOrphan = (path: string) => {
    const made = createdAtMs(path);
    return made !== null && preLedgerOwnerGone(made, nodes);
  };
  const removed: string[] = [];
  for (const base of new Set(['/dev/shm', workDirBase()])) {
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      continue;
    }
    for (const n of names) {
      const path = join(base, n);
      if (live.has(`workdir ${path}`)) continue;
      if (!orphaned(n, path) && !(PRE_LEDGER_NAME_RE.test(n) && preLedgerOrphan(path))) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    }
  }
  return removed;
}

/** describeResource() of everything a live owner has recorded. */
export function liveResourceKeys(dir?: string): Set<string> {
  const keys = new Set<string>();
  for (const { ledger } of readLedgers(dir)) {
    if (ledger && isAlive(ledger.owner)) for (const r of ledger.resources) keys.add(describeResource(r));
  }
  return keys;
}

export async function sweepHost(opts: { dir?: string } = {}): Promise<SweepReport> {
  const dir = opts.dir ?? stateDir();
  return withLock(join(dir, 'sweep.lock'), async () => {
    const report: SweepReport = { removed: [], restored: [], sysctls: [], kept: [], errors: [] };
    try {
      report.restored.push(...(await restoreDeadNicRuns()));
    } catch (e) {
      report.errors.push(`nic pairs: ${(e as Error).message}`);
    }
    for (const { file, ledger, error } of readLedgers(dir)) {
      if (!ledger) {
        report.errors.push(`${file}: unreadable (${error}); left in place`);
        continue;
      }
      if (isAlive(ledger.owner)) {
        report.kept.push(...ledger.resources.map((r) => `${describeResource(r)} (pid ${ledger.owner.pid}, running)`));
        continue;
      }
      let failed = false;
      for (const r of [...ledger.resources].reverse()) {
        try {
          await removeResource(r);
          report.removed.push(`${describeResource(r)} (pid ${ledger.owner.pid}, dead)`);
        } catch (e) {
          failed = true;
          report.errors.push(`${describeResource(r)}: ${(e as Error).message}`);
        }
      }
      if (!failed) rmSync(file, { force: true });
    }
    const live = liveResourceKeys(dir);
    try {
      report.removed.push(...(await removeOrphanNetns(live)).map((n) => `netns ${n} (owner pid gone)`));
    } catch (e) {
      report.errors.push(`namespaces: ${(e as Error).message}`);
    }
    report.removed.push(...removeOrphanWorkDirs(live).map((p) => `workdir ${p} (owner pid gone)`));
    try {
      for (const s of settleDeadSysctlUsers(dir)) {
        report.sysctls.push(s.note ?? `${s.key}: ${s.action} ${s.value}`);
      }
    } catch (e) {
      report.errors.push(`sysctl: ${(e as Error).message}`);
    }
    return report;
  });
}

let once: Promise<SweepReport> | undefined;
/** The start-of-run sweep: once per process; problems are printed, never fatal to the run. */
export function sweepOnce(): Promise<SweepReport> {
  once ??= sweepHost().then((r) => {
    for (const e of r.errors) process.stderr.write(`zcprobe cleanup: ${e}\n`);
    return r;
  }, (e: Error) => {
    process.stderr.write(`zcprobe cleanup: ${e.message}\n`);
    return { removed: [], restored: [], sysctls: [], kept: [], errors: [e.message] };
  });
  return once;
}
