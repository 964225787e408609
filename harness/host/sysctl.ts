// Host-wide, reference-counted /proc/sys overrides under a lock: the first user saves the original, the newest user's value is in
// effect, the last one out restores it; dead users are dropped (docs/operating.md). fs/lease-break-time 0 means "never time out":
// only whole seconds ≥ 1 are accepted.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerCleanup } from './exit-hooks.ts';
import { withLockSync } from './lock.ts';
import { isAlive, selfOwner, type Owner } from './owner.ts';
import { stateDir } from './state-dir.ts';

export interface SysctlOverride {
  /** "fs/lease-break-time" */
  key: string;
  /** the host's value before any zcprobe override: what comes back when the last user leaves */
  previous: string;
  value: string;
  /** leaves the override (once; later calls do nothing) */
  restore(): void;
}

interface User extends Owner {
  /** one per setSysctl call: a process may hold several overrides of one key */
  id: string;
  value: string;
}

interface SysctlRecord {
  key: string;
  original: string;
  /** the value zcprobe wrote last */
  applied: string;
  users: User[];
}

/** "fs.lease-break-time" or "fs/lease-break-time" → "fs/lease-break-time" */
export function sysctlKey(key: string): string {
  const k = key.includes('/') ? key.replace(/^\/proc\/sys\//, '') : key.replace(/\./g, '/');
  if (!/^[a-z0-9_/-]+$/i.test(k) || k.split('/').includes('..')) throw new Error(`not a sysctl key: "${key}"`);
  return k;
}

const pathOf = (key: string) => `/proc/sys/${sysctlKey(key)}`;
const recordsDir = (dir = stateDir()) => join(dir, 'sysctl');
// Keys may hold dots (interface names), so the file name encodes the slashes.
const recordFile = (k: string, dir?: string) => join(recordsDir(dir), `${encodeURIComponent(k)}.json`);
const lockFile = (dir = stateDir()) => join(dir, 'sysctl.lock');

export function readSysctl(key: string): string {
  return readFileSync(pathOf(key), 'utf8').trim();
}

/** Values this module refuses to write, with why (checked before anything is changed). */
function refusal(key: string, value: string): string | null {
  if (key === 'fs/lease-break-time' && !(/^\d+$/.test(value) && Number(value) >= 1))
    return `refusing fs.lease-break-time=${value}: it must be a whole number of seconds ≥ 1 (0 makes a writer wait forever for a lease holder)`;
  return null;
}

function load(file: string): SysctlRecord | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SysctlRecord;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function store(rec: SysctlRecord, dir?: string): void {
  mkdirSync(recordsDir(dir), { recursive: true });
  const file = recordFile(rec.key, dir);
  writeFileSync(`${file}.tmp`, JSON.stringify(rec, null, 1) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** What happened to a key when its users changed (for the sweep's report). */
export type Settled = { key: string; action: 'restored' | 'reapplied' | 'left-alone' | 'unchanged'; value: string; note?: string };

/** Drops dead users; writes the value the remaining ones want, or the original if none is left. */
function settle(rec: SysctlRecord, dir?: string): Settled {
  rec.users = rec.users.filter(isAlive);
  const current = readSysctl(rec.key);
  const newest = rec.users.at(-1);
  if (newest) {
    const changed = current !== newest.value;
    if (changed) writeFileSync(pathOf(rec.key), newest.value);
    rec.applied = newest.value;
    store(rec, dir);
    return { key: rec.key, action: changed ? 'reapplied' : 'unchanged', value: newest.value };
  }
  rmSync(recordFile(rec.key, dir), { force: true });
  if (current !== rec.applied) {
    const note = `${rec.key} is ${current}, not the ${rec.applied} zcprobe set: changed by someone else, left alone (zcprobe's record of the original: ${rec.original})`;
    return { key: rec.key, action: 'left-alone', value: current, note };
  }
  if (current !== rec.original) writeFileSync(pathOf(rec.key), rec.original);
  return { key: rec.key, action: 'restored', value: rec.original };
}

/** Sets `key` to `value` for this process until restore() (e.g. in after.always). */
export function setSysctl(key: string, value: string | number): SysctlOverride {
  const k = sysctlKey(key);
  const v = String(value).trim();
  const why = refusal(k, v);
  if (why) throw new Error(why);
  const me: User = { ...selfOwner(), id: randomBytes(6).toString('hex'), value: v };
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    unregister();
    withLockSync(lockFile(), () => {
      const rec = load(recordFile(k));
      if (!rec) return; // the sweep already settled it (we were judged dead: cannot happen while we run)
      rec.users = rec.users.filter((u) => u.id !== me.id);
      const s = settle(rec);
      if (s.note) process.stderr.write(`zcprobe: ${s.note}\n`);
    });
  };
  // Registered before the write: a signal arriving in between still restores.
  const unregister = registerCleanup(`sysctl ${k}`, restore);
  let original = '';
  try {
    withLockSync(lockFile(), () => {
      const old = load(recordFile(k));
      const live = old ? old.users.filter(isAlive) : [];
      const current = readSysctl(k);
      // No live user: the value now is the host's, except that a dead user's override still in
      // effect (current === applied) is not: then its record's original is.
      original = old && (live.length > 0 || current === old.applied) ? old.original : current;
      writeFileSync(pathOf(k), v);
      try {
        store({ key: k, original, applied: v, users: [...live, me] });
      } catch (e) {
        writeFileSync(pathOf(k), current); // no record, no override
        throw e;
      }
    });
  } catch (e) {
    restored = true;
    unregister();
    throw e;
  }
  return { key: k, previous: original, value: v, restore };
}

/** Settles every key whose users died (the sweep calls this); returns what it did. */
export function settleDeadSysctlUsers(dir?: string): Settled[] {
  let names: string[];
  try {
    names = readdirSync(recordsDir(dir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return withLockSync(lockFile(dir), () => {
    const out: Settled[] = [];
    for (const n of names) {
      const rec = load(join(recordsDir(dir), n));
      if (rec && rec.users.some((u) => !isAlive(u))) out.push(settle(rec, dir));
    }
    return out;
  });
}
