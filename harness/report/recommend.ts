// The recommendation table: per method and scope, which safeguards held, which failed (with their counterexample), the cheapest held one
// that the method's documented contract (model/contracts.ts) allows, and a one-line rule. A by-reference method is never advised
// "none" on clean cases; a documented safe point that failed is a FINDING. Pure: report data in, report data out.
import { allowedBy, contractOf, sendsByReference, type SendContract } from '../model/contracts.ts';
import { formatSize } from '../model/experiment.ts';
import { CONFIDENCE_LEVEL, formatRate } from './confidence.ts';
import { safeguardWords } from './safeguard-words.ts';
import {
  byMethod,
  bySafeguard,
  byTransport,
  type CostRow,
  type ContractContradiction,
  type ContractSummary,
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
  'Reusing at once (none), when it held, comes first: waiting cannot cost less than not waiting; ' +
  'but for a method that sends by reference only a safeguard its documented contract allows is recommended, whatever it costs. ' +
  'copy replaces the method, so it is recommended only when no other allowed safeguard held.';

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

/** What a rule is built from: a row without its rule (and, for the rule itself, its scope). */
type RowFacts = Omit<Recommendation, 'rule' | 'scope'>;

/** "corruption not seen in 6 cases (rate ≤ 39 % at 95 %)": what clean cases bound, and no more. */
function notSeenIn(h: HeldSafeguard): string {
  const bound = h.upperBound95 === null ? '' : ` (rate ≤\u00a0${formatRate(h.upperBound95)} at ${formatRate(CONFIDENCE_LEVEL)})`;
  return `corruption not seen in ${h.cases} case${h.cases === 1 ? '' : 's'}${bound}`;
}

/** "2 skipped, 1 inconclusive", or "no case ran". */
function unsettled(row: RowFacts): string {
  const n = (state: string) => row.unproven.filter((u) => u.state === state).length;
  const states = [`${n('skipped')} skipped`, `${n('inconclusive')} inconclusive`].filter((x) => !x.startsWith('0 '));
  return states.join(', ') || 'no case ran';
}

const quoted = (c: ContractSummary) => `"${c.quote}" (${c.source})`;

/** The rule's opening for a copying method (write): the cheapest that held leads, reuse at once too. */
function copyingRule(method: string, row: RowFacts, elsewhere: readonly string[]): string[] {
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
    parts.push(`after ${method}, no safeguard was settled here (${unsettled(row)})`);
  }
  return parts;
}

/** The rule's opening for a by-reference method: only what the contract allows is advice; clean
 * cases of anything else are reported as what they are, next to the contract they cannot overturn. */
function byReferenceRule(method: string, c: ContractSummary, row: RowFacts, elsewhere: readonly string[]): string[] {
  const allowed = row.held.filter((h) => h.meetsContract && h.safeguard !== 'copy');
  const copy = row.held.find((h) => h.safeguard === 'copy');
  const parts: string[] = [];
  if (allowed.length) {
    parts.push(`after ${method}, ${options(allowed)}`);
    parts.push(...elsewhere);
    const best = allowed[0]!.cost.ratio;
    if (copy?.cost.ratio != null && best !== null && copy.cost.ratio > best)
      parts.push(`sending a copy with write() was faster here (${ratioText(copy.cost.ratio)} vs ${ratioText(best)} write() throughput)`);
  } else {
    const nothing = !row.held.length && !row.failed.length ? ` (${unsettled(row)})` : '';
    const tried = c.safeAfter.length ? `no safeguard that waits for it held here${nothing}` : 'no safeguard can wait for it';
    parts.push(`after ${method}, the API requires ${c.safePoint}; ${tried}${copy ? `: ${safeguardWords('copy').held}` : ''}`);
    parts.push(...elsewhere);
  }
  const none = row.held.find((h) => h.safeguard === 'none');
  if (none) parts.push(`reusing at once: ${notSeenIn(none)}, but the API still requires ${c.safePoint}: ${quoted(c)}`);
  else parts.push(`documented: ${quoted(c)}`);
  const outside = row.held.filter((h) => !h.meetsContract && h.safeguard !== 'none');
  if (outside.length) {
    const named = outside.map((h) => `${safeguardWords(h.safeguard).failed} (${h.cases}/${h.cases} clean)`);
    parts.push(`clean here but not the API's safe point: ${named.join(', ')}`);
  }
  return parts;
}

/** The one-line rule: a failed documented safe point first, then the safeguards that held
 * (cheapest first; for a by-reference method only those its contract allows), what was not
 * enough, and when sending a copy would be cheaper than the cheapest wait. Built only from the
 * row's data. */
export function ruleOf(method: string, row: RowFacts, elsewhere: readonly string[] = []): string {
  const c = row.contract;
  const contradicted = row.failed.filter((f) => f.meetsContract);
  const parts: string[] = contradicted.map(
    (f) => `FINDING: ${safeguardWords(f.safeguard).failed}, after which the API allows reuse, was not enough here (${f.headline})`,
  );
  parts.push(...(c.holds !== 'copy' ? byReferenceRule(method, c, row, elsewhere) : copyingRule(method, row, elsewhere)));
  const notEnough = row.failed.filter((f) => !f.meetsContract);
  if (notEnough.length) parts.push(`not enough: ${notEnough.map((f) => safeguardWords(f.safeguard).failed).join(', ')}`);
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

function summaryOf(c: SendContract): ContractSummary {
  const { holds, mayReadUntil, safePoint, source, document, quote } = c;
  return { holds, mayReadUntil, safePoint, safeAfter: [...c.safeAfter], source, document, quote };
}

/** Every safeguard of the row that the contract allows reuse after, yet a conclusive case was
 * corrupted after it (rule 1 of the verdict makes a case whose safeguard did not reach its safe
 * point inconclusive, so every corrupted case counts). */
function contradictionsOf(row: Recommendation, dims: readonly string[]): ContractContradiction[] {
  const c = row.contract;
  const method = row.scope.method!;
  const where = dims.filter((d) => d !== 'method').map((d) => `${d} ${row.scope[d]}`).join(', ');
  return row.failed.filter((f) => f.meetsContract).map((f) => ({
    scope: row.scope,
    safeguard: f.safeguard,
    corruptedCases: f.corruptedCases,
    cases: f.cases,
    headline: f.headline,
    counterexample: f.counterexample,
    line:
      `FINDING: ${method}${where ? ` (${where})` : ''}: ${safeguardWords(f.safeguard).failed}, after which the API allows reuse, ` +
      `was not enough: ${f.headline}. The contract: ${quoted(c)}.`,
  }));
}

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
    const known = contractOf(scope.method!);
    // A rule without the method's contract could advise what its documentation forbids.
    if (!known) throw new Error(`no documented contract for method "${scope.method}" (harness/model/contracts.ts)`);
    const contract = summaryOf(known);
    const meets = (safeguard: string) => allowedBy(known, safeguard);
    const held: HeldSafeguard[] = [];
    const failed: FailedSafeguard[] = [];
    const unproven: UnprovenSafeguard[] = [];
    for (const c of [...mine].sort((a, b) => bySafeguard(a.safeguard, b.safeguard))) {
      if (c.corruptedCases > 0) {
        failed.push({
          safeguard: c.safeguard, meetsContract: meets(c.safeguard), verdict: c.verdict, corruptedCases: c.corruptedCases, cases: c.cases,
          headline: c.headline, counterexample: counterexampleFor(c, counterexamples),
        });
      } else if (c.verdict === 'clean') {
        const price = costOf(cost, c.method, c.safeguard, scope.transport);
        const { safeguard, cases, upperBound95, headline } = c;
        held.push({ safeguard, meetsContract: meets(safeguard), cases, upperBound95, headline, cost: price });
      } else {
        const state = c.verdict === 'skipped' ? 'skipped' : 'inconclusive';
        unproven.push({ safeguard: c.safeguard, state, headline: c.headline, why: unprovenWhy(c) });
      }
    }
    held.sort(byCost);
    // A by-reference method's advice is only what its contract allows: never 'none'.
    const eligible = sendsByReference(known) ? held.filter((h) => h.meetsContract) : held;
    const use = (eligible.find((h) => h.safeguard !== 'copy') ?? eligible[0])?.safeguard ?? null;
    rows.push({ scope, use, contract, held, failed, unproven });
  }
  rows.sort((a, b) => scopeOrder(dimensions)(a.scope, b.scope));
  const withRules = rows.map((row) => ({ ...row, rule: ruleOf(row.scope.method!, row, elsewhereFailures(row, rows, dimensions)) }));
  const contradictions = withRules.flatMap((row) => contradictionsOf(row, dimensions));
  return { dimensions: [...dimensions], contradictions, costBasis: COST_BASIS, rows: withRules };
}
