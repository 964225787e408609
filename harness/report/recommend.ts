// The recommendation table: for each method in each scope (method × transport today; a new
// dimension such as the filesystem is one more entry in `dimensions`), which safeguards held in
// every case, which failed (with their counterexample), the cheapest that held, and a one-line
// rule generated from those facts. Pure: report data in, report data out.
import { formatSize } from '../model/experiment.ts';
import { safeguardWords } from './safeguard-words.ts';
import {
  byMethod,
  bySafeguard,
  byTransport,
  type CostRow,
  type Counterexample,
  type FailedSafeguard,
  type HeldSafeguard,
  type MatrixCell,
  type Recommendation,
  type Recommendations,
  type SafeguardCost,
  type UnprovenSafeguard,
} from './types.ts';

export const DEFAULT_DIMENSIONS = ['method', 'transport'];

/** The bench's message size the ranking prefers when it measured several. */
const PREFERRED_SIZE = 1 << 20;

export const COST_BASIS =
  'cost = throughput relative to plain write() in the same bench run (higher is cheaper), at 1 MiB messages when measured; ' +
  "a scope whose transport the bench did not run uses another transport's figure and says so; " +
  'copy sends with write(), so it takes the write() row; a safeguard the bench did not measure ranks after every measured one, in the usual safeguard order. ' +
  'Reusing at once (none), when it held, comes first: waiting cannot cost less than not waiting. ' +
  'copy replaces the method, so it is recommended only when no other safeguard held.';

function pickRow(rows: readonly CostRow[], transport: string | undefined): CostRow | undefined {
  const sameTransport = rows.filter((r) => r.transport === transport);
  const pool = sameTransport.length ? sameTransport : rows;
  return pool.find((r) => r.messageSize === PREFERRED_SIZE) ?? pool[0];
}

/** The cost of a safeguard after a method, from the report's bench rows (see COST_BASIS). */
export function costOf(cost: readonly CostRow[], method: string, safeguard: string, transport: string | undefined): SafeguardCost {
  const describe = (r: CostRow, how: string) => {
    const elsewhere = transport !== undefined && r.transport !== transport ? ` (not benched on ${transport})` : '';
    return { ratio: r.ratioVsCopy, measuredOn: r.transport, basis: `${how}bench, ${r.transport}${elsewhere}, ${formatSize(r.messageSize)} messages` };
  };
  const own = pickRow(cost.filter((r) => r.method === method && r.safeguard === safeguard), transport);
  if (own) return describe(own, '');
  // Sending a copy, or write() with nothing to wait for, is plain write().
  if (safeguard === 'copy' || (method === 'write' && safeguard === 'none')) {
    const plain = pickRow(cost.filter((r) => r.method === 'write' && (r.safeguard === 'copy' || r.safeguard === 'none')), transport);
    if (plain) return describe(plain, 'the write() row: ');
  }
  return { ratio: null, measuredOn: null, basis: 'not measured by the bench: ranked after the measured safeguards' };
}

/** Cheapest first: none, then measured ratios high to low, then unmeasured ones in the
 * safeguard order. */
function byCost(a: HeldSafeguard, b: HeldSafeguard): number {
  // Waiting cannot cost less than not waiting: a measured difference would be noise.
  if ((a.safeguard === 'none') !== (b.safeguard === 'none')) return a.safeguard === 'none' ? -1 : 1;
  if (a.cost.ratio !== null && b.cost.ratio !== null && a.cost.ratio !== b.cost.ratio) return b.cost.ratio - a.cost.ratio;
  if ((a.cost.ratio === null) !== (b.cost.ratio === null)) return a.cost.ratio === null ? 1 : -1;
  return bySafeguard(a.safeguard, b.safeguard);
}

const ratioText = (r: number) => `${Number(r.toFixed(2))}×`;

/** Rules stay one line: the cheapest few options are named, the rest counted. */
const MAX_NAMED = 3;

/** "a", "a or b", "a, b or c", "a, b or c (2 more held)". */
function options(held: readonly HeldSafeguard[]): string {
  const named = held.slice(0, MAX_NAMED).map((h) => safeguardWords(h.safeguard).held);
  const list = named.length > 1 ? `${named.slice(0, -1).join(', ')} or ${named.at(-1)}` : (named[0] ?? '');
  return held.length > MAX_NAMED ? `${list} (${held.length - MAX_NAMED} more held)` : list;
}

/** The one-line rule: the safeguards that held (cheapest first), what was not enough, and when
 * sending a copy would be cheaper than the cheapest wait. Built only from the row's data. */
export function ruleOf(method: string, row: Omit<Recommendation, 'rule' | 'scope'>, elsewhere: readonly string[] = []): string {
  const waits = row.held.filter((h) => h.safeguard !== 'copy');
  const copy = row.held.find((h) => h.safeguard === 'copy');
  const parts: string[] = [];
  if (waits[0]?.safeguard === 'none') {
    // An observation, not a guarantee: the bound says how far it goes.
    parts.push(`after ${method}, reusing the buffer at once corrupted no case here (${waits[0].headline})`);
    parts.push(...elsewhere);
    if (waits.length > 1) parts.push(`also held: ${options(waits.slice(1))}`);
  } else if (waits.length) {
    parts.push(`after ${method}, ${options(waits)}`);
    parts.push(...elsewhere);
    const best = waits[0]!.cost.ratio;
    if (copy?.cost.ratio != null && best !== null && copy.cost.ratio > best)
      parts.push(`sending a copy with write() was faster here (${ratioText(copy.cost.ratio)} vs ${ratioText(best)} write() throughput)`);
  } else if (copy) {
    parts.push(`after ${method}, no wait tried held: ${safeguardWords('copy').held}`);
    parts.push(...elsewhere);
  } else if (row.failed.length) {
    parts.push(`after ${method}, no safeguard tried held in every case`);
  } else {
    // The reasons are in the matrix; the rule only says how many were skipped or inconclusive.
    const n = (state: string) => row.unproven.filter((u) => u.state === state).length;
    const states = [`${n('skipped')} skipped`, `${n('inconclusive')} inconclusive`].filter((x) => !x.startsWith('0 '));
    parts.push(`after ${method}, no safeguard was settled here (${states.join(', ') || 'no case ran'})`);
  }
  if (row.failed.length) parts.push(`not enough: ${row.failed.map((f) => safeguardWords(f.safeguard).failed).join(', ')}`);
  if (!row.held.length && row.failed.length && row.unproven.length) parts.push(`not settled: ${row.unproven.map((u) => u.safeguard).join(', ')}`);
  return `${parts.join('; ')}.`;
}

/** The case a failed safeguard links to: its cell's first kept counterexample, else any kept
 * counterexample of the same method × safeguard × transport (a property's shrunk case). */
function counterexampleFor(cell: MatrixCell, cxs: readonly Counterexample[]): string | null {
  const own = cell.counterexampleIds.find((id) => cxs.some((c) => c.caseId === id));
  if (own) return own;
  return cxs.find((c) => c.method === cell.method && c.safeguard === cell.safeguard && c.transport === cell.transport)?.caseId ?? null;
}

function unprovenWhy(cell: MatrixCell): string {
  const first = cell.reasons[0] ?? 'no reason recorded';
  if (cell.verdict === 'skipped') return `skipped: ${first}`;
  const inconclusive = cell.counts.inconclusive ?? 0;
  return inconclusive ? `${inconclusive} of ${cell.cases} inconclusive: ${first}` : `not clean: ${first}`;
}

/** A recommendation that held here but failed in another scope of the same method (e.g. no
 * safeguard on veth, corrupted on loopback) says so, so nobody takes one scope for all. */
function elsewhereFailures(row: Omit<Recommendation, 'rule'>, rows: readonly Omit<Recommendation, 'rule'>[], dims: readonly string[]): string[] {
  if (row.use === null) return [];
  const others = rows.filter((o) => o !== row && o.scope.method === row.scope.method);
  return others.flatMap((o) => {
    const f = o.failed.find((x) => x.safeguard === row.use);
    if (!f) return [];
    const where = dims.filter((d) => d !== 'method' && o.scope[d] !== row.scope[d]).map((d) => o.scope[d]).join(' / ');
    return [`but ${safeguardWords(f.safeguard).failed} was not enough on ${where} (${f.headline})`];
  });
}

const scopeOrder = (dims: readonly string[]) => (a: Record<string, string>, b: Record<string, string>) => {
  for (const d of dims) {
    const order = d === 'method' ? byMethod : d === 'transport' ? byTransport : (x: string, y: string) => x.localeCompare(y);
    const c = order(a[d] ?? '', b[d] ?? '');
    if (c) return c;
  }
  return 0;
};

/** One row per scope (the distinct values of `dimensions` among the cells). */
export function buildRecommendations(
  cells: readonly MatrixCell[],
  cost: readonly CostRow[],
  counterexamples: readonly Counterexample[],
  dimensions: readonly string[] = DEFAULT_DIMENSIONS,
): Recommendations {
  if (!dimensions.includes('method')) throw new Error('recommendations need the method dimension: a rule is about a method');
  const groups = new Map<string, { scope: Record<string, string>; cells: MatrixCell[] }>();
  for (const cell of cells) {
    const fields = cell as unknown as Record<string, string | number | undefined>;
    const scope = Object.fromEntries(dimensions.map((d) => [d, String(fields[d] ?? '')]));
    const key = JSON.stringify(dimensions.map((d) => scope[d]));
    const g = groups.get(key) ?? { scope, cells: [] };
    g.cells.push(cell);
    groups.set(key, g);
  }
  const rows: Omit<Recommendation, 'rule'>[] = [];
  for (const { scope, cells: mine } of groups.values()) {
    const held: HeldSafeguard[] = [];
    const failed: FailedSafeguard[] = [];
    const unproven: UnprovenSafeguard[] = [];
    for (const c of [...mine].sort((a, b) => bySafeguard(a.safeguard, b.safeguard))) {
      if (c.corruptedCases > 0)
        failed.push({ safeguard: c.safeguard, verdict: c.verdict, corruptedCases: c.corruptedCases, cases: c.cases, headline: c.headline, counterexample: counterexampleFor(c, counterexamples) });
      else if (c.verdict === 'clean')
        held.push({ safeguard: c.safeguard, cases: c.cases, upperBound95: c.upperBound95, headline: c.headline, cost: costOf(cost, c.method, c.safeguard, scope.transport) });
      else unproven.push({ safeguard: c.safeguard, state: c.verdict === 'skipped' ? 'skipped' : 'inconclusive', headline: c.headline, why: unprovenWhy(c) });
    }
    held.sort(byCost);
    const use = (held.find((h) => h.safeguard !== 'copy') ?? held[0])?.safeguard ?? null;
    rows.push({ scope, use, held, failed, unproven });
  }
  rows.sort((a, b) => scopeOrder(dimensions)(a.scope, b.scope));
  const withRules = rows.map((row) => ({ ...row, rule: ruleOf(row.scope.method!, row, elsewhereFailures(row, rows, dimensions)) }));
  return { dimensions: [...dimensions], costBasis: COST_BASIS, rows: withRules };
}
