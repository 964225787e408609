// What `zcprobe bench` measures: plain data, like Experiment for `zcprobe run`. The rows are
// (implementation × method × safeguard × message size); every row runs once per round and
// rounds repeat, so drift on this shared machine hits every row alike.
import type { Safeguard } from '../../model/experiment.ts';

export const BENCH_METHODS = ['write', 'mmap-write', 'sendfile', 'splice', 'vmsplice', 'msg-zerocopy', 'io-uring-zc'] as const;
export type BenchMethod = (typeof BENCH_METHODS)[number];

export const ZEROCOPY_METHODS: readonly BenchMethod[] = ['msg-zerocopy', 'io-uring-zc'];

/** harness: the TS loops over the addon (harness/suites/bench/loops.ts); c: native/bench/zcbench. */
export type Impl = 'harness' | 'c';

/** The safeguards a bench row may wait for after every message before reusing the buffer. */
export type BenchSafeguard = Extract<Safeguard, 'none' | 'zc-completion' | 'app-ack' | 'siocoutq'>;

/**
 * The "cost of safety" rows: zero-copy methods wait for their completion; the pipe/file methods
 * wait for the receiver's ack or for SIOCOUTQ to drain. The bench only labels rows by safeguard:
 * whether a safeguard is safe (SIOCOUTQ on loopback is not) is for `zcprobe run` to decide.
 */
export const SAFEGUARD_ROWS: Readonly<Record<BenchMethod, readonly BenchSafeguard[]>> = {
  write: [],
  'mmap-write': [],
  sendfile: ['app-ack', 'siocoutq'],
  splice: ['app-ack', 'siocoutq'],
  vmsplice: ['app-ack', 'siocoutq'],
  'msg-zerocopy': ['zc-completion'],
  'io-uring-zc': ['zc-completion'],
};

export const BENCH_TRANSPORTS = ['loopback', 'veth', 'tun'] as const;
export type BenchTransport = (typeof BENCH_TRANSPORTS)[number];

/** Where the receiver runs and where the senders connect from (plain data; a transport opened
 * through transport/index.ts fills it in). */
export interface BenchTarget {
  transport: BenchTransport;
  /** said in every report: which link these figures are for */
  description: string;
  /** the receiver binds here and the senders connect here */
  host: string;
  family: 4 | 6;
  /** prepended to the receiver's command line (e.g. ip netns exec <ns>) */
  receiverPrefix: string[];
  /** prepended to the C sender's command line (tun: the sender's namespace) */
  senderPrefix?: string[];
  /** the harness sender's sockets are created in this namespace (a path) */
  senderNetns?: string;
}

export function loopbackTarget(family: 4 | 6): BenchTarget {
  return { transport: 'loopback', description: 'loopback — not a NIC', host: family === 6 ? '::1' : '127.0.0.1', family, receiverPrefix: [] };
}

export interface BenchConfig {
  sizes: number[];
  methods: BenchMethod[];
  /** bytes per plain run (rounded up to whole messages) */
  total: number;
  /** bytes per safeguard run; 0 leaves the safeguard rows out */
  safeguardTotal: number;
  runs: number;
  /** bytes per untimed warm-up run of every row before round 1 (JIT, page cache); 0 = none */
  warmupTotal: number;
  /** sizes at which the C reference sender runs too (harness/C ratios); a subset of sizes */
  cSizes: number[];
  /** pipe capacity for splice/vmsplice, as Experiment.pipeSize */
  pipeSize: number;
  /** siocoutq poll interval; 0 spins, so the row measures the drain and not the sleep */
  pollIntervalMs: number;
  /** bound on any one safeguard wait */
  safeguardTimeoutMs: number;
  target: BenchTarget;
}

// Defaults sized so `zcprobe bench` finishes inside 5 minutes on a 2-core VM (about 1 s per GiB
// here): 1 GiB per plain run (the floor) and 5 rounds; the C reference only at 1 MiB, where
// the harness/C goal is set (all sizes would add ~70 s); 128 MiB per safeguard run (app-ack costs a
// round trip per message, and these rows only need a rate to compare with write()).
export const DEFAULT_CONFIG: BenchConfig = {
  sizes: [64 * 1024, 1 << 20, 16 << 20],
  methods: [...BENCH_METHODS],
  total: 1 << 30,
  safeguardTotal: 128 << 20,
  runs: 5,
  warmupTotal: 16 << 20,
  cSizes: [1 << 20],
  pipeSize: 64 * 1024,
  pollIntervalMs: 0,
  safeguardTimeoutMs: 5000,
  target: loopbackTarget(4),
};

/** One row of the report: what runs once per round. */
export interface Cell {
  impl: Impl;
  method: BenchMethod;
  safeguard: BenchSafeguard;
  size: number;
  /** messages per run; bytes per run = messages × size */
  messages: number;
}

export function cellKey(c: Pick<Cell, 'impl' | 'method' | 'safeguard' | 'size'>): string {
  return `${c.impl}/${c.method}/${c.safeguard}/${c.size}`;
}

export interface Skip {
  impl: Impl;
  method: BenchMethod;
  reason: string;
}

/** What can run here: the addon's and zcbench's io_uring support, probed once. */
export interface Capabilities {
  harnessUring: string | null;
  cUring: string | null;
  /** why MSG_ZEROCOPY cannot run here (SO_ZEROCOPY refused), for both implementations; null: it can */
  zerocopy?: string | null;
}

/**
 * The rows of one round, in order: per size, each method's harness row next to its C row, then
 * the safeguard rows. A method either implementation cannot run here is skipped, with the reason.
 */
export function planCells(cfg: BenchConfig, caps: Capabilities): { cells: Cell[]; skipped: Skip[] } {
  const cells: Cell[] = [];
  const skipped: Skip[] = [];
  const unavailable = (impl: Impl, m: BenchMethod): string | null =>
    m === 'io-uring-zc' ? (impl === 'harness' ? caps.harnessUring : caps.cUring) : m === 'msg-zerocopy' ? (caps.zerocopy ?? null) : null;
  const withC = cfg.sizes.some((size) => cfg.cSizes.includes(size));
  for (const impl of withC ? (['harness', 'c'] as const) : (['harness'] as const)) {
    for (const m of cfg.methods) {
      const why = unavailable(impl, m);
      if (why) skipped.push({ impl, method: m, reason: why });
    }
  }
  const messages = (total: number, size: number) => Math.max(1, Math.ceil(total / size));
  for (const size of cfg.sizes) {
    const impls: Impl[] = cfg.cSizes.includes(size) ? ['harness', 'c'] : ['harness'];
    for (const method of cfg.methods) {
      for (const impl of impls) {
        if (!unavailable(impl, method)) cells.push({ impl, method, safeguard: 'none', size, messages: messages(cfg.total, size) });
      }
    }
    if (cfg.safeguardTotal <= 0) continue;
    for (const method of cfg.methods) {
      if (unavailable('harness', method)) continue;
      for (const safeguard of SAFEGUARD_ROWS[method])
        cells.push({ impl: 'harness', method, safeguard, size, messages: messages(cfg.safeguardTotal, size) });
    }
  }
  return { cells, skipped };
}
