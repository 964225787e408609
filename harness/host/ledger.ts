// The run ledger, <state dir>/runs/<pid>-<start ticks>.json: every host resource a process creates is recorded *before* it is
// created and dropped after removal, so the sweep removes exactly what a dead owner left, never a live owner's.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfOwner, type Owner } from './owner.ts';
import { stateDir } from './state-dir.ts';

export type Resource =
  | { kind: 'netns'; name: string }
  /** a network interface in the root namespace; removed only while it has this ifindex (names
   * can be reused by another run, ifindexes are not handed out again soon) */
  | { kind: 'link'; name: string; ifindex: number }
  /** a directory removed recursively; its base name must start with "zcprobe-" */
  | { kind: 'workdir'; path: string }
  | { kind: 'mount'; path: string }
  /** detached only while it is still backed by `backing` (loop numbers are reused) */
  | { kind: 'loop'; device: string; backing: string }
  /** a helper process (e.g. a VM) that does not die with its parent by itself */
  | { kind: 'process'; pid: number; startTicks: number };

export interface LedgerFile {
  owner: Owner;
  command: string;
  startedAt: string;
  resources: Resource[];
}

export const runsDir = (dir = stateDir()): string => join(dir, 'runs');
const fileOf = (o: Owner, dir?: string): string => join(runsDir(dir), `${o.pid}-${o.startTicks}.json`);

export function describeResource(r: Resource): string {
  switch (r.kind) {
    case 'netns': return `netns ${r.name}`;
    case 'link': return `link ${r.name}`;
    case 'workdir': return `workdir ${r.path}`;
    case 'mount': return `mount ${r.path}`;
    case 'loop': return `loop ${r.device} (${r.backing})`;
    case 'process': return `process ${r.pid}`;
  }
}

const sameResource = (a: Resource, b: Resource): boolean => JSON.stringify(a) === JSON.stringify(b);

const mine: Resource[] = [];
let startedAt: string | undefined;

function save(): void {
  const file = fileOf(selfOwner());
  if (mine.length === 0) {
    rmSync(file, { force: true });
    return;
  }
  mkdirSync(runsDir(), { recursive: true });
  startedAt ??= new Date().toISOString();
  const body: LedgerFile = { owner: selfOwner(), command: process.argv.slice(1).join(' '), startedAt, resources: mine };
  // Atomic: a sweep reading concurrently sees the old list or the new one, never half of one.
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 1) + '\n');
  renameSync(tmp, file);
}

/** Records `r` as this process's (call before creating it); returns the release (call after
 * removing it; idempotent). */
export function claim(r: Resource): () => void {
  mine.push(r);
  save();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const i = mine.findIndex((x) => sameResource(x, r));
    if (i >= 0) mine.splice(i, 1);
    save();
  };
}

/** What this process has recorded now (for tests and diagnostics). */
export function claimedByMe(): Resource[] {
  return [...mine];
}

/** Every ledger file under the state directory; unreadable ones are reported, not thrown. */
export function readLedgers(dir?: string): { file: string; ledger: LedgerFile | null; error?: string }[] {
  let names: string[];
  try {
    names = readdirSync(runsDir(dir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => {
    const file = join(runsDir(dir), n);
    try {
      return { file, ledger: JSON.parse(readFileSync(file, 'utf8')) as LedgerFile };
    } catch (e) {
      return { file, ledger: null, error: (e as Error).message };
    }
  });
}

/** Writes a ledger for another owner (tests simulate a crashed run with it). */
export function writeLedgerFor(ledger: LedgerFile, dir?: string): string {
  mkdirSync(runsDir(dir), { recursive: true });
  const file = fileOf(ledger.owner, dir);
  writeFileSync(file, JSON.stringify(ledger, null, 1) + '\n');
  return file;
}
