// The report's view of the observations the last `npm test` recorded here (captures/observations/<uname -r>.jsonl): each a rate
// next to the committed baseline's rate for this kernel series; a difference beyond chance over the run's comparisons (Fisher,
// 1 % with Tarone's modified Bonferroni) is a finding.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { compareWithBaseline, describeRate, FINDING_TEST, judgeFamily, parseObservations, readBaseline } from '../model/baselines.ts';
import type { Baseline, BaselineEntry, RecordedObservation } from '../model/baselines.ts';
import { clopperPearson } from '../model/stats.ts';
import type { ObservationRow, ReportObservations } from './types.ts';

export function observationsFile(capturesDir: string, rel = release()): string {
  return join(capturesDir, 'observations', `${rel}.jsonl`);
}

const entryRow = (b: BaselineEntry) => ({
  seen: b.seen, runs: b.runs, outcome: describeRate(b), singleOutcome: b.migratedFrom?.single ?? false,
});

/** null when no test run recorded observations on this kernel. */
export function loadObservations(
  file: string,
  baselineOf: (transport: string) => Baseline | undefined = (t) => readBaseline(t),
  rel = release(),
): ReportObservations | null {
  if (!existsSync(file)) return null;
  const last = new Map<string, RecordedObservation>();
  for (const o of parseObservations(readFileSync(file, 'utf8'), file)) last.set(`${o.id}@${o.transport}`, o);
  if (!last.size) return null;
  const observations = [...last.values()];
  const bases = observations.map((o) => baselineOf(o.transport));
  // judged together: one run tests them all (baselines.ts judgeFamily)
  const { judged, family } = judgeFamily(observations.map((o, i) => compareWithBaseline(o, bases[i], rel)), observations);
  const rows = observations.map((o, i): ObservationRow => {
    const base = bases[i];
    const c = judged[i]!;
    const known = c.status === 'no-baseline' ? undefined : base?.observations[o.id];
    return {
      id: o.id,
      transport: o.transport,
      event: o.event,
      seen: o.seen,
      runs: o.runs,
      interval95: clopperPearson(o.seen, o.runs),
      outcome: describeRate(o),
      baseline: known ? entryRow(known) : null,
      pValue: c.p,
      status: c.status,
      line: c.line,
    };
  });
  rows.sort((a, b) => Number(b.status === 'differs') - Number(a.status === 'differs') || a.id.localeCompare(b.id));
  return { source: file, recordedAt: statSync(file).mtime.toISOString(), test: `${FINDING_TEST}; this run: ${family}`, rows };
}

/** What each comparison status means, in the report's words. */
export const OBSERVATION_STATUS = {
  consistent: 'consistent with the baseline',
  differs: 'FINDING: differs from the baseline beyond chance',
  'no-baseline': 'no comparable baseline for this kernel series',
} as const;

/** "p = 0.42", "p = 7.0e-4", or "—" without a baseline. */
export const pText = (p: number | null): string => (p === null ? '—' : `p = ${p >= 0.001 ? p.toFixed(3) : p.toExponential(1)}`);
