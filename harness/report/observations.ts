// The report's view of the kernel-dependent observations (harness/model/baselines.ts) that the last
// `npm test` on this kernel recorded (captures/observations/<uname -r>.jsonl), each compared with
// the committed baseline for this kernel series: a difference is a finding, shown as such.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { compareWithBaseline, readBaseline, type Baseline, type Observation } from '../model/baselines.ts';
import type { ReportObservations } from './types.ts';

export function observationsFile(capturesDir: string, rel = release()): string {
  return join(capturesDir, 'observations', `${rel}.jsonl`);
}

/** null when no test run recorded observations on this kernel. */
export function loadObservations(file: string, baselineOf: (transport: string) => Baseline | undefined = (t) => readBaseline(t), rel = release()): ReportObservations | null {
  if (!existsSync(file)) return null;
  const last = new Map<string, Observation>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as Observation;
    last.set(`${o.id}@${o.transport}`, o);
  }
  if (!last.size) return null;
  const rows = [...last.values()].map((o) => {
    const base = baselineOf(o.transport);
    const c = compareWithBaseline(o, base, rel);
    return { id: o.id, transport: o.transport, outcome: o.outcome, baseline: base?.observations[o.id]?.outcome ?? null, status: c.status, line: c.line };
  });
  rows.sort((a, b) => Number(b.status === 'differs') - Number(a.status === 'differs') || a.id.localeCompare(b.id));
  return { source: file, recordedAt: statSync(file).mtime.toISOString(), rows };
}

/** What each comparison status means, in the report's words. */
export const OBSERVATION_STATUS = { same: 'as in the baseline', differs: 'FINDING: differs from the baseline', 'no-baseline': 'no baseline for this kernel series' } as const;
