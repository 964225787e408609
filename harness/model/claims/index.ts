// Claims about buffer reuse, as data: the statement, the generated experiments, and what the
// property checks. Property files and `zcprobe run --replay <claim>:<seed>:<path>` share these,
// so a counterexample printed by a test replays exactly from the command line.
import fc from 'fast-check';
import { TUN_CLAIMS } from './tun.ts';
import type { Experiment, Method, Safeguard } from '../experiment.ts';
import { FS_CLAIMS } from './fs.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

export type ExperimentPartial = Partial<Experiment> & Pick<Experiment, 'method' | 'size'>;

export interface Claim {
  id: string;
  /** the sentence under test, e.g. "reuse right after sendfile() returns is safe" */
  statement: string;
  /** universal: true on every Linux by design, so a different outcome is a real failure.
   * observation: depends on kernel, transport and sizes; recorded and compared with the
   * baseline for this kernel series (harness/model/baselines.ts), a difference is a finding. */
  kind: 'universal' | 'observation';
  /** universal: what the statement must do (hold, or be falsified); observation: what it did on
   * the kernel the claim was written on, which decides only whether fast-check shrinks */
  expect: 'holds' | 'falsified';
  experiments: fc.Arbitrary<ExperimentPartial>;
  numRuns: number;
}

const delay = (max: number) => fc.integer({ min: 0, max });
const bufSize = fc.option(fc.constantFrom(16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB), { nil: undefined });

/** sizes biased to both small and large messages */
const size = (max: number) => fc.oneof(fc.integer({ min: 1, max: 64 * KiB }), fc.integer({ min: 1, max }));

/** A claim over generated cases: the method drawn from `methods`, `fixed` merged into every case. */
function claim(id: string, safeguard: Safeguard, methods: Method[], opts: { kind?: Claim['kind']; expect: Claim['expect']; statement: string; fixed?: Partial<Experiment>; maxSize?: number; maxDelay?: number; numRuns?: number; buffers?: boolean }): Claim {
  const buffers = opts.buffers ?? true;
  return {
    id,
    statement: opts.statement,
    kind: opts.kind ?? 'universal',
    expect: opts.expect,
    numRuns: opts.numRuns ?? 25,
    experiments: fc
      .constantFrom(...methods)
      .chain((method) =>
        fc.record({
          method: fc.constant(method),
          // tee's pipes must hold the whole message: at most fs.pipe-max-size (1 MiB by default)
          size: size(method === 'tee' ? Math.min(MiB, opts.maxSize ?? MiB) : (opts.maxSize ?? 8 * MiB)),
          receiverDelayMs: delay(opts.maxDelay ?? 100),
          rcvbuf: buffers ? bufSize : fc.constant(undefined),
          sndbuf: buffers ? bufSize : fc.constant(undefined),
        }),
      )
      .map((r) => ({ ...r, safeguard, ...opts.fixed })),
  };
}

/** The "double buffer" folklore: with a buffer of 2× the pipe capacity, once the second half has
 * been vmspliced the first half is free again. The message is 2 × pipeSize; the mutation
 * overwrites only the first half once the whole message was spliced. */
function doubleBuffer(): Claim {
  return {
    id: 'vmsplice-double-buffer',
    statement: 'with a buffer of 2× the pipe capacity, the first half may be reused once the second half has been vmspliced',
    kind: 'universal',
    expect: 'falsified',
    numRuns: 20,
    experiments: fc
      .record({ pipeSize: fc.constantFrom(16 * KiB, 64 * KiB, 256 * KiB), receiverDelayMs: delay(100) })
      .map(({ pipeSize, receiverDelayMs }) => ({ method: 'vmsplice' as const, size: 2 * pipeSize, pipeSize, receiverDelayMs, mutationRange: 'first-half' as const })),
  };
}

const ZERO_COPY_SENDERS: Method[] = ['sendfile', 'splice', 'vmsplice', 'vmsplice-gift', 'tee', 'msg-zerocopy', 'io-uring-zc'];

export const CLAIMS: Record<string, Claim> = Object.fromEntries(
  [
    claim('write-reuse', 'none', ['write'], { expect: 'holds', maxSize: 16 * MiB, numRuns: 40, statement: 'overwriting the buffer right after write() returns never changes what arrives' }),
    claim('mmap-write-reuse', 'none', ['mmap-write'], { expect: 'holds', numRuns: 30, statement: 'writing into the mapping right after write() returns never changes what arrives' }),
    claim('sendfile-pwrite', 'none', ['sendfile'], { fixed: { mutation: 'pwrite' }, expect: 'falsified', statement: 'pwrite() over the file right after sendfile() returns leaves what arrives unchanged' }),
    claim('splice-pwrite', 'none', ['splice'], { fixed: { mutation: 'pwrite' }, expect: 'falsified', statement: 'pwrite() over the file right after splice() returns leaves what arrives unchanged' }),
    claim('vmsplice-reuse', 'none', ['vmsplice'], { expect: 'falsified', statement: 'reusing the buffer right after vmsplice()+splice() return is safe' }),
    claim('vmsplice-gift-reuse', 'none', ['vmsplice-gift'], { expect: 'falsified', statement: 'SPLICE_F_GIFT protects a buffer that is reused right after vmsplice()+splice() return' }),
    claim('tee-reuse', 'none', ['tee'], { expect: 'falsified', statement: 'after tee(), the duplicated bytes are independent of the source buffer' }),
    claim('msg-zerocopy-reuse', 'none', ['msg-zerocopy'], { kind: 'observation', expect: 'falsified', statement: 'reusing the buffer right after send(MSG_ZEROCOPY) returns, before its completion, is safe' }),
    claim('io-uring-zc-reuse', 'none', ['io-uring-zc'], { kind: 'observation', expect: 'falsified', statement: 'reusing the buffer after the SEND_ZC result CQE, before the F_NOTIF CQE, is safe' }),
    // Safeguards (issue: which ones really make reuse safe).
    claim('siocoutq-queued', 'siocoutq', ['sendfile', 'splice', 'vmsplice'], {
      kind: 'observation',
      expect: 'falsified',
      statement: 'once SIOCOUTQ reads 0 (everything ACKed), sendfile/splice/vmsplice may reuse — even while the receiver has not read yet',
      fixed: { rcvbuf: 32 * MiB, receiverDelayMs: 300 },
      buffers: false,
      numRuns: 10,
    }),
    claim('siocoutq-small-rcvbuf', 'siocoutq', ['vmsplice'], {
      kind: 'observation',
      expect: 'falsified',
      statement: 'with a 16 KiB receive buffer, SIOCOUTQ = 0 means the receiver has read everything, whatever the message size',
      fixed: { rcvbuf: 16 * KiB },
      buffers: false,
    }),
    claim('siocoutqnsd-queued', 'siocoutqnsd', ['sendfile', 'splice', 'vmsplice'], {
      kind: 'observation',
      expect: 'falsified',
      statement: 'once SIOCOUTQNSD reads 0 (nothing left unsent), the buffer may be reused',
      fixed: { rcvbuf: 32 * MiB, receiverDelayMs: 300 },
      buffers: false,
      numRuns: 10,
    }),
    claim('zc-completion', 'zc-completion', ['msg-zerocopy', 'io-uring-zc'], {
      expect: 'holds',
      statement: 'after the zero-copy completion (MSG_ERRQUEUE / F_NOTIF CQE) the buffer may be reused',
      numRuns: 25,
    }),
    claim('app-ack', 'app-ack', ['mmap-write', ...ZERO_COPY_SENDERS], {
      expect: 'holds',
      statement: "after the receiving application's ack (it has read every byte) the source may be reused",
      numRuns: 25,
    }),
    claim('copy', 'copy', ['mmap-write', ...ZERO_COPY_SENDERS], {
      expect: 'holds',
      statement: 'sending by copy (write) instead makes reuse right after return safe',
      numRuns: 25,
    }),
    doubleBuffer(),
    // Over a copying link (tun), with and without lost segments.
    ...TUN_CLAIMS,
  ].map((c) => [c.id, c]),
);

/** Claims a replay can name: these and the filesystem claims (fs.ts). */
type Replayable = Pick<Claim, 'id' | 'statement' | 'experiments'>;

/** "vmsplice-reuse:12345:0:1:0" → claim, seed, path */
export function parseReplay(text: string): { claim: Replayable; seed: number; path: string } {
  const m = /^([a-z0-9-]+):(-?\d+):([\d:]*)$/.exec(text);
  if (!m) throw new Error(`replay must look like <claim>:<seed>:<path> (e.g. vmsplice-reuse:42:0:1:0), got "${text}"`);
  const claim: Replayable | undefined = CLAIMS[m[1]!] ?? FS_CLAIMS[m[1]!];
  if (!claim) throw new Error(`unknown claim "${m[1]}" (known: ${[...Object.keys(CLAIMS), ...Object.keys(FS_CLAIMS)].join(', ')})`);
  return { claim, seed: Number(m[2]), path: m[3]! };
}
