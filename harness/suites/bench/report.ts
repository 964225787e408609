// From raw samples to figures: per row the median [min, max] of throughput, CPU per GB and COPIED fraction, and two ratios paired
// within a round (so drift cancels): harness/C for the same method, and each row against plain write().
import { cellKey, type BenchMethod, type BenchSafeguard, type Impl, type Skip } from './config.ts';
import type { BenchRun, RowRun, Sample } from './runner.ts';

export interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stat(xs: readonly number[]): Stat | null {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

/** MB/s with MB = 10^6 bytes. */
export const throughputMBps = (s: Sample): number => (s.bytes / s.elapsedNs) * 1e3;
/** CPU milliseconds per GB sent, GB = 10^9 bytes. */
export const senderCpuMsPerGB = (s: Sample): number => ((s.senderUserUs + s.senderSysUs) * 1e6) / s.bytes;
export const receiverCpuMsPerGB = (s: Sample): number => ((s.receiverUserUs + s.receiverSysUs) * 1e6) / s.bytes;
const copiedFraction = (s: Sample): number => (s.zc && s.zc.received > 0 ? s.zc.copied / s.zc.received : NaN);
/** Packets per second the relay carried sender→receiver (tun). */
export const linkPacketsPerSec = (s: Sample): number => (s.link ? s.link.s2rPackets / (s.elapsedNs / 1e9) : NaN);
/** The relay's CPU ms per GB sent (tun). */
export const relayCpuMsPerGB = (s: Sample): number => (s.link ? (s.link.cpuUs * 1e6) / s.bytes : NaN);

export interface RowSummary {
  impl: Impl;
  method: BenchMethod;
  safeguard: BenchSafeguard;
  size: number;
  bytesPerRun: number;
  throughputMBps: Stat | null;
  senderCpuMsPerGB: Stat | null;
  receiverCpuMsPerGB: Stat | null;
  /** zero-copy rows: completions flagged COPIED / completions received */
  copiedFraction: Stat | null;
  /** tun: sender→receiver packets per second through the relay, and the relay's CPU per GB */
  linkPacketsPerSec: Stat | null;
  relayCpuMsPerGB: Stat | null;
  /** harness rows: this row / plain harness write() at the same size, per round */
  vsWrite: { throughput: Stat | null; senderCpu: Stat | null } | null;
  /** plain harness rows: harness throughput / C throughput, same method and size, per round */
  harnessOverC: Stat | null;
  errors: string[];
  samples: Sample[];
}

export interface BenchReport {
  tool: 'zcprobe bench';
  schema: 1;
  host: BenchRun['host'];
  transport: string;
  config: Record<string, unknown>;
  startedAt: string;
  elapsedMs: number;
  units: Record<string, string>;
  rows: RowSummary[];
  /** the plain harness rows' harnessOverC, by method and size */
  harnessOverC: { method: BenchMethod; size: number; throughput: Stat | null }[];
  skipped: Skip[];
  notes: string[];
}

/** Per-round ratio f(a)/f(b) over the rounds both rows have. */
function paired(a: RowRun, b: RowRun | undefined, f: (s: Sample) => number): Stat | null {
  if (!b) return null;
  const byRound = new Map(b.samples.map((s) => [s.round, f(s)]));
  return stat(a.samples.flatMap((s) => (byRound.has(s.round) ? [f(s) / byRound.get(s.round)!] : [])));
}

export function summarize(run: BenchRun): BenchReport {
  const byKey = new Map(run.rows.map((r) => [cellKey(r.cell), r]));
  const rows: RowSummary[] = run.rows.map((row) => {
    const { impl, method, safeguard, size, messages } = row.cell;
    const write = byKey.get(cellKey({ impl: 'harness', method: 'write', safeguard: 'none', size }));
    const harness = impl === 'harness';
    const c = harness && safeguard === 'none' ? byKey.get(cellKey({ impl: 'c', method, safeguard, size })) : undefined;
    return {
      impl,
      method,
      safeguard,
      size,
      bytesPerRun: messages * size,
      throughputMBps: stat(row.samples.map(throughputMBps)),
      senderCpuMsPerGB: stat(row.samples.map(senderCpuMsPerGB)),
      receiverCpuMsPerGB: stat(row.samples.map(receiverCpuMsPerGB)),
      copiedFraction: stat(row.samples.map(copiedFraction)),
      linkPacketsPerSec: stat(row.samples.map(linkPacketsPerSec)),
      relayCpuMsPerGB: stat(row.samples.map(relayCpuMsPerGB)),
      vsWrite: harness ? { throughput: paired(row, write, throughputMBps), senderCpu: paired(row, write, senderCpuMsPerGB) } : null,
      harnessOverC: paired(row, c, throughputMBps),
      errors: row.errors,
      samples: row.samples,
    };
  });
  const cfg = run.config;
  return {
    tool: 'zcprobe bench',
    schema: 1,
    host: run.host,
    transport: cfg.target.description,
    config: {
      sizes: cfg.sizes,
      methods: cfg.methods,
      total: cfg.total,
      safeguardTotal: cfg.safeguardTotal,
      runs: cfg.runs,
      warmupTotal: cfg.warmupTotal,
      cSizes: cfg.cSizes,
      pipeSize: cfg.pipeSize,
      pollIntervalMs: cfg.pollIntervalMs,
      safeguardTimeoutMs: cfg.safeguardTimeoutMs,
      transport: cfg.target.transport,
      host: cfg.target.host,
      family: cfg.target.family,
      order: 'interleaved: round r runs every row once before round r+1',
    },
    startedAt: run.startedAt,
    elapsedMs: run.elapsedMs,
    units: {
      throughputMBps: '10^6 bytes per second, first send to the receiver having read every byte',
      senderCpuMsPerGB: 'user+system CPU ms per 10^9 bytes: harness = process.resourceUsage() of the node process, C = getrusage(RUSAGE_SELF) of zcbench',
      receiverCpuMsPerGB: 'user+system CPU ms per 10^9 bytes of the receiver process (zcbench recv), accept to EOF',
      copiedFraction: 'zero-copy completions flagged COPIED / completions received',
      linkPacketsPerSec: 'tun: sender→receiver packets per second through the relay',
      relayCpuMsPerGB: 'tun: user+system CPU ms of the relay per 10^9 bytes (its writes run the receiving kernel paths)',
      ratios: 'per round, then median [min, max] over rounds',
    },
    rows,
    harnessOverC: rows
      .filter((r) => r.impl === 'harness' && r.safeguard === 'none')
      .map((r) => ({ method: r.method, size: r.size, throughput: r.harnessOverC })),
    skipped: run.skipped,
    notes: [
      ...(cfg.target.transport === 'tun'
        ? ['tun: every packet crosses zcrelay (read from one TUN device, written to the other), so the receiving kernel builds its own copy; a TUN device copies zero-copy pages when it takes the skb (hence COPIED), and the relay\'s writes run both kernels\' receive paths, so they count as relay CPU.']
        : [`${cfg.target.transport === 'veth' ? 'veth' : 'Loopback'} is not a NIC: zero-copy pages sent to a local socket are copied at delivery (hence COPIED), and the receive-side TCP work runs in the sender's context, so it counts as sender CPU.`]),
      'Safeguard rows are labelled, not judged: on loopback SIOCOUTQ=0 does not mean the receiver has read the pages; `zcprobe run` decides which safeguard is safe.',
      'Figures are from a shared machine; other processes running at the same time depress them.',
    ],
  };
}
