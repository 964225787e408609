// The one JSON shape of a case, as printed by `zcprobe run --json`, written to case.json and
// stored in reports: the experiment, the three streams' comparison, timings, evidence paths.
import { release } from 'node:os';
import type { ClockEstimate } from '../model/clock.ts';
import { compareCaptures, comparisonFacts, type CaptureComparison } from './cross-check.ts';
import type { HostPair } from '../host/host-facts.ts';
import { classifyBytes, formatClasses, type ByteClasses } from './byte-classes.ts';
import type { WireObservation } from '../capture/wire.ts';
import type { EvidencePaths, HexDiff, WiresharkPointers } from './evidence-refs.ts';
import type { CaseRun } from '../session/run-case.ts';
import type { SenderCapture } from '../model/experiment.ts';
import type { SafeguardResult } from '../case/safeguards/types.ts';
import type { LinkReport } from './link-facts.ts';
import { compareStreams, decideVerdict, type Mismatch, type Verdict, type WireFacts } from './verdict.ts';

export interface WireReport extends Mismatch {
  /** 'captured' or 'off' (--no-capture: two-stream verdict only) */
  capture: 'captured';
  iface: string;
  packets: number;
  /** contiguous bytes captured from stream offset 0 */
  bytes: number;
  complete: boolean;
  gaps: { start: number; end: number; kind: string }[];
  retransmissions: number;
  conflicts: {
    seqStart: number;
    seqEnd: number;
    firstPacket: number;
    againPacket: number;
    firstDifferenceAt?: number;
    differingBytes?: number;
    changed: Mismatch;
  }[];
  droppedByKernel: number;
  /** why this capture cannot serve as evidence either way (empty: it can) */
  integrity: string[];
  /** epoch ms of the first packet that carried a byte differing from I, or null */
  firstMutatedPacketAt: number | null;
  /** whose tcpdump: the sender's (what left it), the remote agent's (what arrived there), or the
   * receiving side's of a local transport (--sender-capture off: what arrived) */
  capturedBy?: 'sender' | 'agent' | 'receiver';
  /** where the first transmission's bytes are old / new / zero / other (captured prefix) */
  classes: ByteClasses;
}

export interface CaseReport {
  id: string;
  method: string;
  size: number;
  safeguard: string;
  mutation: string;
  mutationRange: string;
  /** what the mutation changes: ranges turned new or zero (the rest keeps the old bytes) */
  mutationChanges: CaseRun['expectation'];
  /** the mutation's steps with their times (FICLONE then pwrite, the rename, ...) */
  mutationSteps: { what: string; at: number }[];
  /** --fs of the source file (null: the source is memory) */
  fs: string | null;
  /** that filesystem's type, mount options and block size */
  filesystem: CaseRun['filesystem'];
  transport: string;
  family: number;
  kernel: string;
  receiverDelayMs: number;
  rcvbuf: number | null;
  sndbuf: number | null;
  pipeSize: number;
  verdict: Verdict;
  /** why the verdict is inconclusive, or extra proof (differing retransmissions) */
  reasons: string[];
  /** classes: where the received bytes are old / new / zero / other / missing */
  received: Mismatch & { bytes: number; classes: ByteClasses };
  wire: WireReport | { capture: 'off' };
  /** remote runs: the sender's capture (what left it), while `wire` is the agent's (what arrived,
   * i.e. what crossed), and how the two compare */
  departed?: WireReport & { comparedWithArrival?: CaptureComparison };
  /** remote runs: the agent, its clock estimate, why its capture of this case is missing */
  remote?: { agent: string; clock: ClockEstimate; captureError: string | null };
  /** whether a tcpdump ran on the sending device ('off' with --no-capture too); see wire.capturedBy
   * for where W was captured (docs/capture-placement.md) */
  senderCapture?: SenderCapture;
  /** both ends of the path: kernel, interface, driver, offloads, MTU, addresses */
  hosts?: HostPair;
  /** what the file holds through its name after the case (old/new/zero/missing): tells a change of
   * the file from a change only in what was in flight; null when the name is gone, absent for
   * memory sources */
  fileAfter?: ByteClasses | null;
  secondOutput?: Mismatch;
  /** fallbacks: what the kernel refused and the send did instead (e.g. a SEND_ZC flag it does not know) */
  send: { calls: number; shortCounts: number; fallbacks?: string[] };
  /** waitedMs, signal, reached; lease safeguards add the lease record, another process's
   * mutation adds the writer's record */
  safeguardResult: SafeguardResult;
  /** copiedKnown false: the kernel could not report COPIED (no IORING_SEND_ZC_REPORT_USAGE) */
  zerocopy?: { expected: number; received: number; copied: number; copiedKnown: boolean };
  connection: CaseRun['connection'];
  timings: {
    sendStartedAt: number;
    sendReturnedAt: number;
    mutatedAt: number;
    firstMutatedPacketAt: number | null;
    receiverAcceptedAt: number;
    receiverFirstReadAt: number | null;
    receiverDoneAt: number;
    /** remote runs: receiver timestamps (and firstMutatedPacketAt) are the agent's, put on the
     * sender's clock with this offset; each is uncertain by ± uncertaintyMs */
    receiverClock?: { offsetMs: number; uncertaintyMs: number };
  };
  hexDiff?: HexDiff;
  /** non-clean cases with a capture: the display filter showing the frames that prove the verdict */
  wireshark?: WiresharkPointers;
  evidence?: EvidencePaths;
  /** tun: the link's account (faults asked for, events, counters) and what reached the receiver */
  link?: LinkReport;
}

/** The receiver's view of an address: an IPv4-mapped IPv6 address is the IPv4 one. */
function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** What a wire report needs of a case: its streams and connection, and the receiving side's view
 * of its peer when it has one (a zcprobe serve client connects, so it has none to check). */
export interface WireRunView {
  streams: Pick<CaseRun['streams'], 'intended' | 'mutated'>;
  connection: CaseRun['connection'];
  receiver: { peer?: { address: string; port: number } };
}

/** Facts that make the capture unusable as evidence, each a sentence (see WireFacts.integrity). */
function integrityProblems(run: WireRunView, obs: WireObservation): string[] {
  const s = obs.stream;
  const out: string[] = [];
  if (!s.sawSyn) out.push('the stream start is not anchored: no SYN of this connection was captured, so offsets are guesses');
  if (s.synIsns > 1) out.push(`${s.synIsns} different ISNs on this 4-tuple: more than one connection is in the capture`);
  if (s.outOfWindowSegments) out.push(`${s.outOfWindowSegments} segment(s) lie before the stream start`);
  if (s.uncomparedOverlaps) out.push(`${s.uncomparedOverlaps} retransmitted overlap(s) could not be compared (not captured)`);
  if (s.truncatedPayloads) out.push(`${s.truncatedPayloads} segment payload(s) were cut short by snaplen`);
  const u = obs.undecoded;
  if (u.headerTruncated || u.fragments) out.push(`${u.headerTruncated} frame(s) with truncated headers and ${u.fragments} IP fragment(s) could not be decoded and may belong to this connection`);
  const peer = run.receiver.peer;
  const c = run.connection;
  if (peer && (plainAddress(peer.address) !== plainAddress(c.src) || peer.port !== c.srcPort))
    out.push(`the receiver's peer ${peer.address}:${peer.port} is not the captured connection's sender ${c.src}:${c.srcPort}`);
  if (obs.finished && !obs.finished.ok) out.push(`the connection had not finished on the wire when it was collected: ${obs.finished.reason ?? 'no reason given'}`);
  return out;
}

/** `clockOffsetMs`: the capturing host's clock minus ours (0 for our own capture). */
export function wireReport(
  run: WireRunView,
  obs: WireObservation,
  clockOffsetMs = 0,
  given?: { mismatch: Mismatch; classes: ByteClasses },
): WireReport {
  const { intended, mutated } = run.streams;
  const s = obs.stream;
  const size = intended.length;
  // `given`: the caller compared (part of) the stream itself (serve: the body, the header apart)
  const mismatch = given?.mismatch ?? compareStreams(intended, s.bytes.subarray(0, Math.min(s.bytes.length, size)), mutated);
  const complete = s.length >= size && !s.gaps.some((g) => g.start < size);
  const firstTs = mismatch.firstOffset !== null ? s.firstTsUsAt(mismatch.firstOffset) : undefined;
  return {
    capture: 'captured',
    iface: obs.iface,
    packets: obs.packets,
    bytes: s.length,
    complete,
    ...mismatch,
    // the captured prefix may be shorter than I only when incomplete; lengthDelta says by how much
    lengthDelta: s.length - size,
    gaps: s.gaps.map((g) => ({ start: g.start, end: g.end, kind: g.kind })),
    retransmissions: s.retransmissions.length,
    conflicts: s.conflicts.map((c) => ({
      seqStart: c.seqStart,
      seqEnd: c.seqEnd,
      firstPacket: c.firstPacket,
      againPacket: c.againPacket,
      firstDifferenceAt: c.firstDifferenceAt,
      differingBytes: c.differingBytes,
      changed: changedVersion(c.seqStart, c.seqEnd, c.firstBytes!, c.againBytes!, intended, mutated),
    })),
    droppedByKernel: obs.droppedByKernel,
    integrity: integrityProblems(run, obs),
    firstMutatedPacketAt: firstTs === undefined ? null : firstTs / 1000 - clockOffsetMs,
    classes: given?.classes ?? classifyBytes(intended, s.bytes.subarray(0, Math.min(s.length, size)), mutated),
  };
}

/** Of a conflict's two versions, the one that differs from I, compared with I (offsets are the
 * stream's). Bytes past the intended stream count as foreign. */
function changedVersion(start: number, end: number, first: Buffer, again: Buffer, intended: Uint8Array, mutated: Uint8Array): Mismatch {
  const slice = (a: Uint8Array) => a.subarray(Math.min(start, a.length), Math.min(end, a.length));
  const i = slice(intended);
  const m = slice(mutated);
  const firstVsI = compareStreams(i, first, m);
  const version = firstVsI.mismatchedBytes > 0 || firstVsI.lengthDelta !== 0 ? first : again;
  const c = compareStreams(i, version, m);
  const past = Math.max(0, version.length - i.length);
  const shift = (o: number | null) => (o === null ? null : o + start);
  return {
    ...c,
    other: c.other + past,
    mismatchedBytes: c.mismatchedBytes + past,
    firstOffset: shift(c.firstOffset ?? (past ? i.length : null)),
    lastOffset: shift(past ? version.length - 1 : c.lastOffset),
  };
}

/** What decideVerdict needs of a wire report. A differing retransmission the sender's capture
 * saw counts too when the arrival capture has none (it may have been lost on the way). */
export function wireFacts(w: WireReport, departed?: WireReport): WireFacts {
  const conflicts = w.conflicts.length ? w.conflicts : (departed?.conflicts ?? []);
  return {
    mismatch: w,
    complete: w.complete,
    conflicts: conflicts.map((c) => ({ changed: c.changed })),
    droppedByKernel: w.droppedByKernel,
    integrity: w.integrity,
  };
}

/** Remote runs: the agent's capture is W (what crossed); the sender's is what left. Problems of
 * either capture, and differences between them no late read explains, are integrity problems. */
function remoteWire(run: CaseRun, obs: WireObservation | undefined): { wire?: WireReport; departed?: CaseReport['departed']; notes: string[] } {
  const remote = run.receiver.remote!;
  const sent = obs ? { ...wireReport(run, obs), capturedBy: 'sender' as const } : undefined;
  if (!remote.observation) {
    // The agent did not capture this case: without what arrived, what left proves nothing here.
    if (sent && remote.captureError) sent.integrity.push(`the agent's capture of this case is missing: ${remote.captureError}`);
    return { wire: sent, notes: [] };
  }
  const wire = { ...wireReport(run, remote.observation, remote.clock.offsetMs), capturedBy: 'agent' as const };
  if (!sent || !obs) return { wire, notes: [] };
  if (sent.integrity.length) {
    wire.integrity.push(...sent.integrity.map((p) => `sender's capture: ${p}`));
    return { wire, departed: sent, notes: [] };
  }
  const c = compareCaptures(obs.stream, remote.observation.stream, run.streams.intended, run.streams.mutated);
  const facts = comparisonFacts(c);
  wire.integrity.push(...facts.integrity);
  return { wire, departed: { ...sent, comparedWithArrival: c }, notes: facts.notes };
}

export function toCaseReport(run: CaseRun, obs?: WireObservation, link?: LinkReport): CaseReport {
  const e = run.experiment;
  const pre: string[] = [];
  // A safeguard that timed out proves nothing either way about that safeguard.
  if (!run.safeguard.reached) pre.push(`safeguard ${e.safeguard} did not reach its safe point: ${run.safeguard.signal}`);
  if (run.receiver.error) pre.push(`receiver: ${run.receiver.error}`);
  const remote = run.receiver.remote;
  const { wire, departed, notes } = remote
    ? remoteWire(run, obs)
    : { wire: obs ? wireReport(run, obs) : undefined, departed: undefined, notes: [] };
  // The link's integrity facts (bytes changed in flight, unexplained losses) weigh like the wire's.
  if (wire && link) wire.integrity.push(...link.integrity);
  else if (link) pre.push(...link.integrity);
  const facts = wire && { ...wireFacts(wire, departed), injected: link?.notes };
  const { intended, received: got, mutated, secondOutput, fileAfter } = run.streams;
  const zc = run.zerocopy;
  const received = compareStreams(intended, got, mutated);
  const decided = decideVerdict(received, facts, pre);
  const verdict = decided.verdict;
  const reasons = verdict === 'inconclusive' ? decided.reasons : [...decided.reasons, ...notes];
  return {
    id: run.id,
    method: e.method,
    size: e.size,
    safeguard: e.safeguard,
    mutation: e.mutation,
    mutationRange: e.mutationRange,
    mutationChanges: run.expectation,
    mutationSteps: run.mutation.steps ?? [],
    fs: run.filesystem?.fs ?? null,
    filesystem: run.filesystem,
    transport: e.transport,
    family: e.family,
    kernel: release(),
    receiverDelayMs: e.receiverDelayMs,
    rcvbuf: e.rcvbuf ?? null,
    sndbuf: e.sndbuf ?? null,
    pipeSize: e.pipeSize,
    verdict,
    reasons,
    received: { bytes: run.receiver.bytes, ...received, classes: classifyBytes(intended, got, mutated) },
    wire: wire ?? { capture: 'off' },
    ...(fileAfter !== undefined ? { fileAfter: fileAfter && classifyBytes(intended, fileAfter, mutated) } : {}),
    ...(departed ? { departed } : {}),
    ...(remote ? { remote: { agent: remote.agent, clock: remote.clock, captureError: remote.captureError } } : {}),
    ...(secondOutput ? { secondOutput: compareStreams(intended, secondOutput, mutated) } : {}),
    send: { calls: run.send.calls, shortCounts: run.send.shortCounts, ...(run.send.fallbacks ? { fallbacks: run.send.fallbacks } : {}) },
    safeguardResult: run.safeguard,
    ...(zc ? { zerocopy: { expected: zc.expected, received: zc.received, copied: zc.copied, copiedKnown: zc.copiedKnown } } : {}),
    connection: run.connection,
    ...(link ? { link } : {}),
    timings: {
      sendStartedAt: run.send.startedAt,
      sendReturnedAt: run.send.returnedAt,
      mutatedAt: run.mutation.mutatedAt,
      firstMutatedPacketAt: wire?.firstMutatedPacketAt ?? null,
      receiverAcceptedAt: run.receiver.acceptedAt,
      receiverFirstReadAt: run.receiver.firstReadAt,
      receiverDoneAt: run.receiver.doneAt,
      ...(remote ? { receiverClock: { offsetMs: remote.clock.offsetMs, uncertaintyMs: remote.clock.uncertaintyMs } } : {}),
    },
  };
}

/** One human line per case. */
export function formatCaseLine(r: CaseReport): string {
  const fs = r.filesystem ? ` fs=${r.filesystem.fs}` : '';
  const what = `${r.method} ${r.size}B ${r.mutation}${fs} safeguard=${r.safeguard} delay=${r.receiverDelayMs}ms ${r.transport}`;
  const describe = (name: string, m: Mismatch & { classes?: ByteClasses }) => {
    if (!m.mismatchedBytes && !m.lengthDelta) return `${name}: identical`;
    return `${name}: ${m.mismatchedBytes} bytes differ${m.classes ? `, ${formatClasses(m.classes)}` : ''}`;
  };
  const parts = [describe('received', r.received)];
  if (r.received.lengthDelta) parts.push(`received length ${r.received.lengthDelta > 0 ? '+' : ''}${r.received.lengthDelta}`);
  parts.push(r.wire.capture === 'captured' ? describe('wire', r.wire) : 'wire: not captured');
  const tail = r.reasons.length ? ` — ${r.reasons.join('; ')}` : '';
  const ev = r.evidence ? ` [evidence ${r.evidence.dir}${r.wireshark ? `; Wireshark: ${r.wireshark.filter}` : ''}]` : '';
  return `${what} → ${r.verdict} (${parts.join(', ')})${tail}${ev}`;
}
