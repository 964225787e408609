// Claims over a copying link (tun) as data, with their link faults so a counterexample replays with its drops; universal ones are
// asserted, observations reported (docs/tun.md). claims/index.ts merges them into CLAIMS for `zcprobe run --replay`.
import fc from 'fast-check';
import type { Experiment, Method, Safeguard } from '../experiment.ts';
import type { LinkFaults } from '../link-spec.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

type Partial_ = Partial<Experiment> & Pick<Experiment, 'method' | 'size'>;

export interface TunClaim {
  id: string;
  statement: string;
  /** what the test expects (universal) or what this kernel showed when the claim was written
   * (observation; kernel 6.18.44: see README "over a copying link") */
  expect: 'holds' | 'falsified';
  /** universal: a contract of the API, asserted; observation: the kernel's behaviour, reported */
  kind: 'universal' | 'observation';
  experiments: fc.Arbitrary<Partial_>;
  numRuns: number;
}

/** Loss the link injects: one numbered data segment (first 40 of a connection) or a seeded rate. */
const loss: fc.Arbitrary<LinkFaults> = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map((k) => ({ loss: `#${k}` })),
  fc.record({ p: fc.integer({ min: 1, max: 5 }), seed: fc.nat({ max: 1_000_000 }) }).map(({ p, seed }) => ({ loss: `${p}%`, seed })),
);

function tunClaim(id: string, safeguard: Safeguard, methods: Method[], o: {
  statement: string; expect: TunClaim['expect']; kind: TunClaim['kind']; lossy: boolean;
  fixed?: Partial<Experiment>; maxSize?: number; numRuns?: number;
}): TunClaim {
  return {
    id,
    statement: o.statement,
    expect: o.expect,
    kind: o.kind,
    numRuns: o.numRuns ?? 12,
    experiments: fc.record({
      method: fc.constantFrom(...methods),
      size: fc.oneof(fc.integer({ min: 1, max: 64 * KiB }), fc.integer({ min: 1, max: o.maxSize ?? 4 * MiB })),
      receiverDelayMs: fc.integer({ min: 0, max: 100 }),
      link: o.lossy ? loss : fc.constant(undefined),
    }).map(({ link, ...r }): Partial_ => ({ ...r, transport: 'tun', safeguard, ...(link ? { link } : {}), ...o.fixed })),
  };
}

const FILE_AND_PIPE: Method[] = ['sendfile', 'splice', 'vmsplice'];
const ZERO_COPY: Method[] = ['msg-zerocopy', 'io-uring-zc'];

export const TUN_CLAIMS: TunClaim[] = [
  tunClaim('tun-siocoutq-queued', 'siocoutq', FILE_AND_PIPE, {
    statement: 'over a copying link, once SIOCOUTQ reads 0 (everything ACKed) sendfile/splice/vmsplice may reuse — even while the receiver has not read yet',
    expect: 'holds', kind: 'observation', lossy: false,
    fixed: { rcvbuf: 32 * MiB, receiverDelayMs: 300 }, maxSize: 1 * MiB, numRuns: 8,
  }),
  tunClaim('tun-siocoutq-lossy', 'siocoutq', [...FILE_AND_PIPE, ...ZERO_COPY], {
    statement: 'over a copying link that loses segments, once SIOCOUTQ reads 0 the source may be reused (the lost segments were retransmitted and ACKed first)',
    expect: 'holds', kind: 'observation', lossy: true,
  }),
  // About 1 case in 8 corrupts (6.18.44: 12/100, 9/50, 6/50), so 12 cases showed none about one run in five and the outcome
  // flipped; 60 make none a 3-in-10,000 event and a rate that fell to 0 detectable against the baseline (Fisher, 1 %).
  tunClaim('tun-siocoutqnsd-lossy', 'siocoutqnsd', FILE_AND_PIPE, {
    statement: 'reuse after everything was sent (SIOCOUTQNSD = 0) but before it was ACKed is safe when a segment is lost',
    expect: 'falsified', kind: 'observation', lossy: true, numRuns: 60,
  }),
  tunClaim('tun-none-lossy', 'none', [...FILE_AND_PIPE, ...ZERO_COPY], {
    statement: 'over a copying link that loses segments, reuse right after the send returns is safe',
    expect: 'falsified', kind: 'observation', lossy: true,
  }),
  tunClaim('tun-zc-completion-lossy', 'zc-completion', ZERO_COPY, {
    statement: 'over a copying link that loses segments, reuse after the zero-copy completion is safe',
    expect: 'holds', kind: 'universal', lossy: true,
  }),
  tunClaim('tun-app-ack-lossy', 'app-ack', [...FILE_AND_PIPE, ...ZERO_COPY], {
    statement: "over a copying link that loses segments, reuse after the receiving application's ack is safe",
    expect: 'holds', kind: 'universal', lossy: true,
  }),
];
