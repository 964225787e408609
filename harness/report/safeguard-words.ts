// How the generated rules name a safeguard: what to do when it held, and what it is when it was
// not enough. These describe the safeguards, never an outcome: which phrase a rule uses is
// decided by the report's data (harness/report/recommend.ts).

export interface SafeguardWords {
  /** an imperative that follows "after <method>, " */
  held: string;
  /** a noun phrase for "not enough: …" */
  failed: string;
}

const WORDS: Record<string, SafeguardWords> = {
  none: { held: 'reuse the buffer at once', failed: 'reusing at once' },
  siocoutq: { held: 'wait until SIOCOUTQ reads 0 (siocoutq)', failed: 'SIOCOUTQ = 0' },
  siocoutqnsd: { held: 'wait until SIOCOUTQNSD reads 0 (siocoutqnsd)', failed: 'SIOCOUTQNSD = 0' },
  'zc-completion': { held: 'wait for the zero-copy completion (zc-completion)', failed: 'the zero-copy completion' },
  'app-ack': { held: "wait for the receiver's ack (app-ack)", failed: "the receiver's ack" },
  copy: { held: 'send a copy with write() instead (copy)', failed: 'sending a copy' },
  lease: { held: "hold a lease on the file until the receiver's ack (lease)", failed: "a lease held until the receiver's ack" },
  'lease-early': { held: 'hold a lease until the send returns (lease-early)', failed: 'a lease released when the send returns' },
};

/** A safeguard this version has no words for is named as it is. */
export function safeguardWords(safeguard: string): SafeguardWords {
  return WORDS[safeguard] ?? { held: `use the ${safeguard} safeguard`, failed: safeguard };
}
