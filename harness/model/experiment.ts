// An Experiment is plain data: what to send, how, what to change afterwards and when.
// Everything that runs a case reads one of these; nothing else decides what a case is.
import { parseFsSpec, type FsSpec } from './fs-spec.ts';
import { formatMutation, MUTATION_FORMS, parseMutation, resolveMutation, type MutationKind } from './mutation-spec.ts';
import { validateLinkFaults, type LinkFaults } from './link-spec.ts';

export const METHODS = [
  'write',
  'mmap-write',
  'sendfile',
  'splice',
  'vmsplice',
  'vmsplice-gift',
  'tee',
  'msg-zerocopy',
  'io-uring-zc',
] as const;
export type Method = (typeof METHODS)[number];

/** Methods whose source is a file (the mutation changes the file's page cache). */
export const FILE_METHODS: readonly Method[] = ['mmap-write', 'sendfile', 'splice'];

export const SAFEGUARDS = ['none', 'siocoutq', 'siocoutqnsd', 'zc-completion', 'app-ack', 'copy', 'lease', 'lease-early'] as const;
export type Safeguard = (typeof SAFEGUARDS)[number];

/** Safeguards that hold an F_RDLCK lease on the source file while sending ('lease' until the
 * receiver's ack, 'lease-early' only until the send returns); the mutation then comes from
 * another process, whose open for writing the lease holds back. */
export function usesLease(s: Safeguard): boolean {
  return s === 'lease' || s === 'lease-early';
}

/** The receiving application acks (one byte after reading everything) for these safeguards. */
export function receiverAcks(s: Safeguard): boolean {
  return s === 'app-ack' || s === 'lease';
}

/** What changes after the send, as text (harness/model/mutation-spec.ts): overwrite, pwrite[:OFFSET:LENGTH],
 * truncate:LENGTH (ftruncate = truncate:0), punch-hole:OFFSET:LENGTH, odirect-write[:OFFSET:LENGTH],
 * rename-replace, reflink-then-write. A case stores the canonical form ("truncate:600000"). */
export const MUTATIONS = MUTATION_FORMS;
export type Mutation = MutationKind | 'ftruncate' | `${MutationKind}:${string}`;

export const TRANSPORTS = ['loopback', 'veth', 'tun', 'nic', 'remote'] as const;
export type Transport = (typeof TRANSPORTS)[number];
/** The transports this machine builds by itself; 'remote' needs an agent (zcprobe agent, --remote). */
export const LOCAL_TRANSPORTS: readonly Transport[] = ['loopback', 'veth', 'tun', 'nic'];

/** Methods that send the application's own pages and report completions (MSG_ZEROCOPY, SEND_ZC). */
export const ZEROCOPY_METHODS: readonly Method[] = ['msg-zerocopy', 'io-uring-zc'];

export const SENDER_CAPTURES = ['on', 'off'] as const;
/** Whether a tcpdump runs on the sending device (docs/capture-placement.md). */
export type SenderCapture = (typeof SENDER_CAPTURES)[number];

/**
 * A packet socket on the sending device makes the kernel copy zero-copy frames for it, and that
 * copy marks the send's completion COPIED (Documentation/networking/msg_zerocopy.rst, "Deferred
 * copies"; net/core/dev.c dev_queue_xmit_nit → deliver_skb → skb_orphan_frags_rx). So zero-copy
 * sends go without one wherever another capture can serve as W: the agent's arrival capture
 * (remote) and the receiving port (nic). Elsewhere the sender's capture is W.
 */
/** Transports with a receiving-side capture that can serve as W when the sender's is off. */
export const ARRIVAL_CAPTURE_TRANSPORTS: readonly Transport[] = ['veth', 'nic', 'remote'];

export function defaultSenderCapture(method: Method, transport: Transport): SenderCapture {
  return ZEROCOPY_METHODS.includes(method) && (transport === 'remote' || transport === 'nic') ? 'off' : 'on';
}

export interface Experiment {
  method: Method;
  /** bytes sent in one case */
  size: number;
  mutation: Mutation;
  /** which part of the source the mutation changes: all of it, or only the first half (the
   * "double buffer" reuse scheme: half A is reused while half B is still being sent) */
  mutationRange: 'all' | 'first-half';
  /** what the sender waits for between "send returned" and the mutation ('none': mutate at once) */
  safeguard: Safeguard;
  /** who mutates: the sender itself (default), or another process (roles/mutator) that opens
   * the file for writing right after the send returns — always so for lease safeguards */
  mutatedBy?: 'sender' | 'other-process';
  /** the receiving application sleeps this long after accept() before its first read */
  receiverDelayMs: number;
  /** SO_RCVBUF(FORCE) of the receiving socket, bytes; undefined = kernel default (autotuning) */
  rcvbuf?: number;
  /** SO_SNDBUF(FORCE) of the sending socket, bytes; undefined = kernel default (autotuning) */
  sndbuf?: number;
  /** capacity of the pipes used by splice/vmsplice/tee (F_SETPIPE_SZ), bytes */
  pipeSize: number;
  transport: Transport;
  /** tun only: the faults the link injects into this case (delay, jitter, rate, loss, reorder) */
  link?: LinkFaults;
  family: 4 | 6;
  /** where the file methods' source files live (world/fs): tmpfs, ext4, xfs, btrfs, dir:PATH */
  fs: FsSpec;
  /** bounded wait of any safeguard, ms */
  safeguardTimeoutMs: number;
  /** poll interval of polling safeguards (siocoutq), ms */
  pollIntervalMs: number;
}

export const DEFAULTS: Omit<Experiment, 'method' | 'size' | 'mutation'> = {
  safeguard: 'none',
  mutationRange: 'all',
  receiverDelayMs: 0,
  pipeSize: 65536,
  transport: 'loopback',
  family: 4,
  fs: 'tmpfs',
  safeguardTimeoutMs: 5000,
  pollIntervalMs: 1,
};

export const MAX_SIZE = 4 * 1024 * 1024 * 1024;

export function defaultMutation(method: Method): Mutation {
  return method === 'sendfile' || method === 'splice' ? 'pwrite' : 'overwrite';
}

export class ExperimentError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExperimentError';
  }
}

/** Which safeguards make sense for a method; a mismatch is a user error, not a silent no-op. */
export function safeguardApplies(method: Method, safeguard: Safeguard): boolean {
  if (safeguard === 'zc-completion') return method === 'msg-zerocopy' || method === 'io-uring-zc';
  if (usesLease(safeguard)) return FILE_METHODS.includes(method);
  return true;
}

/** Fills defaults and rejects impossible combinations with an error naming the field. */
export function makeExperiment(partial: Partial<Experiment> & Pick<Experiment, 'method' | 'size'>): Experiment {
  // A lease guards a file against other openers, so lease cases are mutated by another process,
  // which changes the file through its path (pwrite by default), never the sender's memory.
  const lease = usesLease(partial.safeguard ?? DEFAULTS.safeguard);
  const byOther = partial.mutatedBy === 'other-process' || (lease && partial.mutatedBy === undefined);
  const mutation = byOther && FILE_METHODS.includes(partial.method) ? 'pwrite' : defaultMutation(partial.method);
  const e: Experiment = { ...DEFAULTS, mutation, ...partial };
  if (lease && e.mutatedBy === undefined) e.mutatedBy = 'other-process';
  if (!METHODS.includes(e.method)) throw new ExperimentError('method', `method must be one of ${METHODS.join(', ')}`);
  if (!Number.isInteger(e.size) || e.size < 1 || e.size > MAX_SIZE)
    throw new ExperimentError('size', `size must be an integer from 1 B to 4 GiB, got ${e.size}`);
  let kind: MutationKind;
  try {
    kind = parseMutation(e.mutation).kind;
    e.mutation = formatMutation(parseMutation(e.mutation)) as Mutation;
  } catch (err) {
    throw new ExperimentError('mutation', (err as Error).message);
  }
  if (e.mutationRange !== 'all' && e.mutationRange !== 'first-half')
    throw new ExperimentError('mutationRange', 'mutationRange must be all or first-half');
  try {
    resolveMutation(e.mutation, e.size, e.mutationRange === 'first-half');
  } catch (err) {
    throw new ExperimentError(e.mutationRange === 'first-half' ? 'mutationRange' : 'mutation', (err as Error).message);
  }
  if (!SAFEGUARDS.includes(e.safeguard))
    throw new ExperimentError('safeguard', `safeguard must be one of ${SAFEGUARDS.join(', ')}`);
  if (!TRANSPORTS.includes(e.transport))
    throw new ExperimentError('transport', `transport must be one of ${TRANSPORTS.join(', ')}`);
  if (e.family !== 4 && e.family !== 6) throw new ExperimentError('family', 'family must be 4 or 6');
  if (e.link !== undefined) {
    if (e.transport !== 'tun') throw new ExperimentError('link', 'link faults need the tun transport (its relay injects them)');
    try {
      validateLinkFaults(e.link);
    } catch (err) {
      throw new ExperimentError('link', (err as Error).message);
    }
  }
  const fileBacked = FILE_METHODS.includes(e.method);
  if (kind !== 'overwrite' && !fileBacked)
    throw new ExperimentError('mutation', `mutation ${e.mutation} needs a file-backed method (${FILE_METHODS.join(', ')})`);
  if (kind === 'overwrite' && (e.method === 'sendfile' || e.method === 'splice'))
    throw new ExperimentError('mutation', `method ${e.method} sends from a file: use a file mutation (pwrite, truncate:LENGTH, punch-hole:OFFSET:LENGTH, ...)`);
  try {
    e.fs = parseFsSpec(e.fs);
  } catch (err) {
    throw new ExperimentError('fs', (err as Error).message);
  }
  if (e.fs !== 'tmpfs' && !fileBacked)
    throw new ExperimentError('fs', `method ${e.method} sends from memory: fs applies to ${FILE_METHODS.join(', ')}`);
  if (!safeguardApplies(e.method, e.safeguard))
    throw new ExperimentError('safeguard', `safeguard ${e.safeguard} applies only to ${usesLease(e.safeguard) ? FILE_METHODS.join(', ') : 'msg-zerocopy and io-uring-zc'}`);
  if (e.mutatedBy !== undefined && e.mutatedBy !== 'sender' && e.mutatedBy !== 'other-process')
    throw new ExperimentError('mutatedBy', 'mutatedBy must be sender or other-process');
  if (usesLease(e.safeguard) && e.mutatedBy === 'sender')
    throw new ExperimentError('mutatedBy', `safeguard ${e.safeguard} holds back other processes only: mutatedBy must be other-process`);
  if (e.mutatedBy === 'other-process' && kind === 'overwrite')
    throw new ExperimentError('mutation', 'another process changes the file (pwrite, truncate, ...), not by overwriting the sender\'s memory');
  for (const f of ['receiverDelayMs', 'safeguardTimeoutMs', 'pollIntervalMs'] as const) {
    if (!Number.isFinite(e[f]) || e[f] < 0) throw new ExperimentError(f, `${f} must be a non-negative number`);
  }
  if (!Number.isInteger(e.pipeSize) || e.pipeSize < 4096 || e.pipeSize > 256 * 1024 * 1024)
    throw new ExperimentError('pipeSize', 'pipeSize must be from 4KiB to 256MiB');
  for (const f of ['rcvbuf', 'sndbuf'] as const) {
    const v = e[f];
    if (v !== undefined && (!Number.isInteger(v) || v < 1024 || v > 1024 * 1024 * 1024))
      throw new ExperimentError(f, `${f} must be from 1KiB to 1GiB`);
  }
  return e;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1 << 20, mb: 1e6, mib: 1 << 20, g: 1 << 30, gb: 1e9, gib: 1 << 30 };

/** "64KiB" → 65536, "1MiB", "1.5m", "4096". Throws on anything else. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a size: "${text}" (examples: 4096, 64KiB, 1MiB, 1GiB)`);
  const v = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(v)) throw new Error(`size too large: "${text}"`);
  return v;
}

/** "50ms" → 50, "1s" → 1000, "50" → 50. */
export function parseDurationMs(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(text);
  if (!m) throw new Error(`not a duration: "${text}" (examples: 50, 50ms, 1s)`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

export function formatSize(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)}GiB`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)}MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}KiB`;
  return `${n}B`;
}
