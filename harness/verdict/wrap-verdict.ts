// The verdict of one connection of a wrapped program: the existing three-stream verdict with I = the
// bytes at each send call (from the shim), W = the capture, R = what the client read, "mutated" =
// what the program wrote into bytes in flight; then each finding of the shim is proven (changed bytes
// in its range reached the wire or the client) or latent (they did not), and changed bytes no finding
// explains are reported as such.
import type { WireObservation } from '../capture/wire.ts';
import { mutatedView, type ShimConnection } from '../capture/shim-streams.ts';
import { formatFrame, siteOf, symbolize, type Frame } from '../capture/symbols.ts';
import type { WrapConnectionRun } from '../session/wrap-run.ts';
import { classifyBytes, type ByteClasses } from './byte-classes.ts';
import { wireFacts, wireReport, type WireReport } from './case-report.ts';
import { linkReport, type LinkReport } from './link-facts.ts';
import { compareStreams, decideVerdict, isCorrupted, type Mismatch, type Verdict } from './verdict.ts';

export interface WrapFinding {
  /** write-in-flight, free, realloc, munmap, madvise-*, close-in-flight, ring-exit-in-flight, read-into,
   * file-write, truncate, punch-hole */
  kind: string;
  /** file:line of the innermost frame in the program's own code (null: no frame could be resolved) */
  site: string | null;
  backtrace: string[];
  /** stream offsets [start, end) this finding touched on this connection */
  range: { start: number; end: number };
  /** what was in flight there: msg_zerocopy, send_zc, sendmsg_zc, vmsplice, file */
  inFlight: string;
  /** how many events (faulting writes, calls) it groups, and the bytes they changed */
  events: number;
  changedBytes: number;
  firstAt: number;
  /** proven: bytes in its range changed on the wire or at the client; latent: they did not;
   * undecided: the connection's verdict is inconclusive */
  status: 'proven' | 'latent' | 'undecided';
  proof?: { wireBytes: number; receivedBytes: number; frames: number[] };
  /** how the program released the range, or why it never did while it ran */
  release: string;
}

export interface WrapConnectionReport {
  connection: number;
  /** the existing verdict over I/W/R */
  verdict: Verdict;
  reasons: string[];
  /** proven: a finding and changed bytes on the wire or at the client; latent: findings, no damage;
   * unexplained: changed bytes without a finding; clean; inconclusive */
  outcome: 'proven' | 'latent' | 'unexplained' | 'clean' | 'inconclusive';
  tuple: WrapConnectionRun['connection'];
  program: { pid: number; exe: string } | null;
  sends: { calls: number; bytes: number; byCall: { call: string; source: string; calls: number; bytes: number }[] };
  findings: WrapFinding[];
  /** changed bytes outside every finding's range (another process, a path the shim does not see) */
  unexplained?: string;
  received: Mismatch & { bytes: number; classes: ByteClasses };
  wire: WireReport | { capture: 'off' };
  link?: LinkReport;
  client: {
    delayMs: number; rcvbuf: number | null; rcvbufEffective: number; connectedAt: number; firstReadAt: number | null; doneAt: number;
    error?: string;
  };
  timings: { firstFindingAt: number | null; firstMutatedPacketAt: number | null };
  /** what the shim could not see or record for this process */
  shim: { blind: string[]; notes: string[]; capReached: string | null };
  /** the connection's evidence bundle (written for non-clean connections and for findings) */
  evidence?: { dir: string; pcap: string | null; pcapng: string | null; caseJson: string; hexDiff: string; shimLog: string | null };
  /** for the evidence bundle (not printed): the streams */
  streams?: { intended: Uint8Array; mutatedWire: Uint8Array; mutatedReceived: Uint8Array; received: Uint8Array };
}

const range = (a: number, b: number) => `${a}–${b - 1}`;

function changedIn(observed: Uint8Array, intended: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < Math.min(end, observed.length, intended.length); i++) if (observed[i] !== intended[i]) n++;
  return n;
}

/** Frames (1-based, in the connection's pcap) whose payload carries changed bytes in [start, end). */
function provingFrames(
  obs: WireObservation | undefined,
  conn: WrapConnectionRun['connection'],
  intended: Uint8Array,
  start: number,
  end: number,
): number[] {
  if (!obs?.segments || obs.stream.isn === null) return [];
  const base = (obs.stream.isn + 1) >>> 0;
  const out: number[] = [];
  for (const s of obs.segments) {
    if (s.src !== conn.src || s.srcPort !== conn.srcPort || !s.payloadLength) continue;
    const so = ((s.seq - base) | 0);
    const a = Math.max(so, start), b = Math.min(so + s.payload.length, end, intended.length);
    for (let i = a; i < b; i++) {
      if (s.payload[i - so] !== intended[i]) {
        out.push(s.index + 1);
        break;
      }
    }
    if (out.length >= 5) break;
  }
  return out;
}

function releaseOf(shim: ShimConnection, kind: string): string {
  const hows = [...new Set(shim.releases.values())];
  if (hows.length) return `released by ${hows.join(', ')}`;
  // the only release point the shim knows for these: the client's EOF, read by the program
  if (kind === 'vmsplice' || kind === 'file') return 'never released while the program ran (no EOF from the client read by the program)';
  return 'never released while the program ran';
}

/** Groups the shim's raw findings by kind and site (file:line; the instructions of one memcpy are one
 * site), with the backtrace of the first. */
function groupFindings(shim: ShimConnection): Omit<WrapFinding, 'status' | 'proof'>[] {
  const ips = [...new Set(shim.findings.map((f) => f.ip))];
  const resolved: Frame[][] = symbolize(shim.log.maps, ips.map((ip) => shim.sites.get(ip) ?? { exact: false, bt: [ip] }));
  const where = new Map(ips.map((ip, i) => [ip, { site: siteOf(resolved[i]!), backtrace: resolved[i]!.map(formatFrame) }]));
  const groups = new Map<string, Omit<WrapFinding, 'status' | 'proof'>>();
  for (const f of shim.findings) {
    const w = where.get(f.ip)!;
    const key = `${f.kind}@${w.site ?? f.ip}`;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, {
        kind: f.kind, site: w.site, backtrace: w.backtrace, range: { start: f.start, end: f.end }, inFlight: f.rangeKind,
        events: 1, changedBytes: f.changed, firstAt: f.t, release: releaseOf(shim, f.rangeKind),
      });
    }
    else {
      g.range = { start: Math.min(g.range.start, f.start), end: Math.max(g.range.end, f.end) };
      g.events++;
      g.changedBytes += f.changed;
      g.firstAt = Math.min(g.firstAt, f.t);
    }
  }
  return [...groups.values()];
}

function sendSummary(shim: ShimConnection | null): WrapConnectionReport['sends'] {
  if (!shim) return { calls: 0, bytes: 0, byCall: [] };
  const by = new Map<string, { call: string; source: string; calls: number; bytes: number }>();
  for (const s of shim.sends) {
    const k = `${s.call}/${s.source}`;
    const e = by.get(k) ?? { call: s.call, source: s.source, calls: 0, bytes: 0 };
    e.calls++;
    e.bytes += s.len;
    by.set(k, e);
  }
  return { calls: shim.sends.length, bytes: shim.intended.length, byCall: [...by.values()] };
}

export function decideWrapConnection(
  run: WrapConnectionRun,
  shim: ShimConnection | null,
  opts: { delayMs: number; rcvbuf?: number },
): WrapConnectionReport {
  const pre: string[] = [];
  if (run.connectError) pre.push(`the client could not connect: ${run.connectError}`);
  else if (run.client.error) pre.push(`client: ${run.client.error}`);
  if (!shim && !run.connectError)
    pre.push("the shim logged no connection with this 4-tuple: the program's sends were not seen " +
      '(a send path the shim does not wrap, or a process it did not attach to)');
  const intended: Uint8Array = shim?.intended ?? new Uint8Array(0);
  const received = run.client.data;
  for (const u of shim?.unrecorded ?? []) pre.push(`I is unknown at stream offsets ${range(u.start, u.end)}: ${u.why}`);
  if (shim?.unrecordedWrites)
    pre.push(`${shim.unrecordedWrites} write(s) into bytes in flight were not recorded (the shim's snapshot cap was reached): ` +
      'changed bytes cannot be matched');
  if (shim && !run.client.error && received.length !== intended.length)
    pre.push(`the client read ${received.length} bytes, the shim saw ${intended.length} sent: a send path the shim does not see`);
  const w = run.wire;
  if (shim && w?.finished.ok && w.stream.length !== intended.length && !w.stream.gaps.length)
    pre.push(`the wire carried ${w.stream.length} bytes, the shim saw ${intended.length} sent: a send path the shim does not see`);
  const patches = shim?.patches ?? [];
  // W's own bytes first, then both versions of each retransmission that changed them
  const versions = (c: NonNullable<typeof w>['stream']['conflicts'][number]) =>
    [c.firstBytes, c.againBytes].filter((b): b is Buffer => !!b).map((bytes) => ({ start: c.seqStart, bytes }));
  const seen = w ? [{ start: 0, bytes: w.stream.bytes }, ...w.stream.conflicts.flatMap(versions)] : [];
  const mutatedWire = mutatedView(intended, patches, seen);
  const mutatedReceived = mutatedView(intended, patches, received);
  // the client connected to the program: no peer of its own to check
  const wire = w ? wireReport({ streams: { intended, mutated: mutatedWire }, connection: run.connection, receiver: {} }, w) : undefined;
  const link = run.link ? linkReport(run.connection, intended, mutatedWire, w, run.arrived, run.link) : undefined;
  if (wire && link) wire.integrity.push(...link.integrity);
  const mismatch = compareStreams(intended, received, mutatedReceived);
  const decided = decideVerdict(mismatch, wire && { ...wireFacts(wire), injected: link?.notes }, pre);

  const findings: WrapFinding[] = (shim ? groupFindings(shim) : []).map((g) => {
    const wireBytes = w ? changedIn(w.stream.bytes, intended, g.range.start, g.range.end) : 0;
    const receivedBytes = changedIn(received, intended, g.range.start, g.range.end);
    const proven = isCorrupted(decided.verdict) && wireBytes + receivedBytes > 0;
    const status = proven ? 'proven' : decided.verdict === 'inconclusive' ? 'undecided' : 'latent';
    if (!proven) return { ...g, status };
    const frames = provingFrames(w, run.connection, intended, g.range.start, g.range.end);
    return { ...g, status, proof: { wireBytes, receivedBytes, frames } };
  });
  findings.sort((a, b) => a.firstAt - b.firstAt);
  // changed bytes that neither a finding's range nor anything the program wrote covers
  let unexplainedBytes = 0;
  let firstUnexplained = -1;
  if (decided.verdict !== 'clean') {
    const covered = new Uint8Array(intended.length);
    const written = patches.map((p) => ({ start: p.start, end: p.start + p.bytes.length }));
    for (const r of [...findings.map((f) => f.range), ...written]) covered.fill(1, r.start, Math.min(r.end, covered.length));
    for (const obs of [w?.stream.bytes, received]) {
      if (!obs) continue;
      for (let i = 0; i < Math.min(obs.length, intended.length); i++) {
        if (obs[i] === intended[i] || covered[i]) continue;
        unexplainedBytes++;
        if (firstUnexplained < 0 || i < firstUnexplained) firstUnexplained = i;
      }
    }
  }
  const outcome: WrapConnectionReport['outcome'] = decided.verdict === 'inconclusive' ? 'inconclusive'
    : findings.some((f) => f.status === 'proven') ? 'proven'
      : isCorrupted(decided.verdict) ? 'unexplained'
        : findings.length ? 'latent' : 'clean';
  return {
    connection: run.index,
    verdict: decided.verdict,
    reasons: decided.reasons,
    outcome,
    tuple: run.connection,
    program: shim ? { pid: shim.pid, exe: shim.exe } : null,
    sends: sendSummary(shim),
    findings,
    ...(unexplainedBytes ? {
      unexplained: `${unexplainedBytes} changed byte(s) lie outside every finding's range (first at stream offset ${firstUnexplained}): ` +
        'another process, or a path the shim does not see',
    } : {}),
    received: { bytes: received.length, ...mismatch, classes: classifyBytes(intended, received, mutatedReceived) },
    wire: wire ?? { capture: 'off' },
    ...(link ? { link } : {}),
    client: {
      delayMs: opts.delayMs, rcvbuf: opts.rcvbuf ?? null, rcvbufEffective: run.client.rcvbufEffective, connectedAt: run.client.connectedAt,
      firstReadAt: run.client.firstReadAt, doneAt: run.client.doneAt, ...(run.client.error ? { error: run.client.error } : {}),
    },
    timings: { firstFindingAt: findings[0]?.firstAt ?? null, firstMutatedPacketAt: wire?.firstMutatedPacketAt ?? null },
    shim: {
      blind: shim?.blind ?? [], notes: shim?.notes ?? [],
      capReached: shim?.capReached ? `snapshot cap of ${shim.capReached.cap} bytes reached (${shim.capReached.what})` : null,
    },
    streams: { intended, mutatedWire, mutatedReceived, received },
  };
}
