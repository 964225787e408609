// The report's data model: what one matrix run found, as plain JSON (report.json, validated by
// schema/report.schema.json) from which the HTML and Markdown renderings are pure functions.
// The matrix cells are derived from the cases here, so every renderer shows the same verdicts.
import { METHODS, SAFEGUARDS, TRANSPORTS } from '../model/experiment.ts';
import { faultsFromConfig, linkFlagArgs } from '../model/link-spec.ts';
import type { FilesystemSection } from './fs-types.ts';
import type { ServersSection } from './server-types.ts';

/** A case's verdict (harness/verdict/verdict.ts) plus 'skipped': the host cannot run that cell. */
export type Verdict = 'clean' | 'corrupted-on-wire' | 'corrupted-on-retransmit' | 'corrupted-after-wire' | 'corrupted' | 'inconclusive' | 'skipped';

/** Every corrupted kind, worst first (the order a cell's colour is chosen in): the receiver read
 * wrong bytes that crossed the wire, wrong bytes the wire did not carry, wrong bytes from an
 * uncaptured run; last, a retransmission carried changed bytes the receiver did not read (proof
 * the kernel read the changed pages, which a lossy link could have delivered). */
export const CORRUPTED: readonly Verdict[] = ['corrupted-on-wire', 'corrupted-after-wire', 'corrupted', 'corrupted-on-retransmit'];

export const VERDICTS: readonly Verdict[] = ['clean', ...CORRUPTED, 'inconclusive', 'skipped'];

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
  /** sender SO_SNDBUF in bytes; absent or null: autotuning */
  sndbuf?: number | null;
  /** tun: the link's recorded config (MTU and faults, as case.json link.config), so the replay asks for the same link */
  link?: Record<string, string | number>;
  /** where the capture ran (docs/capture-placement.md); absent in reports written before it was recorded */
  senderCapture?: 'on' | 'off';
  verdict: Verdict;
  /** fast-check replay: `zcprobe run --replay <claim>:<seed>:<path>` (claim: the property's id) */
  claim?: string;
  seed?: number;
  path?: string;
  /** hex of 64 bytes of each stream around the first mismatch (harness/evidence/bundle.ts) */
  hexDiff: { offset: number; intended: string; wire: string | null; received: string };
  /** ms relative to the start of the send */
  timeline: {
    sendReturnedMs: number; mutatedMs: number; firstMutatedPacketMs: number | null; receiverFirstReadMs: number | null;
    /** tun: faults the link injected into the connection (drops, reorders), ms after the send started */
    linkEvents?: { ms: number; label: string }[];
  };
  /** remote runs: the receiver's times (first read, first mutated packet) are the agent's clock
   * put on the sender's, each uncertain by ± this many ms */
  receiverClockUncertaintyMs?: number;
  /** path relative to the report directory; null when no capture ran */
  pcap: string | null;
  /** path relative to the report directory */
  caseJson: string;
  /** the same packets annotated for Wireshark (relative path) and the filter that shows the proving frames */
  wireshark?: { pcapng: string; filter: string; frames: number[] };
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
  /** per stress condition (size, reader delay, buffers), in the order they ran: cases and corrupted
   * cases; one condition's rate can be far above the pooled one */
  conditions: { condition: string; cases: number; corrupted: number }[];
  /** the worst verdict present (harness/report/cells.ts cellVerdict): the cell's colour */
  verdict: Verdict;
  /** cases of every corrupted kind */
  corruptedCases: number;
  /** upper bound on the corruption rate at 95 % confidence that the clean cases support when
   * none was corrupted: 1 − 0.05^(1/clean) (≈ 3/clean); null when a case was corrupted or none
   * was clean */
  upperBound95: number | null;
  /** what every rendering shows, e.g. "6/6 corrupted (2 on wire, 4 after wire)" */
  headline: string;
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

/** What a safeguard costs, as the recommendation ranks it. */
export interface SafeguardCost {
  /** the bench's throughput relative to plain write() in the same run (higher is cheaper);
   * null when the bench did not measure this method × safeguard */
  ratio: number | null;
  /** the transport the bench measured the ratio on (it may differ from the scope's); null when
   * not measured */
  measuredOn: string | null;
  /** where the ratio comes from, e.g. "bench, loopback, 1MiB messages" */
  basis: string;
}

/** The method's documented contract as the report states it (harness/model/contracts.ts). */
export interface ContractSummary {
  /** copy: copied during the call; reference: the kernel may read the source after the call
   * returned; gift: the pages were handed to the kernel for good */
  holds: 'copy' | 'reference' | 'gift';
  mayReadUntil: string;
  /** the documented safe point, in words that follow "the API still requires " */
  safePoint: string;
  /** safeguards whose signal reaches the safe point ('copy', which replaces the method, is
   * always allowed and not listed) */
  safeAfter: string[];
  /** man page or kernel doc, and section */
  source: string;
  /** the document in full (package or kernel source path) */
  document: string;
  quote: string;
}

/** A safeguard whose every case in the scope was clean. */
export interface HeldSafeguard {
  safeguard: string;
  /** the method's contract allows changing the source after it (its safe point, or a copy) */
  meetsContract: boolean;
  cases: number;
  /** the cell's upperBound95 */
  upperBound95: number | null;
  headline: string;
  cost: SafeguardCost;
}

/** A safeguard with at least one corrupted case in the scope. */
export interface FailedSafeguard {
  safeguard: string;
  /** the contract allows changing the source after it: its failure contradicts the contract */
  meetsContract: boolean;
  /** the cell's worst verdict */
  verdict: Verdict;
  corruptedCases: number;
  cases: number;
  headline: string;
  /** caseId of the report.counterexamples entry that shows it; null when none was kept */
  counterexample: string | null;
}

/** A safeguard neither held nor failed: skipped, or no corrupted case but some inconclusive. */
export interface UnprovenSafeguard {
  safeguard: string;
  /** skipped: the host could not run it; inconclusive: it ran but the evidence was incomplete */
  state: 'skipped' | 'inconclusive';
  headline: string;
  why: string;
}

/** What to do after one method in one scope (method × transport, later × filesystem …). */
export interface Recommendation {
  /** one value per Recommendations.dimensions, e.g. { method: 'sendfile', transport: 'veth' } */
  scope: Record<string, string>;
  /** the cheapest safeguard that held (an entry of `held`) and that the method's contract allows,
   * preferring any that keeps the method over `copy`, which replaces it; null when none such held.
   * Never 'none' for a method that sends by reference, whatever its cases showed. */
  use: string | null;
  /** the method's documented contract */
  contract: ContractSummary;
  /** every safeguard that held, cheapest first */
  held: HeldSafeguard[];
  failed: FailedSafeguard[];
  unproven: UnprovenSafeguard[];
  /** one line generated from held/failed/unproven and the costs */
  rule: string;
}

/** A documented safe point that failed: a conclusive corrupted case (a corrupted verdict implies
 * the safeguard reached its safe point) after a safeguard the method's contract allows reuse after. */
export interface ContractContradiction {
  scope: Record<string, string>;
  safeguard: string;
  corruptedCases: number;
  cases: number;
  headline: string;
  /** caseId of the report.counterexamples entry that shows it; null when none was kept */
  counterexample: string | null;
  /** "FINDING: …", quoting the contract */
  line: string;
}

export interface Recommendations {
  /** the cell fields a row is keyed by, in column order */
  dimensions: string[];
  /** the report's first findings, before everything else: evidence against a documented contract */
  contradictions: ContractContradiction[];
  /** how costs were chosen and how an unmeasured cost is ranked */
  costBasis: string;
  rows: Recommendation[];
}

export interface Report {
  schemaVersion: 3;
  runId: string;
  tool: { name: 'zcprobe'; version: string };
  host: HostInfo;
  /** pageOwnership: one line on whose pages the receiving application reads over this transport */
  transports: { name: string; describe: string; pageOwnership?: string }[];
  /** how many cases a cell got: repeats × casesPerRepeat (the stress conditions); the bound a
   * clean cell supports tightens with --repeats */
  plan: { repeats: number; casesPerRepeat: number };
  /** first in every rendering: what to do, per method and scope */
  recommendations: Recommendations;
  cells: MatrixCell[];
  counterexamples: Counterexample[];
  cost: CostRow[];
  notes: string[];
  durationMs: number;
  /** the last npm test's kernel-dependent observations on this kernel vs baselines/ (absent when
   * none were recorded) */
  observations?: ReportObservations;
  /** file methods × mutation × safeguard on each filesystem (harness/suites/fs-matrix.ts); absent when not run */
  filesystems?: FilesystemSection;
  /** real servers (zcprobe serve): server × setting × mutation; absent when not run */
  servers?: ServersSection;
}

/** One observation as a rate next to its baseline's rate. */
export interface ObservationRow {
  id: string;
  transport: string;
  /** what a case counts as seen, e.g. "corrupted" */
  event: string;
  seen: number;
  runs: number;
  /** exact (Clopper–Pearson) two-sided 95 % interval of the rate */
  interval95: { lower: number; upper: number };
  /** "3/12 corrupted (95 % CI 5.5–57 %)" */
  outcome: string;
  baseline: { seen: number; runs: number; outcome: string; singleOutcome: boolean } | null;
  /** Fisher's exact test, two-sided, against the baseline; null without a comparable baseline */
  pValue: number | null;
  /** differs: a finding (p below the run's threshold, 1 % / K: baselines.ts judgeFamily); consistent: within chance */
  status: 'consistent' | 'differs' | 'no-baseline';
  line: string;
}

export interface ReportObservations {
  /** the JSON-lines file npm test wrote */
  source: string;
  recordedAt: string;
  /** how a difference is decided, e.g. "Fisher's exact test, two-sided, α = 1 %; …" */
  test: string;
  rows: ObservationRow[];
}

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

/** The command that reruns a counterexample: the property's exact replay when it came from one,
 * else the experiment spelled out as `zcprobe run` flags. */
export type ReplayFields = 'method' | 'size' | 'safeguard' | 'receiverDelayMs' | 'rcvbuf' | 'sndbuf' | 'transport' | 'link'
  | 'senderCapture' | 'claim' | 'seed' | 'path';

export function replayCommand(c: Pick<Counterexample, ReplayFields>): string {
  const link = c.link ? faultsFromConfig(c.link) : null;
  // The link and the capture placement are part of the case: a replay without them is another case.
  const tail = [
    ...(link ? linkFlagArgs(c.claim === undefined ? link.link : {}, link.mtu) : []),
    ...(c.senderCapture ? ['--sender-capture', c.senderCapture] : []),
  ].map(shellWord);
  if (c.claim !== undefined && c.seed !== undefined && c.path !== undefined)
    return [`npx zcprobe run --replay ${c.claim}:${c.seed}:${c.path} --transport ${c.transport}`, ...tail].join(' ');
  const rcvbuf = c.rcvbuf === null ? '' : ` --rcvbuf ${c.rcvbuf}`;
  const sndbuf = c.sndbuf === null || c.sndbuf === undefined ? '' : ` --sndbuf ${c.sndbuf}`;
  const head = `npx zcprobe run --method ${c.method} --size ${c.size} --safeguard ${c.safeguard} --receiver-delay-ms ${c.receiverDelayMs}`;
  return [`${head}${rcvbuf}${sndbuf} --transport ${c.transport}`, ...tail].join(' ');
}

/** A word as a POSIX shell reads it back ("#3,#10-12" would start a comment unquoted). */
function shellWord(w: string): string {
  return /^[A-Za-z0-9._%/:=@+,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
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
