// The evidence suite behind `npm start` / `zcprobe report`: probe the host, run every method × safeguard × transport
// cell it supports (bounded), the file methods per filesystem and a short cost bench, and assemble the Report.
import { execFile } from 'node:child_process';
import { cpus, release } from 'node:os';
import { relative } from 'node:path';
import { promisify } from 'node:util';
import { runBench, type Progress } from './bench/runner.ts';
import { DEFAULT_CONFIG } from './bench/config.ts';
import { summarize } from './bench/report.ts';
import type { RemoteOptions } from '../roles/agent/remote-transport.ts';
import type { CaseReport } from '../verdict/case-report.ts';
import { EVIDENCE_PCAP_POLICY } from '../evidence/trimmed-pcap.ts';
import { FILE_METHODS, SAFEGUARDS, type Method, type Safeguard, type SenderCapture, type Transport } from '../model/experiment.ts';
import { FS_MUTATIONS, runFsMatrix, type FsPlan } from './fs-matrix.ts';
import type { FsSpec } from '../model/fs-spec.ts';
import { diskUsage, formatBytes } from '../host/disk.ts';
import { plannedCells, runMatrix, STRESS_CASES, type MatrixPlan, type MatrixProgress } from './matrix.ts';
import { runAllProbes, type Probe } from '../world/probes.ts';
import { buildMatrixCells, conditionLabel, type SkippedCell } from '../report/cells.ts';
import { loadObservations, observationsFile } from '../report/observations.ts';
import { buildRecommendations } from '../report/recommend.ts';
import { CAPTURES_DIR } from '../session/session.ts';
import type { CostRow, Counterexample, MatrixCell, Report } from '../report/types.ts';
import { buildFsSection } from '../report/filesystems.ts';
import type { LinkEvent } from '../world/transport/types.ts';
import { isCorrupted } from '../verdict/verdict.ts';
import { makeServeExperiment, settingsLabel, type ServerName } from '../model/serve-spec.ts';
import { buildServersSection } from '../report/servers.ts';
import { runServe } from './serve.ts';

const run = promisify(execFile);

export interface SuiteOptions {
  runDir: string;
  runId: string;
  repeats: number;
  transports: Transport[];
  methods: Method[];
  /** default: every safeguard (a short suite, e.g. the kernels smoke, picks a few) */
  safeguards?: Safeguard[];
  /** bytes per bench run for the cost rows; 0 skips the cost measurement */
  costTotal: number;
  /** filesystems for the file methods' section (harness/suites/fs-matrix.ts); empty or absent: not run */
  filesystems?: FsSpec[];
  /** nic: "IF1,IF2" (the nic column runs only with it) */
  nicPair?: string;
  onProgress?: (p: MatrixProgress) => void;
  onPhase?: Progress;
  /** transport 'remote': the agent */
  remote?: RemoteOptions;
  /** --sender-capture for every cell (absent: each method's default on its transport) */
  senderCapture?: SenderCapture;
  /** real servers for the "Real servers" section (zcprobe serve cases); empty or absent: not run */
  servers?: ServerName[];
}

/** What the probes rule out, as plan entries with the probe's reason. */
export function unavailableFromProbes(probes: Probe[]): MatrixPlan['unavailable'] {
  const why = (name: Probe['name']) => {
    const p = probes.find((x) => x.name === name);
    return p && !p.ok ? `${name}: ${p.detail}${p.fix ? ` (${p.fix})` : ''}` : null;
  };
  const out: MatrixPlan['unavailable'] = [];
  const netns = why('netns');
  if (netns) out.push({ transport: 'veth', reason: netns });
  const tun = why('tun');
  if (tun) out.push({ transport: 'tun', reason: tun });
  const uring = why('ioUringSendZc');
  if (uring) out.push({ method: 'io-uring-zc', reason: uring });
  const zc = why('soZerocopy');
  if (zc) out.push({ method: 'msg-zerocopy', reason: zc });
  const leases = why('leases');
  if (leases) for (const s of SAFEGUARDS) if (s.startsWith('lease')) out.push({ safeguard: s, reason: leases });
  return out;
}

/** Loop-image filesystems the probes could not mkfs and mount, with the probe's reason. */
export function fsUnavailableFromProbes(probes: Probe[]): FsPlan['unavailable'] {
  const names = { ext4: 'fsExt4', xfs: 'fsXfs', btrfs: 'fsBtrfs' } as const;
  return (Object.entries(names) as [FsSpec, Probe['name']][]).flatMap(([fs, name]) => {
    const p = probes.find((x) => x.name === name);
    return p && !p.ok ? [{ fs, reason: `${name}: ${p.detail}${p.fix ? ` (${p.fix})` : ''}` }] : [];
  });
}

async function offloadsOf(iface: string): Promise<Record<string, string>> {
  try {
    const { stdout } = await run('ethtool', ['-k', iface], { timeout: 5000 });
    const features: Record<string, string> = {};
    for (const line of stdout.split('\n').slice(1)) {
      const m = /^\s*([a-z0-9-]+): (.+)$/.exec(line);
      if (m) features[m[1]!] = m[2]!.trim();
    }
    return features;
  } catch {
    return {}; // ethtool missing: the report says no offloads were read
  }
}

/** The last npm test's observations on this kernel, when there are any. */
function observed(): { observations?: NonNullable<Report['observations']> } {
  const o = loadObservations(observationsFile(CAPTURES_DIR));
  return o ? { observations: o } : {};
}

function counterexampleOf(c: CaseReport, runDir: string): Counterexample | null {
  if (!c.evidence || !c.hexDiff) return null;
  const t0 = c.timings.sendStartedAt;
  const rel = (x: number | null) => (x === null ? null : x - t0);
  return {
    caseId: c.id,
    method: c.method,
    safeguard: c.safeguard,
    transport: c.transport,
    size: c.size,
    receiverDelayMs: c.receiverDelayMs,
    rcvbuf: c.rcvbuf,
    sndbuf: c.sndbuf,
    // the replay command needs the link and the capture placement to be the same case
    ...(c.link ? { link: c.link.config } : {}),
    ...(c.senderCapture ? { senderCapture: c.senderCapture } : {}),
    verdict: c.verdict,
    // I/W/R only: the report schema has no row for M (the source after the mutation; hexdiff.txt has it)
    hexDiff: { offset: c.hexDiff.offset, intended: c.hexDiff.intended, wire: c.hexDiff.wire, received: c.hexDiff.received },
    timeline: {
      sendReturnedMs: c.timings.sendReturnedAt - t0,
      mutatedMs: c.timings.mutatedAt - t0,
      firstMutatedPacketMs: rel(c.timings.firstMutatedPacketAt),
      receiverFirstReadMs: rel(c.timings.receiverFirstReadAt),
      // what a fault-injecting link (tun) did to the connection, on the same clock
      ...(c.link?.events.length ? { linkEvents: c.link.events.map((e) => ({ ms: e.at - t0, label: linkEventLabel(e) })) } : {}),
    },
    ...(c.timings.receiverClock ? { receiverClockUncertaintyMs: c.timings.receiverClock.uncertaintyMs } : {}),
    pcap: c.evidence.pcap ? relative(runDir, c.evidence.pcap) : null,
    caseJson: relative(runDir, c.evidence.caseJson),
    ...(c.wireshark && c.evidence.pcapng
      ? { wireshark: { pcapng: relative(runDir, c.evidence.pcapng), filter: c.wireshark.filter, frames: c.wireshark.frames } }
      : {}),
    ...(c.wire.capture === 'captured' ? { wire: { mismatchedBytes: c.wire.mismatchedBytes, firstOffset: c.wire.firstOffset } } : {}),
    received: {
      mismatchedBytes: c.received.mismatchedBytes, firstOffset: c.received.firstOffset,
      equalsMutation: c.received.equalsMutation, zero: c.received.zero,
    },
  };
}

/** "drop #3 @8948" — short enough for a timeline lane. */
function linkEventLabel(e: LinkEvent): string {
  const what = e.segment !== undefined ? `segment #${e.segment}${e.retransmission ? ' (retransmission)' : ''}` : `${e.len} B ${e.dir}`;
  return `link ${e.kind === 'drop' ? 'dropped' : 'reordered'} ${what}${e.offset !== undefined ? ` @${e.offset}` : ''}`;
}

const stat3 = (s: { median: number; min: number; max: number }) => ({ median: s.median, min: s.min, max: s.max });

async function measureCost(total: number, onPhase?: Progress): Promise<CostRow[]> {
  const config = { ...DEFAULT_CONFIG, sizes: [1 << 20], cSizes: [], total, safeguardTotal: Math.max(1 << 20, total / 4), runs: 3 };
  const bench = summarize(await runBench(config, onPhase));
  const rows: CostRow[] = [];
  for (const r of bench.rows) {
    if (r.impl !== 'harness' || !r.throughputMBps || !r.senderCpuMsPerGB) continue;
    const copy = r.method === 'write' && r.safeguard === 'none';
    rows.push({
      method: r.method,
      safeguard: copy ? 'copy' : r.safeguard,
      transport: 'loopback',
      messageSize: r.size,
      throughputMBps: stat3(r.throughputMBps),
      senderCpuMsPerGB: stat3(r.senderCpuMsPerGB),
      // the bench's paired per-round ratio against write() at the same size (1 for write itself)
      ratioVsCopy: copy ? 1 : (r.vsWrite?.throughput?.median ?? NaN),
    });
  }
  return rows.filter((r) => Number.isFinite(r.ratioVsCopy));
}

/** How much disk this run's evidence bundles take (the report files come on top), and the policy. */
function evidenceDiskNote(runDir: string, cases: CaseReport[]): string {
  const bundles = cases.filter((c) => c.evidence).length;
  const mib = (n: number) => `${n / (1 << 20)} MiB`;
  const policy = EVIDENCE_PCAP_POLICY;
  return `Disk: ${formatBytes(diskUsage(runDir))} of evidence in ${bundles} case bundles. ` +
    'The first non-clean case of each cell and verdict keeps the full bundle ' +
    `(case.pcapng: over ${mib(policy.wholeUpToBytes)} whole frames only within ${policy.contextBytes >> 10} KiB ` +
    'of where W/R first differ and of differing retransmissions, headers of the rest); ' +
    'later ones keep case.json, hexdiff.txt and only the frames that prove the verdict whole (see bundle and evidencePcap in case.json). ' +
    'Old runs: npx zcprobe prune --keep N | --older-than D.';
}

export async function runEvidenceSuite(opts: SuiteOptions): Promise<Report> {
  const started = performance.now();
  const probes = await probeHost();
  const plan = planFrom(opts, probes);
  const matrix = await runCells(opts, plan);
  const cells = buildMatrixCells(matrix.cases, skippedCells(plan));
  const counterexamples = counterexamplesFor(cells, matrix.cases, opts.runDir);
  const filesystems = await runFilesystems(opts, probes);
  const servers = opts.servers?.length ? await serverSection(opts) : undefined;
  opts.onPhase?.('measuring the cost of the safeguards (loopback, 1 MiB messages)');
  const cost = opts.costTotal > 0 ? await measureCost(opts.costTotal, opts.onPhase) : [];
  return assemble(opts, { started, plan, matrix, cells, counterexamples, cost, filesystems, servers });
}

async function probeHost(): Promise<Probe[]> {
  const probes = await runAllProbes();
  const tcpdump = probes.find((p) => p.name === 'tcpdump');
  if (!tcpdump?.ok) throw new Error(`the evidence suite needs a working tcpdump: ${tcpdump?.detail} (run zcprobe doctor)`);
  return probes;
}

function planFrom(opts: SuiteOptions, probes: Probe[]): MatrixPlan {
  return {
    methods: opts.methods,
    safeguards: opts.safeguards ?? [...SAFEGUARDS],
    transports: opts.transports,
    repeats: opts.repeats,
    stress: STRESS_CASES,
    unavailable: unavailableFromProbes(probes),
    ...(opts.senderCapture ? { senderCapture: opts.senderCapture } : {}),
  };
}

/** The matrix's cases, and what each session told about its transport and hosts. */
interface MatrixRun {
  cases: CaseReport[];
  offloads: Report['host']['offloads'];
  described: Report['transports'];
  /** one line per remote receiving host */
  receivingHosts: string[];
}

async function runCells(opts: SuiteOptions, plan: MatrixPlan): Promise<MatrixRun> {
  const seen: Omit<MatrixRun, 'cases'> = { offloads: {}, described: [], receivingHosts: [] };
  const cases = await runMatrix(plan, {
    runDir: opts.runDir,
    nicPair: opts.nicPair,
    onProgress: opts.onProgress,
    remote: opts.remote,
    async onSessionOpen(s) {
      seen.offloads[s.transport.captureIface] = await offloadsOf(s.transport.captureIface);
      // The transport line says where each capture ran and which one is W.
      const t = s.transport;
      seen.described.push({ name: t.kind, describe: `${t.describe}; ${s.captureLine}`, pageOwnership: t.pageOwnership });
      // A remote receiver is another machine: name it, and key its offloads by its host name.
      const r = s.hosts.receiver;
      if (r !== 'same host') {
        seen.offloads[`${r.hostname}:${r.iface}`] = r.offloads;
        seen.receivingHosts.push(
          `receiving host (${s.transport.kind}): ${r.hostname}, kernel ${r.kernel}, ${r.iface} ${r.addresses.join(' ')}, ` +
          `driver ${r.driver?.driver ?? 'unknown'}, mtu ${r.mtu ?? '?'}`,
        );
      }
    },
  });
  return { cases, ...seen };
}

function skippedCells(plan: MatrixPlan): SkippedCell[] {
  return plannedCells(plan).flatMap((c) => (c.skipped
    ? [{ method: c.method, safeguard: c.safeguard, transport: c.transport, reason: c.skipped }]
    : []));
}

function counterexamplesFor(cells: MatrixCell[], cases: CaseReport[], runDir: string): Counterexample[] {
  const counterexamples: Counterexample[] = [];
  for (const cell of cells) {
    // The counterexample shown for a cell is a case with the cell's own verdict (its strongest proof): the first one,
    // which is also the one the run's BundlePolicy gave the full bundle (cases are in the order they ran).
    const mine = cases.filter((c) => cell.counterexampleIds.includes(c.id) && isCorrupted(c.verdict));
    const first = mine.find((c) => c.verdict === cell.verdict) ?? mine[0];
    const cx = first && counterexampleOf(first, runDir);
    if (cx) counterexamples.push(cx);
  }
  return counterexamples;
}

/** The file methods on each filesystem asked for; undefined when none was (or no file method runs). */
async function runFilesystems(opts: SuiteOptions, probes: Probe[]): Promise<Report['filesystems']> {
  const fileMethods = opts.methods.filter((m) => FILE_METHODS.includes(m));
  if (!opts.filesystems?.length || !fileMethods.length) return undefined;
  opts.onPhase?.(`file methods on each filesystem: ${opts.filesystems.join(', ')}`);
  const leases = probes.find((p) => p.name === 'leases')?.ok;
  const fsRun = await runFsMatrix(
    {
      filesystems: opts.filesystems, methods: fileMethods, mutations: FS_MUTATIONS, safeguards: leases ? ['none', 'lease'] : ['none'],
      repeats: opts.repeats, unavailable: fsUnavailableFromProbes(probes),
    },
    { runDir: opts.runDir, onProgress: opts.onProgress },
  );
  return buildFsSection(fsRun.cases, fsRun.skipped);
}

/** What the suite measured, for the report. */
interface SuiteResults {
  started: number;
  plan: MatrixPlan;
  matrix: MatrixRun;
  cells: MatrixCell[];
  counterexamples: Counterexample[];
  cost: CostRow[];
  filesystems: Report['filesystems'];
  servers: Report['servers'];
}

async function assemble(opts: SuiteOptions, x: SuiteResults): Promise<Report> {
  const { offloads } = x.matrix;
  const { stdout: uname } = await run('uname', ['-a']);
  return {
    schemaVersion: 3,
    runId: opts.runId,
    tool: { name: 'zcprobe', version: '0.1.0' },
    host: {
      kernel: release(), uname: uname.trim(), cpus: cpus().length, node: process.version, offloads, createdAt: new Date().toISOString(),
    },
    transports: x.matrix.described,
    plan: { repeats: opts.repeats, casesPerRepeat: STRESS_CASES.length },
    recommendations: buildRecommendations(x.cells, x.cost, x.counterexamples),
    ...observed(),
    cells: x.cells,
    counterexamples: x.counterexamples,
    cost: x.cost,
    notes: notesOf(opts, x),
    durationMs: performance.now() - x.started,
    ...(x.filesystems ? { filesystems: x.filesystems } : {}),
    ...(x.servers ? { servers: x.servers } : {}),
  };
}

/** The settings and mutations of the report's real-server cells: sendfile on and off, and the
 * ways operators update a served file. */
const SERVE_SUITE = {
  settings: [['sendfile=on'], ['sendfile=off']],
  mutations: ['rename-replace', 'pwrite', 'copy-over', 'copytruncate'],
} as const;

async function serverSection(opts: SuiteOptions): Promise<Report['servers']> {
  const servers = opts.servers!;
  opts.onPhase?.(`real servers: ${servers.join(', ')} (sendfile on and off × ${SERVE_SUITE.mutations.join(', ')})`);
  const base = { size: 1 << 20, clientDelayMs: 300, rcvbuf: 8 << 20 };
  const experiments = servers.flatMap((server) => SERVE_SUITE.settings.flatMap((settings) =>
    SERVE_SUITE.mutations.map((mutation) => makeServeExperiment({ ...base, server, settings: [...settings], mutation }))));
  const outcomes = await runServe({ experiments, repeat: opts.repeats, runDir: opts.runDir, startFailure: 'skip' });
  const records = outcomes.flatMap((o) => (o.kind === 'case' ? [o.record] : []));
  const skipped = outcomes.flatMap((o) => (o.kind === 'skipped'
    ? [{ server: o.exp.server, setting: settingsLabel(o.exp.settings.given), mutation: o.exp.mutation, reason: o.reason }]
    : []));
  const plan = `1 MiB file, client 300 ms late with an 8 MiB receive buffer, loopback, tmpfs, ${opts.repeats} case(s) per cell; `
    + 'the mutation at the server\'s access-log line for the request.';
  return buildServersSection(records, skipped, opts.runDir, plan);
}

function notesOf(opts: SuiteOptions, x: SuiteResults): string[] {
  const { cases } = x.matrix;
  return [
    ...x.matrix.receivingHosts,
    `${cases.length} cases: ${STRESS_CASES.length} stress conditions × ${opts.repeats} repeats per cell ` +
      `(${STRESS_CASES.map(conditionLabel).join('; ')}); a cell whose corrupted cases cluster in one condition names it with its own rate.`,
    'Loopback and veth are not a NIC: the receiving socket gets the sender\'s skb, so "ACKed" does not mean the sender\'s ' +
      'pages are free (corrupted-after-wire). tun copies every packet through a relay, so the receiver holds its own copy, ' +
      'as behind a NIC.',
    ...(x.cost.length
      ? ['Cost: zcprobe bench, loopback, 1 MiB messages, median of 3 interleaved runs; ' +
        'ratio = throughput / write() throughput in the same run.']
      : ['Cost not measured (--cost-total 0).']),
    evidenceDiskNote(opts.runDir, cases),
    ...x.plan.unavailable.map((u) => `not run: ${[u.method, u.safeguard, u.transport].filter(Boolean).join(' / ')} — ${u.reason}`),
  ];
}
