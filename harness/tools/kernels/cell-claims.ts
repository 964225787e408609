// Which claim governs a report cell (method × safeguard): a cell under a universal claim must show its expected outcome on every
// kernel (a difference is a failure); any other cell is an observation, whose differences are findings.
import { CLAIMS } from '../../model/claims/index.ts';

export interface CellClaim {
  id: string;
  kind: 'universal' | 'observation';
  /** universal: what every kernel must show (holds → no corruption; falsified → corruption) */
  expect: 'holds' | 'falsified';
}

/** properties/lease.test.ts's claim (c), not in CLAIMS because it lives with its grid. */
const LEASE_UNTIL_ACK: CellClaim = { id: 'lease-until-ack', kind: 'universal', expect: 'holds' };

const fromClaims = (id: string): CellClaim => {
  const c = CLAIMS[id];
  if (!c) throw new Error(`cell-claims: no claim "${id}" in harness/model/claims/index.ts`);
  return { id: c.id, kind: c.kind, expect: c.expect };
};

const NONE: Record<string, string> = {
  write: 'write-reuse',
  'mmap-write': 'mmap-write-reuse',
  sendfile: 'sendfile-pwrite',
  splice: 'splice-pwrite',
  vmsplice: 'vmsplice-reuse',
  'vmsplice-gift': 'vmsplice-gift-reuse',
  tee: 'tee-reuse',
  'msg-zerocopy': 'msg-zerocopy-reuse',
  'io-uring-zc': 'io-uring-zc-reuse',
};

const BY_SAFEGUARD: Record<string, string> = { 'app-ack': 'app-ack', copy: 'copy', 'zc-completion': 'zc-completion' };

const SIOCOUTQ: Record<string, string> = { siocoutq: 'siocoutq-queued', siocoutqnsd: 'siocoutqnsd-queued' };
const SIOCOUTQ_METHODS = ['sendfile', 'splice', 'vmsplice'];

/** The claim for a cell, or undefined when none covers it (an observation without a claim). */
export function claimForCell(method: string, safeguard: string): CellClaim | undefined {
  if (BY_SAFEGUARD[safeguard]) return fromClaims(BY_SAFEGUARD[safeguard]);
  // write(2) copies before it returns: whatever the safeguard waits for afterwards, reuse is safe
  if (method === 'write' || method === 'mmap-write') return fromClaims(NONE[method]!);
  if (safeguard === 'none' && NONE[method]) return fromClaims(NONE[method]);
  if (safeguard === 'lease') return LEASE_UNTIL_ACK;
  if (SIOCOUTQ[safeguard] && SIOCOUTQ_METHODS.includes(method)) return fromClaims(SIOCOUTQ[safeguard]);
  if (safeguard === 'lease-early') return { id: `lease-early-${method}`, kind: 'observation', expect: 'falsified' };
  return undefined;
}
