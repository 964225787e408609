// One connection of a wrapped program as its shim log tells it: I (the bytes at each send call, in
// stream order), what the program wrote into bytes still in flight (patches, in time order) and the
// raw findings, all in stream offsets. The verdict picks, per observed stream, which written version a
// changed byte equals (mutatedView): a byte counts as "new" only if the program wrote that value there.
import { parseEndpoint, ShimData, type RangeKind, type ShimEvent, type ShimProcessLog } from './shim-log.ts';

type Ev<K extends ShimEvent['ev']> = Extract<ShimEvent, { ev: K }>;

export interface ShimSend {
  call: string;
  /** stream offset and length */
  off: number;
  len: number;
  /** where the bytes came from: a copy at the call, or a range that stayed in flight */
  source: 'copy' | RangeKind | 'unknown';
  range?: number;
  /** false: the shim has no snapshot of these bytes (cap reached, or a source it did not see) */
  recorded: boolean;
  t: number;
}

export interface WrittenPatch {
  /** stream offsets [start, start + bytes.length) */
  start: number;
  bytes: Uint8Array;
  /** fault (a single-stepped write), sync (a page left writable after many writes, read at the next
   * call), file-write, truncate, punch-hole */
  by: string;
  ip?: string;
  t: number;
}

/** A finding event mapped to this connection's stream. */
export interface RawFinding {
  /** write-in-flight, free, realloc, munmap, madvise-*, close-in-flight, ring-exit-in-flight,
   * read-into, file-write, truncate, punch-hole */
  kind: string;
  ip: string;
  start: number;
  end: number;
  /** bytes the program changed there by this event (0 for free/close, or a write of equal bytes) */
  changed: number;
  rangeKind: RangeKind;
  t: number;
}

export interface ShimConnection {
  pid: number;
  exe: string;
  conn: number;
  local: { address: string; port: number };
  peer: { address: string; port: number };
  intended: Buffer;
  /** stream ranges whose bytes the shim did not record (I is unknown there) */
  unrecorded: { start: number; end: number; why: string }[];
  sends: ShimSend[];
  patches: WrittenPatch[];
  findings: RawFinding[];
  /** how each range of this connection was released (absent: never, while the program ran) */
  releases: Map<number, string>;
  /** backtraces by site address, from the same process */
  sites: Map<string, { exact: boolean; bt: string[] }>;
  /** writes into this connection's bytes in flight whose new bytes the shim could not record (cap) */
  unrecordedWrites: number;
  /** the process's facts: unseen paths, notes, a crash, its exit counters */
  blind: string[];
  notes: string[];
  crash?: Ev<'crash'>;
  exit?: Ev<'exit'>;
  capReached?: Ev<'cap'>;
  log: ShimProcessLog;
}

type End = { address: string; port: number };
const sameEnd = (a: End, b: End) => a.port === b.port && a.address === b.address;

/** The connection (local = the program's end, peer = the client's end) in whichever process logged it. */
export function findConnection(logs: ShimProcessLog[], local: End, peer: End): ShimConnection | null {
  for (const log of logs) {
    for (const e of log.events) {
      if (e.ev !== 'conn') continue;
      const l = parseEndpoint(e.local), p = parseEndpoint(e.peer);
      if (sameEnd(l, local) && sameEnd(p, peer)) return connectionOf(log, e.conn, l, p);
    }
  }
  return null;
}

function connectionOf(log: ShimProcessLog, conn: number, local: ShimConnection['local'], peer: ShimConnection['peer']): ShimConnection {
  const data = new ShimData(log.prefix);
  try {
    const ranges = new Map<number, Ev<'range'>>();
    const results = new Map<number, number>();
    const rawSends: Ev<'send'>[] = [];
    for (const e of log.events) {
      if (e.ev === 'range') ranges.set(e.range, e);
      else if (e.ev === 'result') results.set(e.range, e.res);
      else if (e.ev === 'send' && e.conn === conn) rawSends.push(e);
    }
    // Offsets in log order; an io_uring send that sent less than asked (its result CQE) counts what it sent.
    const sends: ShimSend[] = [];
    const unrecorded: ShimConnection['unrecorded'] = [];
    const parts: Buffer[] = [];
    let off = 0;
    for (const s of rawSends) {
      const res = s.range !== undefined ? results.get(s.range) : undefined;
      const len = res !== undefined ? Math.max(0, Math.min(s.len, res)) : s.len;
      const kind = s.range !== undefined ? ranges.get(s.range)?.kind : undefined;
      // splice from a pipe (or sendfile from a non-file) the shim did not see filled: unknown bytes
      const unseen = !kind && s.data < 0 && (s.call === 'splice' || s.call === 'sendfile');
      const bytes = s.data >= 0 ? data.read(s.data, len) : null;
      if (!bytes) {
        const why = s.data >= 0 ? 'the snapshot file ends early'
          : unseen ? 'the bytes came from a source the shim did not see' : "the shim's snapshot cap was reached";
        unrecorded.push({ start: off, end: off + len, why });
      }
      parts.push(bytes ?? Buffer.alloc(len));
      sends.push({ call: s.call, off, len, source: kind ?? (unseen ? 'unknown' : 'copy'), range: s.range, recorded: !!bytes, t: s.t });
      off += len;
    }
    // range coordinates → stream offsets (a range can be split over several sends, e.g. vmsplice → splice)
    const byRange = new Map<number, { roff: number; off: number; len: number }[]>();
    rawSends.forEach((s, i) => {
      if (s.range === undefined) return;
      const list = byRange.get(s.range) ?? [];
      list.push({ roff: s.roff ?? 0, off: sends[i]!.off, len: sends[i]!.len });
      byRange.set(s.range, list);
    });
    const toStream = (range: number, roff: number, len: number): { start: number; end: number; skip: number }[] => {
      const out: { start: number; end: number; skip: number }[] = [];
      for (const s of byRange.get(range) ?? []) {
        const a = Math.max(roff, s.roff), b = Math.min(roff + len, s.roff + s.len);
        if (a < b) out.push({ start: s.off + (a - s.roff), end: s.off + (b - s.roff), skip: a - roff });
      }
      return out;
    };
    const patches: WrittenPatch[] = [];
    const findings: RawFinding[] = [];
    const releases = new Map<number, string>();
    const sites = new Map<string, { exact: boolean; bt: string[] }>();
    const blind: string[] = [];
    const notes: string[] = [];
    let unrecordedWrites = 0;
    let crash: Ev<'crash'> | undefined, exit: Ev<'exit'> | undefined, capReached: Ev<'cap'> | undefined;
    for (const e of log.events) {
      if (e.ev === 'site') sites.set(e.ip, { exact: e.exact === 1, bt: e.bt });
      else if (e.ev === 'release' && byRange.has(e.range)) releases.set(e.range, e.how);
      else if (e.ev === 'blind') blind.push(e.what);
      else if (e.ev === 'note') notes.push(e.what);
      else if (e.ev === 'crash') crash ??= e;
      else if (e.ev === 'exit') exit = e;
      else if (e.ev === 'cap') capReached ??= e;
      else if (e.ev === 'write') {
        const written = e.zero ? null : e.data !== undefined && e.data >= 0 ? data.read(e.data, e.len) : null;
        const rangeKind = ranges.get(e.range)?.kind ?? 'msg_zerocopy';
        for (const m of toStream(e.range, e.roff, Math.max(e.len, 1))) {
          if (e.len > 0 && (written || e.zero)) {
            const bytes = e.zero ? new Uint8Array(m.end - m.start) : written!.subarray(m.skip, m.skip + (m.end - m.start));
            patches.push({ start: m.start, bytes, by: e.by, ip: e.ip, t: e.t });
          } else if (e.len > 0) {
            unrecordedWrites++;
          }
          if (e.by !== 'fault' || !e.ip) continue;
          // a write of equal bytes changes nothing, but it is a write all the same: one byte long
          const end = e.len > 0 ? m.end : m.start + 1;
          const changed = e.len > 0 ? m.end - m.start : 0;
          findings.push({ kind: 'write-in-flight', ip: e.ip, start: m.start, end, changed, rangeKind, t: e.t });
        }
      } else if (e.ev === 'finding') {
        const rangeKind = ranges.get(e.range)?.kind ?? 'msg_zerocopy';
        for (const m of toStream(e.range, e.roff, Math.max(e.len, 1)))
          findings.push({ kind: e.kind, ip: e.ip, start: m.start, end: m.end, changed: 0, rangeKind, t: e.t });
      }
    }
    return {
      pid: log.pid, exe: log.exe, conn, local, peer,
      intended: Buffer.concat(parts, off), unrecorded, sends, patches, findings, releases, sites,
      unrecordedWrites, blind, notes, crash, exit, capReached, log,
    };
  } finally {
    data.close();
  }
}

/** Bytes seen somewhere at stream offset `start` on (a stream, or one version of a retransmission). */
export interface Observed {
  start: number;
  bytes: Uint8Array;
}

/**
 * The "mutated" stream for what was observed: where an observed byte differs from I and equals a value
 * the program wrote at that offset while it was in flight, that value (the first observation that
 * matches wins: pass the stream first, then retransmitted versions); elsewhere the last value written
 * (or I). A byte matching nothing written stays "foreign" for the verdict.
 */
export function mutatedView(
  intended: Uint8Array,
  patches: readonly WrittenPatch[],
  observed: Uint8Array | readonly Observed[],
): Uint8Array {
  const views: readonly Observed[] = observed instanceof Uint8Array ? [{ start: 0, bytes: observed }] : observed;
  const out = Uint8Array.from(intended);
  for (const p of patches) out.set(p.bytes.subarray(0, Math.max(0, Math.min(p.bytes.length, out.length - p.start))), p.start);
  const chosen = new Uint8Array(intended.length);
  for (const v of views) {
    for (const p of patches) {
      const a = Math.max(p.start, v.start), b = Math.min(p.start + p.bytes.length, v.start + v.bytes.length, intended.length);
      for (let i = a; i < b; i++) {
        if (chosen[i]) continue;
        const o = v.bytes[i - v.start]!;
        if (o !== intended[i] && o === p.bytes[i - p.start]) {
          out[i] = o;
          chosen[i] = 1;
        }
      }
    }
  }
  return out;
}
