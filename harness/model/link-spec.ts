// The faults a tun link injects (the netem this kernel lacks) as data on the Experiment, their validation and the relay's config
// line. Pure: no I/O. Loss and reorder count data segments per connection from #1; the spec syntax is in docs/tun.md.

export interface LinkFaults {
  /** one-way delay added to every packet, ms */
  delayMs?: number;
  /** ± uniform jitter on top of the delay, ms (order is kept) */
  jitterMs?: number;
  /** which sender→receiver data segments are dropped: "2%", "0.02", "#3", "#3,#10-12" */
  loss?: string;
  /** which are held back and delivered after the next packet (same syntax) */
  reorder?: string;
  /** link rate in each direction, e.g. "100mbit" */
  rate?: string;
  /** seed of the probabilistic specs (default 1) */
  seed?: number;
}

export type Selector = { kind: 'probability'; p: number } | { kind: 'segments'; ranges: [number, number][] };

/** "2%" | "0.02" | "#3,#10-12" → a selector; throws a message naming the accepted forms. */
export function parseSelector(spec: string): Selector {
  const s = spec.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  const frac = /^(0(?:\.\d+)?|1(?:\.0+)?|\.\d+)$/.exec(s);
  if (pct || frac) {
    const p = pct ? Number(pct[1]) / 100 : Number(frac![1]);
    if (!(p >= 0 && p <= 1)) throw new Error(`"${spec}": a probability must be from 0 to 1 (or 0% to 100%)`);
    return { kind: 'probability', p };
  }
  const ranges: [number, number][] = [];
  for (const term of s.split(',')) {
    const m = /^#(\d+)(?:-#?(\d+))?$/.exec(term.trim());
    const lo = m ? Number(m[1]) : NaN, hi = m?.[2] ? Number(m[2]) : lo;
    if (!m || !(lo >= 1) || !(hi >= lo) || !Number.isSafeInteger(hi))
      throw new Error(`"${spec}": want a probability ("2%", "0.02") or data segment numbers from 1 ("#3", "#3,#10-12")`);
    ranges.push([lo, hi]);
  }
  if (ranges.length > 64) throw new Error(`"${spec}": at most 64 segment terms`);
  return { kind: 'segments', ranges };
}

const RATE_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };
/** "100mbit" → 1e8 bit/s; at least 8 kbit/s (a 1500-byte packet then takes 1.5 s). */
export function parseLinkRate(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$/i.exec(rate.trim());
  const bps = m ? Math.round(Number(m[1]) * RATE_UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!(bps >= 8000) || bps > 1e12) throw new Error(`"${rate}": want a rate from 8kbit to 1000gbit as <number><bit|kbit|mbit|gbit>, e.g. "100mbit"`);
  return bps;
}

/** Throws an Error naming the field for any fault that cannot be applied. */
export function validateLinkFaults(f: LinkFaults): void {
  for (const k of ['delayMs', 'jitterMs'] as const) {
    const v = f[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 10000)) throw new Error(`${k} must be from 0 to 10000 ms`);
  }
  if (f.jitterMs && !(f.delayMs && f.delayMs >= f.jitterMs)) throw new Error('jitterMs needs a delayMs at least as large (delay ± jitter stays >= 0)');
  if (f.seed !== undefined && !(Number.isSafeInteger(f.seed) && f.seed >= 0)) throw new Error('seed must be a non-negative integer');
  for (const k of ['loss', 'reorder'] as const) {
    const v = f[k];
    if (v !== undefined) {
      try { parseSelector(v); } catch (e) { throw new Error(`${k}: ${(e as Error).message}`); }
    }
  }
  if (f.rate !== undefined) {
    try { parseLinkRate(f.rate); } catch (e) { throw new Error(`rate: ${(e as Error).message}`); }
  }
}

export const DEFAULT_SEED = 1;

function relaySelector(spec: string | undefined): string {
  if (spec === undefined) return 'none';
  const s = parseSelector(spec);
  return s.kind === 'probability' ? `p:${s.p}` : `n:${s.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`;
}

/** The relay's `config` line for these faults (no faults: a plain copying link). */
export function relayConfigLine(f: LinkFaults = {}): string {
  const us = (ms: number | undefined) => Math.round((ms ?? 0) * 1000);
  const rate = f.rate === undefined ? 0 : parseLinkRate(f.rate);
  return `config delay_us=${us(f.delayMs)} jitter_us=${us(f.jitterMs)} rate_bps=${rate} seed=${f.seed ?? DEFAULT_SEED} loss=${relaySelector(f.loss)} reorder=${relaySelector(f.reorder)}`;
}

/** The faults as recorded in case.json: only what was set, plus the seed actually used. */
export function describeFaults(f: LinkFaults = {}): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (f.delayMs) out.delayMs = f.delayMs;
  if (f.jitterMs) out.jitterMs = f.jitterMs;
  if (f.rate) out.rate = f.rate;
  if (f.loss) out.loss = f.loss;
  if (f.reorder) out.reorder = f.reorder;
  if (f.loss || f.reorder || f.jitterMs) out.seed = f.seed ?? DEFAULT_SEED;
  return out;
}

/** A case's recorded link config (describeFaults plus the MTU) back to faults and MTU. */
export function faultsFromConfig(config: Record<string, string | number>): { link: LinkFaults; mtu?: number } {
  const link: LinkFaults = {};
  const num = (k: string) => (config[k] === undefined ? undefined : Number(config[k]));
  const str = (k: string) => (config[k] === undefined ? undefined : String(config[k]));
  const set = <K extends keyof LinkFaults>(k: K, v: LinkFaults[K] | undefined) => {
    if (v !== undefined) link[k] = v;
  };
  set('delayMs', num('delayMs'));
  set('jitterMs', num('jitterMs'));
  set('loss', str('loss'));
  set('reorder', str('reorder'));
  set('rate', str('rate'));
  set('seed', num('seed'));
  const mtu = num('mtu');
  return { link, ...(mtu !== undefined ? { mtu } : {}) };
}

/** The `zcprobe run` flags asking for these faults and MTU again (the inverse of cli/transport-flags.ts linkFromFlags). */
export function linkFlagArgs(link: LinkFaults = {}, mtu?: number): string[] {
  const out: string[] = [];
  const add = (flag: string, v: string | number | undefined) => {
    if (v !== undefined) out.push(`--${flag}`, String(v));
  };
  add('link-delay-ms', link.delayMs);
  add('link-jitter-ms', link.jitterMs);
  add('link-loss', link.loss);
  add('link-reorder', link.reorder);
  add('link-rate', link.rate);
  add('link-seed', link.seed);
  add('link-mtu', mtu);
  return out;
}

/** "the link dropped data segment #3 (offset 2896, 1448 B) [--link-loss]" */
export function describeEvent(e: LinkEvent): string {
  const what = e.segment !== undefined ? `data segment #${e.segment}${e.retransmission ? ' (a retransmission)' : ''}` : `a ${e.len}-byte ${e.dir} packet`;
  const where = e.offset !== undefined ? ` at stream offset ${e.offset}, ${e.len} B` : ` seq ${e.seq}, ${e.len} B`;
  const why = e.cause === 'loss' ? '--link-loss' : e.cause === 'reorder' ? '--link-reorder' : 'the link queue was full';
  return e.kind === 'drop' ? `the link dropped ${what}${where} (${why})` : `the link delivered ${what}${where} after the next packet (${why})`;
}

/** Something the link did to a packet of the case's connection (a fault the user asked for). */
export interface LinkEvent {
  kind: 'drop' | 'reorder';
  /** loss: --link-loss chose it; overflow: the link's queue was full; reorder: --link-reorder */
  cause: 'loss' | 'overflow' | 'reorder';
  dir: 's2r' | 'r2s';
  /** epoch ms when the link decided */
  at: number;
  src: string; srcPort: number; dst: string; dstPort: number;
  seq: number;
  len: number;
  /** TCP flags byte */
  flags: number;
  /** stream offset (seq - ISN - 1) when the link saw the SYN */
  offset?: number;
  /** s2r data segments: the 1-based number the loss/reorder specs count, and whether its bytes
   * had been sent before */
  segment?: number;
  retransmission?: boolean;
}
