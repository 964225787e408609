// The report's data model: what one matrix run found, as plain JSON (report.json, validated by
// schema/report.schema.json) from which the HTML and Markdown renderings are pure functions.
// The matrix cells are derived from the cases here, so every renderer shows the same verdicts.
import { METHODS, SAFEGUARDS, TRANSPORTS } from '../experiment.ts';

/** A case's verdict (harness/verdict.ts) plus 'skipped': the host cannot run that cell. */
export type Verdict = 'clean' | 'corrupted-on-wire' | 'corrupted-on-retransmit' | 'corrupted-after-wire' | 'corrupted' | 'inconclusive' | 'skipped';

export const VERDICTS: readonly Verdict[] = ['clean', 'corrupted-on-wire', 'corrupted-on-retransmit', 'corrupted-after-wire', 'corrupted', 'inconclusive', 'skipped'];

/** Strongest proof first: bytes seen on the wire beat bytes only the receiver saw, which beat a
 * two-stream (no capture) mismatch whose place of corruption is unknown. */
export const CORRUPTED: readonly Verdict[] = ['corrupted-on-wire', 'corrupted-on-retransmit', 'corrupted-after-wire', 'corrupted'];

export interface HostInfo {
  /** uname -r */
  kernel: string;
  /** uname -a */
  uname: string;
  cpus: number;
  /** process.version */
  node: string;
  /** ethtool -k per interface the transports used: feature → "on" | "off" | "on [fixed]" */
  offloads: Record<string, Record<string, string>>;
  /** ISO 8601 */
  createdAt: string;
}

export interface Counterexample {
  caseId: string;
  method: string;
  safeguard: string;
  transport: string;
  size: number;
  receiverDelayMs: number;
  rcvbuf: number | null;
  verdict: Verdict;
  /** fast-check replay: `zcprobe run --replay <claim>:<seed>:<path>` (claim: the property's id) */
  claim?: string;
  seed?: number;
  path?: string;
  /** hex of 64 bytes of each stream around the first mismatch (harness/evidence.ts) */
  hexDiff: { offset: number; intended: string; wire: string | null; received: string };
  /** ms relative to the start of the send */
  timeline: {
    sendReturnedMs: number; mutatedMs: number; firstMutatedPacketMs: number | null; receiverFirstReadMs: number | null;
    /** tun: faults the link injected into the connection (drops, reorders), ms after the send started */
    linkEvents?: { ms: number; label: string }[];
  };
  /** path relative to the report directory; null when no capture ran */
  pcap: string | null;
  /** path relative to the report directory */
  caseJson: string;
  wire?: { mismatchedBytes: number; firstOffset: number | null };
  received: { mismatchedBytes: number; firstOffset: number | null; equalsMutation: number; zero: number };
}

export interface MatrixCell {
  method: string;
  safeguard: string;
  transport: string;
  cases: number;
  /** bytes the receivers read in total over the cell's cases */
  bytes: number;
  counts: Partial<Record<Verdict, number>>;
  /** see cellVerdict */
  verdict: Verdict;
  reasons: string[];
  /** ids of the cell's corrupted cases; the renderers link the first one that has a counterexample */
  counterexampleIds: string[];
}

export interface Stat3 {
  median: number;
  min: number;
  max: number;
}

export interface CostRow {
  method: string;
  safeguard: string;
  transport: string;
  messageSize: number;
  throughputMBps: Stat3;
  senderCpuMsPerGB: Stat3;
  /** median throughput / the median throughput of safeguard 'copy' for the same method and size */
  ratioVsCopy: number;
}

export interface Report {
  schemaVersion: 1;
  runId: string;
  tool: { name: 'zcprobe'; version: string };
  host: HostInfo;
  /** pageOwnership: one line on whose pages the receiving application reads over this transport */
  transports: { name: string; describe: string; pageOwnership?: string }[];
  cells: MatrixCell[];
  counterexamples: Counterexample[];
  cost: CostRow[];
  notes: string[];
  durationMs: number;
}

/**
 * A cell's overall verdict. Any corrupted case → the strongest corrupted verdict present (one
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

/** The part of a CaseReport (harness/case-report.ts) the matrix needs. */
export interface CaseLike {
  id: string;
  method: string;
  safeguard: string;
  transport: string;
  size: number;
  verdict: Verdict;
  reasons: string[];
  received: { bytes: number };
}

/** A cell the host could not run (harness/matrix.ts plannedCells' `skipped`). */
export interface SkippedCell {
  method: string;
  safeguard: string;
  transport: string;
  reason: string;
}

/** Reasons kept per cell; the rest are counted so a noisy cell cannot bloat the report. */
const MAX_REASONS = 8;

/** Sorts by the experiment's canonical order (METHODS, SAFEGUARDS, TRANSPORTS) so tables read the
 * same in every run; names this version does not know go last, alphabetically. */
export function orderOf(known: readonly string[]): (a: string, b: string) => number {
  const rank = (x: string) => {
    const i = known.indexOf(x);
    return i < 0 ? known.length : i;
  };
  return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}
export const byMethod = orderOf(METHODS);
export const bySafeguard = orderOf(SAFEGUARDS);
export const byTransport = orderOf(TRANSPORTS);

/** Groups cases per (method, safeguard, transport) and derives each cell's verdict. */
export function buildMatrixCells(cases: readonly CaseLike[], skipped: readonly SkippedCell[] = []): MatrixCell[] {
  const cells = new Map<string, MatrixCell & { reasonCount: Map<string, number> }>();
  const cellOf = (c: { method: string; safeguard: string; transport: string }) => {
    const key = JSON.stringify([c.method, c.safeguard, c.transport]);
    let cell = cells.get(key);
    if (!cell) {
      cell = { method: c.method, safeguard: c.safeguard, transport: c.transport, cases: 0, bytes: 0, counts: {}, verdict: 'inconclusive', reasons: [], counterexampleIds: [], reasonCount: new Map() };
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
    if (cell.cases === 0 && !cell.counts.skipped) cell.reasons.push('no case ran');
    out.push(cell);
  }
  return out.sort((a, b) => byMethod(a.method, b.method) || bySafeguard(a.safeguard, b.safeguard) || byTransport(a.transport, b.transport));
}

/** "N/M verdict" for the cell's headline verdict, as the HTML and Markdown tables show it. */
export function cellSummary(c: MatrixCell): string {
  const n = c.counts[c.verdict] ?? 0;
  // A clean-only cell made inconclusive by a reason (dropped packets) has no inconclusive case to
  // count: "0/12 inconclusive" would read as nonsense, so it shows the bare verdict.
  return c.verdict === 'skipped' || n === 0 ? c.verdict : `${n}/${c.cases} ${c.verdict}`;
}

/** The other verdicts of a mixed cell, e.g. ["3 clean", "1 inconclusive"]. */
export function otherCounts(c: MatrixCell): string[] {
  return VERDICTS.filter((v) => v !== c.verdict && (c.counts[v] ?? 0) > 0).map((v) => `${c.counts[v]} ${v}`);
}

/** The command that reruns a counterexample: the property's exact replay when it came from one,
 * else the experiment spelled out as `zcprobe run` flags. */
export function replayCommand(c: Counterexample): string {
  if (c.claim !== undefined && c.seed !== undefined && c.path !== undefined)
    return `npx zcprobe run --replay ${c.claim}:${c.seed}:${c.path} --transport ${c.transport}`;
  const rcvbuf = c.rcvbuf === null ? '' : ` --rcvbuf ${c.rcvbuf}`;
  return `npx zcprobe run --method ${c.method} --size ${c.size} --safeguard ${c.safeguard} --receiver-delay-ms ${c.receiverDelayMs}${rcvbuf} --transport ${c.transport}`;
}

/** Matrix axes in canonical order: methods and safeguards present, transports as the report
 * lists them (then any a cell names that the list lacks). */
export function matrixAxes(r: Pick<Report, 'cells' | 'transports'>): { methods: string[]; safeguards: string[]; transports: string[] } {
  const uniq = (xs: string[]) => [...new Set(xs)];
  const transports = uniq([...r.transports.map((t) => t.name), ...r.cells.map((c) => c.transport).sort(byTransport)]);
  return {
    methods: uniq(r.cells.map((c) => c.method)).sort(byMethod),
    safeguards: uniq(r.cells.map((c) => c.safeguard)).sort(bySafeguard),
    transports,
  };
}

export const cellKey = (method: string, safeguard: string, transport: string): string => JSON.stringify([method, safeguard, transport]);
