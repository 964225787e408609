// Observations: kernel- and transport-dependent rates (seen/runs, Clopper–Pearson 95 %) compared with baselines/<series>-<transport>.json
// by Fisher's exact test, two-sided; a difference beyond chance over the run's comparisons (1 %, Tarone's modified Bonferroni)
// is a FINDING in the report. A test prints p below 1 % for its observation alone, a failure only under ZCPROBE_STRICT=1.
// Reads both baseline formats: the first (one outcome string each) is converted by migrateEntry's written rule; mixing is refused.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { clopperPearson, fisherMinAttainable, ratesDiffer, taroneBonferroni } from './stats.ts';

export const BASELINES_DIR = resolve(import.meta.dirname, '..', '..', 'baselines');

/** A finding is a difference Fisher's exact test (two-sided) gives a p-value below this. */
export const FINDING_ALPHA = 0.01;
export const FINDING_TEST =
  "Fisher's exact test, two-sided; a FINDING when p < 1 % / K over the run's comparisons (Tarone's modified Bonferroni); intervals: Clopper–Pearson (exact), 95 %";

/** What a claim's case counts as seen: a conclusive corrupted verdict of any kind. */
export const CORRUPTED = 'corrupted';
/** What the mmap + write() truncation experiment counts: the article's hazard. */
export const SIGBUS_IN_WRITE = 'killed by SIGBUS inside write()';

export interface Rate {
  /** cases in which the event was seen */
  seen: number;
  /** cases run (conclusive ones: an inconclusive case is neither) */
  runs: number;
}

export interface Observation extends Rate {
  /** stable id: a claim id, or a test's own (e.g. "mmap-write-truncate-while-blocked") */
  id: string;
  statement: string;
  /** what one case counts as seen, the same words in every run ("corrupted", "corrupted-after-wire") */
  event: string;
  transport: string;
  /** one line of supporting detail (minimal case, verdict tally); not compared */
  detail?: string;
}

export interface BaselineEntry extends Rate {
  statement: string;
  event: string;
  detail?: string;
  /** converted from the first baseline format, which held one outcome string per observation */
  migratedFrom?: {
    outcome: string;
    /** true when that outcome was a single result (held / falsified / one category) and became 1 of
     * 1 or 0 of 1: a difference from it cannot reach 1 % below 100 cases — re-write the baseline */
    single: boolean;
  };
}

export interface Baseline {
  format: 2;
  /** uname -r of the kernel that produced it */
  kernel: string;
  transport: string;
  writtenAt: string;
  observations: Record<string, BaselineEntry>;
}

/** "6.18.44-fc-v857" → "6.18" */
export function kernelSeries(rel = release()): string {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  if (!m) throw new Error(`cannot read a major.minor kernel version from "${rel}"`);
  return `${m[1]}.${m[2]}`;
}

export function baselinePath(transport: string, rel = release(), dir = BASELINES_DIR): string {
  return join(dir, `${kernelSeries(rel)}-${transport}.json`);
}

const VERDICT_KINDS = ['clean', 'corrupted-on-wire', 'corrupted-on-retransmit', 'corrupted-after-wire', 'corrupted', 'inconclusive'];
const CORRUPTED_KINDS = VERDICT_KINDS.filter((v) => v.startsWith('corrupted'));
const MMAP_CATEGORIES = ['killed inside write()', 'short count', 'error from the first write()', 'write() completed', 'unclassified'];

/**
 * The rule for the first format's outcome strings (one per observation), as a rate:
 * - "6/6 corrupted" → 6 of 6 corrupted;
 * - a verdict tally "clean 5/6, corrupted-after-wire 1/6" → corrupted 1 of 6 (inconclusive cases
 *   left out); a tally of one corrupted kind ("corrupted-after-wire 10/10") counts that kind;
 * - "held" with a case count in the detail ("10 cases", "12 clean") → 0 of that many: a claim that
 *   held ran only sampled cases and none was corrupted;
 * - "falsified" → 1 of 1, a single outcome: its case counts include shrinking runs, not a sample;
 * - a truncation category ("short count; SIGBUS: …") → SIGBUS inside write() 1 or 0 of 1, single.
 * Anything else is an error: no outcome is guessed.
 */
export function migrateEntry(id: string, old: { statement: string; outcome: string; detail?: string }): BaselineEntry {
  const make = (event: string, seen: number, runs: number, single: boolean): BaselineEntry => ({
    statement: old.statement,
    event,
    seen,
    runs,
    ...(old.detail ? { detail: old.detail } : {}),
    migratedFrom: { outcome: old.outcome, single },
  });
  let m = /^(\d+)\/(\d+) corrupted$/.exec(old.outcome);
  if (m) return make(CORRUPTED, Number(m[1]), Number(m[2]), false);
  const parts = old.outcome.split(', ').map((p) => /^([a-z-]+) (\d+)\/(\d+)$/.exec(p));
  if (parts.every((p) => p && VERDICT_KINDS.includes(p[1]!)) && new Set(parts.map((p) => p![3])).size === 1) {
    const n = Number(parts[0]![3]);
    const count = (kinds: string[]) => parts.filter((p) => kinds.includes(p![1]!)).reduce((a, p) => a + Number(p![2]), 0);
    const runs = n - count(['inconclusive']);
    const only = parts.length === 1 ? parts[0]![1]! : '';
    if (CORRUPTED_KINDS.includes(only)) return make(only, count([only]), runs, false);
    return make(CORRUPTED, count(CORRUPTED_KINDS), runs, false);
  }
  if (old.outcome === 'held') {
    m = /^(\d+) (?:cases|clean)\b/.exec(old.detail ?? '');
    return m ? make(CORRUPTED, 0, Number(m[1]), false) : make(CORRUPTED, 0, 1, true);
  }
  if (old.outcome === 'falsified') return make(CORRUPTED, 1, 1, true);
  const category = MMAP_CATEGORIES.find((c) => old.outcome.startsWith(`${c};`));
  if (category) return make(SIGBUS_IN_WRITE, category === 'killed inside write()' ? 1 : 0, 1, true);
  throw new Error(`observation ${id}: no rule converts the outcome "${old.outcome}" to a rate`);
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** An entry of the rate format, checked; null when it is not one. */
function rateEntry(e: Record<string, unknown>): BaselineEntry | null {
  if (typeof e.statement !== 'string' || typeof e.event !== 'string') return null;
  if (!isCount(e.seen) || !isCount(e.runs) || e.seen > e.runs) return null;
  return e as unknown as BaselineEntry;
}

/**
 * A baseline file of either format: the rate format (format: 2) as it is, the first format
 * (outcome strings, no format field) converted entry by entry with migrateEntry, each entry
 * marked with what it was. A file that mixes the two, or holds anything else, is an error naming
 * the file and the entry: nothing is mixed or skipped silently.
 */
export function parseBaseline(text: string, where: string): Baseline {
  const raw: unknown = JSON.parse(text);
  if (!isRecord(raw) || !isRecord(raw.observations) || typeof raw.kernel !== 'string' || typeof raw.transport !== 'string')
    throw new Error(`${where}: not a baseline (kernel, transport and observations expected)`);
  const entries = Object.entries(raw.observations);
  const writtenAt = typeof raw.writtenAt === 'string' ? raw.writtenAt : '';
  if (raw.format === 2) {
    const observations: Record<string, BaselineEntry> = {};
    for (const [id, e] of entries) {
      const r = isRecord(e) && !('outcome' in e) ? rateEntry(e) : null;
      if (!r) throw new Error(`${where}: ${id} is not a rate (event, seen ≤ runs) although the file says format 2`);
      observations[id] = r;
    }
    return { format: 2, kernel: raw.kernel, transport: raw.transport, writtenAt, observations };
  }
  if (raw.format !== undefined) throw new Error(`${where}: unknown baseline format ${JSON.stringify(raw.format)}`);
  const observations: Record<string, BaselineEntry> = {};
  for (const [id, e] of entries) {
    if (!isRecord(e) || typeof e.outcome !== 'string' || typeof e.statement !== 'string' || 'seen' in e)
      throw new Error(`${where}: ${id} is not an outcome of the first format, which the rest of the file is (no mixing)`);
    const detail = typeof e.detail === 'string' ? { detail: e.detail } : {};
    observations[id] = migrateEntry(id, { statement: e.statement, outcome: e.outcome, ...detail });
  }
  return { format: 2, kernel: raw.kernel, transport: raw.transport, writtenAt, observations };
}

export function readBaseline(transport: string, rel = release(), dir = BASELINES_DIR): Baseline | undefined {
  const p = baselinePath(transport, rel, dir);
  if (!existsSync(p)) return undefined;
  return parseBaseline(readFileSync(p, 'utf8'), p);
}

/** "3/12 corrupted (95 % CI 5.5–57 %)" */
export function describeRate(r: Rate & { event: string }): string {
  const { lower, upper } = clopperPearson(r.seen, r.runs);
  const pct = (x: number) => `${Number((x * 100).toPrecision(2))}`;
  return `${r.seen}/${r.runs} ${r.event} (95 % CI ${pct(lower)}–${pct(upper)} %)`;
}

const formatP = (p: number) => (p >= 0.001 ? p.toFixed(3) : p.toExponential(1));

export type Comparison =
  | {
    status: 'consistent' | 'differs'; p: number; line: string;
    /** the smallest p these margins allow (Tarone's family: see judgeFamily) */ minP: number;
    /** the line without its verdict */ stem: string;
  }
  | { status: 'no-baseline'; p: null; line: string };

/** How an observation compares with the baseline for this kernel series and transport. */
export function compareWithBaseline(o: Observation, baseline: Baseline | undefined, rel = release()): Comparison {
  const where = `${kernelSeries(rel)}/${o.transport}`;
  const known = baseline?.observations[o.id];
  const here = `${o.id} on ${rel} (${o.transport}): ${describeRate(o)}`;
  if (!baseline || !known) {
    const line = `observation ${here} — no baseline for ${where} to compare with (zcprobe baseline write)`;
    return { status: 'no-baseline', p: null, line };
  }
  if (known.event !== o.event) {
    const why = `the ${where} baseline counts "${known.event}", not "${o.event}": re-write it (zcprobe baseline write)`;
    return { status: 'no-baseline', p: null, line: `observation ${here} — ${why}` };
  }
  const { p, differ } = ratesDiffer(o, known, FINDING_ALPHA);
  const minP = fisherMinAttainable(o, known);
  const single = known.migratedFrom?.single ? ` (a single outcome, "${known.migratedFrom.outcome}", converted from the first format)` : '';
  const had = `the ${where} baseline (${baseline.kernel}) had ${describeRate(known)}${single}`;
  const stem = `${here}; ${had}; Fisher's exact test, two-sided: p = ${formatP(p)}`;
  if (!differ) return { status: 'consistent', p, minP, stem, line: `observation ${stem}: consistent` };
  return { status: 'differs', p, minP, stem, line: `below ${FINDING_ALPHA} for this observation alone: ${stem} — "${o.statement}"` };
}

/** A run compares many observations; each at FINDING_ALPHA would give a false FINDING somewhere far
 * more often than FINDING_ALPHA. Tarone's modified Bonferroni (stats.ts) over the run's comparisons keeps
 * that chance at FINDING_ALPHA: the threshold is α/K, K the comparisons whose margins could reach it. */
export function judgeFamily(
  comparisons: readonly Comparison[],
  observations: readonly Observation[],
): { judged: Comparison[]; family: string } {
  const tested = comparisons.flatMap((c, i) => (c.status === 'no-baseline' ? [] : [{ c, i }]));
  const { K, threshold, reject } = taroneBonferroni(tested.map(({ c }) => c), FINDING_ALPHA);
  const judged = [...comparisons];
  const family = `threshold ${Number(threshold.toPrecision(3))} = ${FINDING_ALPHA} / ${K}, the ${K} of ${tested.length} comparisons whose margins could reach it`;
  tested.forEach(({ c, i }, k) => {
    const o = observations[i]!;
    if (reject[k]) judged[i] = { ...c, status: 'differs', line: `FINDING: ${c.stem} < ${family} — "${o.statement}"` };
    else judged[i] = { ...c, status: 'consistent', line: `observation ${c.stem}${c.status === 'differs' ? `, not below the ${family}` : ''}: consistent` };
  });
  return { judged, family };
}

/** Appends to the JSON-lines file named by ZCPROBE_OBSERVATIONS_FILE, when set. */
export function recordObservation(o: Observation, file = process.env.ZCPROBE_OBSERVATIONS_FILE): void {
  if (!isCount(o.seen) || !isCount(o.runs) || o.seen > o.runs) throw new Error(`observation ${o.id}: ${o.seen}/${o.runs} is not a rate`);
  if (file) appendFileSync(file, `${JSON.stringify({ ...o, kernel: release() })}\n`);
}

export type RecordedObservation = Observation & { kernel: string; migratedFrom?: BaselineEntry['migratedFrom'] };

/** The observations of a JSON-lines file, in order. Lines written before observations were rates
 * (an outcome string) are converted with migrateEntry and marked; a file mixing both is an error. */
export function parseObservations(lines: string, where: string): RecordedObservation[] {
  const rows = lines.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
  const old = rows.filter((r) => typeof r.outcome === 'string' && !('seen' in r));
  if (old.length && old.length !== rows.length)
    throw new Error(`${where}: mixes observations recorded as rates with ${old.length} of the first format (no mixing)`);
  return rows.map((r) => {
    if (typeof r.id !== 'string' || typeof r.transport !== 'string' || typeof r.kernel !== 'string')
      throw new Error(`${where}: a line without id, transport or kernel`);
    const e = old.length ? migrateEntry(r.id, r as unknown as { statement: string; outcome: string; detail?: string }) : rateEntry(r);
    if (!e) throw new Error(`${where}: observation ${r.id} is not a rate (event, seen ≤ runs)`);
    return { ...e, id: r.id, transport: r.transport, kernel: r.kernel };
  });
}

/** Builds the baseline of one transport from recorded observations (the last one per id wins). */
export function baselineFrom(lines: string, transport: string, rel = release()): Baseline {
  const observations: Baseline['observations'] = {};
  for (const o of parseObservations(lines, 'the recorded observations')) {
    if (o.transport !== transport) continue;
    if (o.kernel !== rel) throw new Error(`observation ${o.id} was recorded on ${o.kernel}, not ${rel}`);
    const { statement, event, seen, runs, detail, migratedFrom } = o;
    observations[o.id] = { statement, event, seen, runs, ...(detail ? { detail } : {}), ...(migratedFrom ? { migratedFrom } : {}) };
  }
  return { format: 2, kernel: rel, transport, writtenAt: new Date().toISOString(), observations };
}

export function writeBaseline(b: Baseline, dir = BASELINES_DIR): string {
  mkdirSync(dir, { recursive: true });
  const p = baselinePath(b.transport, b.kernel, dir);
  const sorted = Object.fromEntries(Object.entries(b.observations).sort(([a], [c]) => a.localeCompare(c)));
  writeFileSync(p, `${JSON.stringify({ ...b, observations: sorted }, null, 2)}\n`);
  return p;
}

export function strictObservations(): boolean {
  return process.env.ZCPROBE_STRICT === '1';
}
