// Which evidence runs under captures/ to delete: every run directory beyond the newest `keep`, or
// older than `olderThanMs`. A run still in progress (its id ends with the pid of a live process
// that started before the directory was made) is never selected.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { diskUsage } from './disk.ts';
import { couldOwn } from './owner.ts';

export interface RunDir {
  name: string;
  path: string;
  /** epoch ms: the directory's modification time (its last bundle or report) */
  mtimeMs: number;
  bytes: number;
  live: boolean;
}

export type PrunePolicy = { keep: number } | { olderThanMs: number };

// newRunId(): <ISO time with - for : and .>-<pid>
const RUN_ID_RE = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}-(\d+)$/;

export function listRunDirs(capturesDir: string): RunDir[] {
  let names: string[];
  try {
    names = readdirSync(capturesDir);
  } catch {
    return [];
  }
  const runs: RunDir[] = [];
  for (const name of names) {
    const path = join(capturesDir, name);
    const st = lstatSync(path);
    if (!st.isDirectory()) continue;
    const m = RUN_ID_RE.exec(name);
    const made = st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs;
    runs.push({ name, path, mtimeMs: st.mtimeMs, bytes: diskUsage(path), live: m !== null && couldOwn(Number(m[1]), made) });
  }
  // Newest first: run ids sort by time; directories with other names by mtime.
  return runs.sort((a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name));
}

/** The runs `policy` deletes, from listRunDirs' newest-first list. */
export function selectForPruning(runs: RunDir[], policy: PrunePolicy, now = Date.now()): RunDir[] {
  const finished = runs.filter((r) => !r.live);
  if ('keep' in policy) return finished.slice(policy.keep);
  return finished.filter((r) => now - r.mtimeMs > policy.olderThanMs);
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "30d", "12h", "90m", "45s", "2w" → ms */
export function parseAge(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not an age (examples: 7d, 12h, 30m, 2w)`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
