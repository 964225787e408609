// The matrix cells of a report, derived from its cases: each cell's verdict (its colour), the
// count of every corrupted case, the confidence bound a clean cell supports, and the headline
// every rendering shows. report.json stores all of them, so the views only display.
import { CONFIDENCE_LEVEL, formatRate, zeroFailureUpperBound } from './confidence.ts';
import { byMethod, bySafeguard, byTransport, CORRUPTED, type MatrixCell, type Verdict } from './types.ts';

/**
 * A cell's overall verdict. Any corrupted case → the worst corrupted verdict present (one
 * proven corruption falsifies "this safeguard is safe", however many clean cases surround it).
 * Otherwise any inconclusive case, any reason (e.g. a capture that dropped packets), or no case at
 * all → inconclusive: clean must mean every case was fully observed and matched. Only skipped
 * cases → skipped.
 */
export function cellVerdict(counts: Partial<Record<Verdict, number>>, reasons: readonly string[]): Verdict {
  for (const v of CORRUPTED) if ((counts[v] ?? 0) > 0) return v;
  if ((counts.inconclusive ?? 0) > 0) return 'inconclusive';
  const clean = counts.clean ?? 0;
  if (clean === 0) return (counts.skipped ?? 0) > 0 ? 'skipped' : 'inconclusive';
  return reasons.length > 0 ? 'inconclusive' : 'clean';
}

/** The part of a CaseReport (harness/verdict/case-report.ts) the matrix needs. */
export interface CaseLike {
  id: string;
  method: string;
  safeguard: string;
  transport: string;
  size: number;
  /** the stress condition (absent in hand-made data: one condition per size) */
  receiverDelayMs?: number;
  rcvbuf?: number | null;
  sndbuf?: number | null;
  verdict: Verdict;
  reasons: string[];
  received: { bytes: number };
}

/** "1 MiB read 50 ms late, sndbuf 4 MiB": the stress condition of a case, as a cell names it. */
export function conditionLabel(c: Pick<CaseLike, 'size' | 'receiverDelayMs' | 'rcvbuf' | 'sndbuf'>): string {
  const bytes = (n: number) =>
    n >= 1 << 20 && n % (1 << 20) === 0 ? `${n / (1 << 20)} MiB` : n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`;
  const when = c.receiverDelayMs === undefined ? '' : c.receiverDelayMs > 0 ? ` read ${c.receiverDelayMs} ms late` : ' read at once';
  return `${bytes(c.size)}${when}${c.rcvbuf ? `, rcvbuf ${bytes(c.rcvbuf)}` : ''}${c.sndbuf ? `, sndbuf ${bytes(c.sndbuf)}` : ''}`;
}

/** A cell the host could not run (harness/suites/matrix.ts plannedCells' `skipped`). */
export interface SkippedCell {
  method: string;
  safeguard: string;
  transport: string;
  reason: string;
}

/** Reasons kept per cell; the rest are counted so a noisy cell cannot bloat the report. */
const MAX_REASONS = 8;

/** Groups cases per (method, safeguard, transport) and derives each cell's verdict. */
export function buildMatrixCells(cases: readonly CaseLike[], skipped: readonly SkippedCell[] = []): MatrixCell[] {
  const cells = new Map<string, MatrixCell & { reasonCount: Map<string, number> }>();
  const cellOf = (c: { method: string; safeguard: string; transport: string }) => {
    const key = JSON.stringify([c.method, c.safeguard, c.transport]);
    let cell = cells.get(key);
    if (!cell) {
      cell = {
        method: c.method, safeguard: c.safeguard, transport: c.transport, cases: 0, bytes: 0, counts: {}, conditions: [],
        verdict: 'inconclusive',
        corruptedCases: 0, upperBound95: null, headline: '', reasons: [], counterexampleIds: [], reasonCount: new Map(),
      };
      cells.set(key, cell);
    }
    return cell;
  };
  const addReason = (cell: { reasonCount: Map<string, number> }, r: string) => cell.reasonCount.set(r, (cell.reasonCount.get(r) ?? 0) + 1);
  for (const c of cases) {
    const cell = cellOf(c);
    cell.cases++;
    cell.bytes += c.received.bytes;
    cell.counts[c.verdict] = (cell.counts[c.verdict] ?? 0) + 1;
    for (const r of c.reasons) addReason(cell, r);
    if (CORRUPTED.includes(c.verdict)) cell.counterexampleIds.push(c.id);
    // Per condition too: a corruption only one condition can show is diluted by the others.
    const label = conditionLabel(c);
    let cond = cell.conditions.find((x) => x.condition === label);
    if (!cond) cell.conditions.push((cond = { condition: label, cases: 0, corrupted: 0 }));
    cond.cases++;
    if (CORRUPTED.includes(c.verdict)) cond.corrupted++;
  }
  for (const s of skipped) {
    const cell = cellOf(s);
    cell.counts.skipped = (cell.counts.skipped ?? 0) + 1;
    addReason(cell, s.reason);
  }
  const out: MatrixCell[] = [];
  for (const { reasonCount, ...cell } of cells.values()) {
    // "3× tcpdump reported …": the same reason from many cases is one line with its count.
    const all = [...reasonCount].map(([r, n]) => (n > 1 ? `${n}× ${r}` : r));
    cell.reasons = all.length > MAX_REASONS ? [...all.slice(0, MAX_REASONS), `… and ${all.length - MAX_REASONS} more reason(s)`] : all;
    cell.verdict = cellVerdict(cell.counts, cell.reasons);
    cell.corruptedCases = corruptedCases(cell.counts);
    cell.upperBound95 = cellUpperBound(cell.counts);
    cell.headline = cellHeadline(cell);
    if (cell.cases === 0 && !cell.counts.skipped) cell.reasons.push('no case ran');
    out.push(cell);
  }
  return out.sort((a, b) => byMethod(a.method, b.method) || bySafeguard(a.safeguard, b.safeguard) || byTransport(a.transport, b.transport));
}

/** Every corrupted case, whatever its kind. */
export function corruptedCases(counts: Partial<Record<Verdict, number>>): number {
  return CORRUPTED.reduce((sum, v) => sum + (counts[v] ?? 0), 0);
}

/** How a headline names each corrupted kind, in the brackets after the total. */
export const KIND_WORDS: Partial<Record<Verdict, string>> = {
  'corrupted-on-wire': 'on wire',
  'corrupted-after-wire': 'after wire',
  corrupted: 'without capture',
  'corrupted-on-retransmit': 'on retransmit',
};

/** The upper bound (at CONFIDENCE_LEVEL) on the corruption rate the cell's clean cases support;
 * null when a case was corrupted (the rate is not zero) or no case was clean. */
export function cellUpperBound(counts: Partial<Record<Verdict, number>>): number | null {
  return corruptedCases(counts) > 0 ? null : zeroFailureUpperBound(counts.clean ?? 0);
}

/**
 * What a cell says at a glance, answering "is reuse safe here?": every corrupted case counts,
 * with the kinds in brackets ("6/6 corrupted (2 on wire, 4 after wire)"); a cell with no
 * corrupted case gives its clean cases and the bound they support ("6/6 clean; rate ≤ 39 % at
 * 95 %"); inconclusive cases are always counted. When the corrupted cases are not spread evenly
 * over the stress conditions, the condition with the highest rate follows ("2/8 corrupted (2 on
 * wire); 2/2 at 1 MiB read 50 ms late, sndbuf 4 MiB"): that rate is what `zcprobe run` of that
 * condition would show, which the pooled count understates.
 */
export function cellHeadline(cell: Pick<MatrixCell, 'cases' | 'counts'> & Partial<Pick<MatrixCell, 'conditions'>>): string {
  const count = (v: Verdict) => cell.counts[v] ?? 0;
  const n = cell.cases;
  if (n === 0) return count('skipped') > 0 ? 'skipped' : 'no case ran';
  const inconclusive = count('inconclusive') ? `, ${count('inconclusive')} inconclusive` : '';
  const corrupted = corruptedCases(cell.counts);
  if (corrupted > 0) {
    const kinds = CORRUPTED.filter((v) => count(v) > 0).map((v) => `${count(v)} ${KIND_WORDS[v] ?? v}`);
    return `${corrupted}/${n} corrupted (${kinds.join(', ')})${inconclusive}${worstCondition(cell.conditions ?? [], corrupted / n)}`;
  }
  const bound = cellUpperBound(cell.counts);
  if (bound === null) return `${count('inconclusive')}/${n} inconclusive`;
  // No-break spaces keep "≤ 39 %" and "95 %" whole when a narrow cell wraps.
  return `${count('clean')}/${n} clean${inconclusive}; rate ≤\u00a0${formatRate(bound)} at ${formatRate(CONFIDENCE_LEVEL)}`;
}

/** "; 2/2 at <condition>" when one condition's rate is above the cell's pooled rate, else "". */
function worstCondition(conditions: MatrixCell['conditions'], pooled: number): string {
  if (conditions.length < 2) return '';
  const worst = conditions.reduce((a, b) => (b.corrupted / b.cases > a.corrupted / a.cases ? b : a));
  return worst.corrupted / worst.cases > pooled ? `; ${worst.corrupted}/${worst.cases} at ${worst.condition}` : '';
}
