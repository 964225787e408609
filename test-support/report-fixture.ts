// A realistic sample Report for the renderer's tests and for looking at the HTML without running
// the matrix: the outcomes follow what loopback/veth actually do (page-cache and user pages still
// referenced by queued skbs after the send returns), plus a few inconclusive, skipped and
// uncaptured cells so every verdict is rendered. Deterministic: no clock, no randomness.
import { METHODS, safeguardApplies, SAFEGUARDS, type Method, type Safeguard } from '../harness/model/experiment.ts';
import { buildMatrixCells, type CaseLike, type SkippedCell } from '../harness/report/cells.ts';
import { buildRecommendations } from '../harness/report/recommend.ts';
import type { CostRow, Counterexample, MatrixCell, ObservationRow, Report, Verdict } from '../harness/report/types.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const STRESS = [
  { size: 64 * KiB, receiverDelayMs: 50 },
  { size: 1 * MiB, receiverDelayMs: 50 },
  { size: 1 * MiB, receiverDelayMs: 300, rcvbuf: 32 * MiB },
];
const REPEATS = 4;
const TRANSPORTS = ['loopback', 'veth'] as const;

const ZC: readonly string[] = ['msg-zerocopy', 'io-uring-zc'];
/** Methods whose skbs keep referencing the source pages (page cache or user memory). */
const BY_REFERENCE: readonly string[] = ['sendfile', 'splice', 'vmsplice', 'vmsplice-gift', 'tee'];
const DROPPED = 'tcpdump reported 3 packet(s) dropped by the kernel';
const GAP = 'the capture does not hold every byte of the stream (gap or snaplen)';

/** What one stress case of a cell would yield on a 6.1 kernel. */
function outcome(
  method: Method, safeguard: Safeguard, transport: string, stress: number, rep: number,
): { verdict: Verdict; reasons: string[] } {
  const clean = { verdict: 'clean' as Verdict, reasons: [] };
  // Two-stream verdicts: tcpdump could not attach to the veth for the tee cells (see notes).
  const captured = !(method === 'tee' && transport === 'veth');
  if (safeguard === 'copy' || safeguard === 'app-ack' || safeguard === 'zc-completion' || safeguard === 'lease') return clean;
  if (safeguard === 'lease-early') safeguard = 'none'; // released at once: behaves like no safeguard
  if (method === 'write' || method === 'mmap-write') {
    // A loaded veth capture dropping packets makes an otherwise clean cell inconclusive.
    if (transport === 'veth' && safeguard === 'none' && stress === 1 && rep === 2) return { verdict: 'inconclusive', reasons: [DROPPED] };
    if (transport === 'veth' && method === 'mmap-write' && safeguard === 'siocoutqnsd' && stress === 2 && rep === 0) return { verdict: 'inconclusive', reasons: [GAP] };
    return clean;
  }
  if (ZC.includes(method)) {
    // Loopback/veth copy zerocopy frags on delivery (skb_orphan_frags_rx), so only bytes still
    // unsent when the buffer changes are wrong, and they are wrong on the wire.
    if (safeguard === 'none' && stress > 0) return { verdict: 'corrupted-on-wire', reasons: [] };
    // A retransmission left after the buffer changed: the receiver had already read A.
    if (method === 'msg-zerocopy' && safeguard === 'siocoutqnsd' && transport === 'veth' && stress === 1 && rep === 3)
      return { verdict: 'corrupted-on-retransmit', reasons: ['1 retransmission(s) carried bytes that differ from the first transmission'] };
    return clean;
  }
  if (BY_REFERENCE.includes(method)) {
    if (!captured) return { verdict: 'corrupted', reasons: [] };
    // 1 MiB read late does not fit the window: the tail leaves after the mutation.
    if (safeguard === 'none' && stress === 1) return { verdict: 'corrupted-on-wire', reasons: [] };
    return { verdict: 'corrupted-after-wire', reasons: [] };
  }
  return clean;
}

function sampleCases(): { cases: CaseLike[]; skipped: SkippedCell[] } {
  const cases: CaseLike[] = [];
  const skipped: SkippedCell[] = [];
  let n = 0;
  for (const transport of TRANSPORTS)
    for (const method of METHODS)
      for (const safeguard of SAFEGUARDS) {
        if (!safeguardApplies(method, safeguard)) continue;
        if (method === 'io-uring-zc' && transport === 'veth') {
          skipped.push({ method, safeguard, transport, reason: 'io_uring_setup: EPERM inside the veth namespace (kernel.io_uring_disabled=1)' });
          continue;
        }
        for (let rep = 0; rep < REPEATS; rep++)
          STRESS.forEach((s, i) => {
            const { verdict, reasons } = outcome(method, safeguard, transport, i, rep);
            cases.push({ id: `case-12846-${++n}`, method, safeguard, transport, ...s, verdict, reasons, received: { bytes: s.size } });
          });
      }
  return { cases, skipped };
}

/** A[i] = i % 251 + 1, B = A ^ 0xff (harness/model/patterns.ts, restated: importing it loads the addon). */
function hex(from: number, to: number, mutatedFrom: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const a = (i % 251) + 1;
    s += (i >= mutatedFrom ? a ^ 0xff : a).toString(16).padStart(2, '0');
  }
  return s;
}

function counterexamples(cells: MatrixCell[]): Counterexample[] {
  const firstId = (m: string, s: string, t: string) => cells.find((c) => c.method === m && c.safeguard === s && c.transport === t)?.counterexampleIds[0] ?? 'missing';
  const onWire = firstId('sendfile', 'none', 'loopback');
  const afterWire = firstId('vmsplice', 'siocoutq', 'loopback');
  return [
    {
      caseId: onWire,
      method: 'sendfile',
      safeguard: 'none',
      transport: 'loopback',
      size: 196608,
      receiverDelayMs: 0,
      rcvbuf: 16384,
      verdict: 'corrupted-on-wire',
      claim: 'sendfile-pwrite',
      seed: 1794328523,
      path: '3:0:1:1',
      // The first 64 KiB left before pwrite(); everything after carried the new file contents.
      hexDiff: { offset: 65520, intended: hex(65520, 65584, Infinity), wire: hex(65520, 65584, 65536), received: hex(65520, 65584, 65536) },
      timeline: { sendReturnedMs: 0.38, mutatedMs: 0.41, firstMutatedPacketMs: 0.97, receiverFirstReadMs: 0.62 },
      pcap: `evidence/${onWire}/case.pcap`,
      caseJson: `evidence/${onWire}/case.json`,
      wire: { mismatchedBytes: 131072, firstOffset: 65536 },
      received: { mismatchedBytes: 131072, firstOffset: 65536, equalsMutation: 131072, zero: 0 },
    },
    {
      caseId: afterWire,
      method: 'vmsplice',
      safeguard: 'siocoutq',
      transport: 'loopback',
      size: 8192,
      receiverDelayMs: 47,
      rcvbuf: null,
      verdict: 'corrupted-after-wire',
      // SIOCOUTQ reached 0 (all ACKed), the capture shows A, but the receiver's queued skbs
      // still pointed at the user pages when it finally read.
      hexDiff: { offset: 0, intended: hex(0, 64, Infinity), wire: hex(0, 64, Infinity), received: hex(0, 64, 0) },
      timeline: { sendReturnedMs: 0.05, mutatedMs: 1.92, firstMutatedPacketMs: null, receiverFirstReadMs: 47.3 },
      pcap: `evidence/${afterWire}/case.pcap`,
      caseJson: `evidence/${afterWire}/case.json`,
      wire: { mismatchedBytes: 0, firstOffset: null },
      received: { mismatchedBytes: 8192, firstOffset: 0, equalsMutation: 8192, zero: 0 },
    },
  ];
}

/** Loopback, 1 MiB messages: [method, safeguard, median MB/s, sender CPU ms/GB]. */
const BENCH: [string, string, number, number][] = [
  ['write', 'none', 5210, 198],
  ['write', 'copy', 4120, 262],
  ['sendfile', 'none', 7830, 121],
  ['sendfile', 'siocoutq', 2140, 143],
  ['sendfile', 'app-ack', 1530, 151],
  ['sendfile', 'copy', 4310, 247],
  ['vmsplice', 'none', 6920, 133],
  ['vmsplice', 'siocoutq', 2010, 149],
  ['vmsplice', 'app-ack', 1420, 160],
  ['vmsplice', 'copy', 4020, 255],
  ['msg-zerocopy', 'none', 4710, 176],
  ['msg-zerocopy', 'zc-completion', 4330, 184],
  ['msg-zerocopy', 'siocoutq', 2210, 171],
  ['msg-zerocopy', 'copy', 3890, 241],
  ['io-uring-zc', 'none', 5120, 139],
  ['io-uring-zc', 'zc-completion', 4790, 146],
  ['io-uring-zc', 'copy', 3980, 233],
];

function cost(): CostRow[] {
  const spread = (x: number, lo: number, hi: number) => ({ median: x, min: Math.round(x * lo), max: Math.round(x * hi) });
  return BENCH.map(([method, safeguard, mbps, cpu]) => {
    const copy = BENCH.find((b) => b[0] === method && b[1] === 'copy')![2];
    return {
      method,
      safeguard,
      transport: 'loopback',
      messageSize: 1 * MiB,
      throughputMBps: spread(mbps, 0.93, 1.04),
      senderCpuMsPerGB: spread(cpu, 0.96, 1.08),
      ratioVsCopy: Math.round((mbps / copy) * 1000) / 1000,
    };
  });
}

const OFFLOADS = {
  'rx-checksumming': 'on [fixed]',
  'tx-checksumming': 'on',
  'scatter-gather': 'on',
  'tcp-segmentation-offload': 'on',
  'generic-segmentation-offload': 'on',
  'generic-receive-offload': 'on',
  'large-receive-offload': 'off [fixed]',
  'tx-nocache-copy': 'off [fixed]',
  'highdma': 'on [fixed]',
  'rx-gro-list': 'off',
  'rx-udp-gro-forwarding': 'off',
  'tx-udp-segmentation': 'on',
  'netns-local': 'on [fixed]',
  'loopback': 'on [fixed]',
};

/** What the last npm test recorded, as the report shows it: rates next to the baseline's (none differs). */
function observations(): Report['observations'] {
  type Base = ObservationRow['baseline'];
  type Ci = [number, number];
  const row = (id: string, event: string, seen: number, runs: number, baseline: Base, pValue: number | null, ci: Ci): ObservationRow => ({
    id, transport: 'loopback', event, seen, runs, interval95: { lower: ci[0], upper: ci[1] },
    outcome: `${seen}/${runs} ${event} (95 % CI ${Number((ci[0] * 100).toPrecision(2))}–${Number((ci[1] * 100).toPrecision(2))} %)`,
    baseline, pValue, status: baseline ? 'consistent' : 'no-baseline',
    line: baseline ? `observation ${id}: … consistent` : `observation ${id}: … no baseline`,
  });
  const single = { seen: 1, runs: 1, outcome: '1/1 corrupted (95 % CI 2.5–100 %)', singleOutcome: true };
  const counted = { seen: 0, runs: 6, outcome: '0/6 corrupted (95 % CI 0–46 %)', singleOutcome: false };
  return {
    source: 'captures/observations/6.1.0-28-amd64.jsonl',
    recordedAt: '2026-11-23T18:02:40.000Z',
    test: "Fisher's exact test, two-sided, α = 1 %; intervals: Clopper–Pearson (exact), 95 %",
    rows: [
      row('msg-zerocopy-reuse', 'corrupted', 9, 25, single, 0.38, [0.18, 0.57]),
      row('wire-evidence-sendfile-64k', 'corrupted-after-wire', 0, 10, null, null, [0, 0.31]),
      row('sendfile-ftruncate', 'corrupted', 0, 6, counted, 1, [0, 0.46]),
    ],
  };
}

export function sampleReport(): Report {
  const { cases, skipped } = sampleCases();
  const cells = buildMatrixCells(cases, skipped);
  const cxs = counterexamples(cells);
  const costRows = cost();
  return {
    schemaVersion: 3,
    runId: '2026-11-23T19-49-36-655-12846',
    tool: { name: 'zcprobe', version: '0.1.0' },
    host: {
      kernel: '6.1.0-28-amd64',
      uname: 'Linux probe-host 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux',
      cpus: 8,
      node: 'v20.20.2',
      offloads: {
        lo: OFFLOADS,
        'zcp-veth0': { ...OFFLOADS, 'tx-checksumming': 'on', 'generic-receive-offload': 'off', 'netns-local': 'off [fixed]', 'loopback': 'off [fixed]' },
      },
      createdAt: '2026-11-23T20:20:11.402Z',
    },
    transports: [
      { name: 'loopback', describe: 'TCP over lo (127.0.0.1) in a private network namespace; captured on lo' },
      { name: 'veth', describe: 'TCP across a veth pair zcp-veth0 ↔ zcp-veth1 between two namespaces; captured on zcp-veth0' },
    ],
    plan: { repeats: REPEATS, casesPerRepeat: STRESS.length },
    recommendations: buildRecommendations(cells, costRows, cxs),
    cells,
    counterexamples: cxs,
    cost: costRows,
    notes: [
      'tcpdump could not attach to zcp-veth0 while the tee cells ran (EBUSY); tee × veth cells have two-stream verdicts (intended vs received) only.',
      'Each cell ran 3 stress cases × 4 repeats: 64 KiB and 1 MiB read 50 ms late, 1 MiB read 300 ms late with SO_RCVBUF 32 MiB.',
    ],
    durationMs: 1_834_512,
    observations: observations(),
  };
}
