// The JSON shape of a serve case (zcprobe serve --json, case.json, the report's "Real servers"):
// the server, its version and setting, the mutation, the three streams' verdict and where the
// body's bytes are old / new / zero, and the done signal on the timeline.
// The verdict runs on the whole response: I = the header the client read + the body as it was when
// the request arrived, M = that header + the body after the mutation. The header is checked apart
// (status, Content-Length, the wire's header = the client's); offsets and classes are the body's.
import { release } from 'node:os';
import type { WireObservation } from '../capture/wire.ts';
import type { ServeObserved } from '../session/serve-session.ts';
import type { ServeCaseRun } from '../session/serve-case.ts';
import { classifyBytes, formatClasses, type ByteClasses } from './byte-classes.ts';
import { wireFacts, wireReport, type WireReport } from './case-report.ts';
import { linkReport, type LinkReport } from './link-facts.ts';
import { compareStreams, decideVerdict, type Mismatch, type Verdict } from './verdict.ts';

export interface HttpHead {
  /** bytes up to and including the blank line; null: no complete header arrived */
  headerBytes: number | null;
  statusLine: string;
  status: number | null;
  contentLength: number | null;
}

export function parseHead(received: Uint8Array): HttpHead {
  const buf = Buffer.from(received.buffer, received.byteOffset, received.length);
  const end = buf.indexOf('\r\n\r\n');
  const head = buf.toString('latin1', 0, end < 0 ? Math.min(buf.length, 8192) : end);
  const statusLine = head.split('\r\n')[0] ?? '';
  const status = /^HTTP\/\d\.\d (\d{3})/.exec(statusLine);
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  return { headerBytes: end < 0 ? null : end + 4, statusLine, status: status ? Number(status[1]) : null, contentLength: cl ? Number(cl[1]) : null };
}

/** The wire report with offsets and classes of the body (the header is checked apart). */
export type BodyWireReport = WireReport & { headerBytes: number };

export interface ServeCaseReport {
  kind: 'serve';
  id: string;
  server: string;
  /** "nginx/1.22.1" */
  serverVersion: string;
  /** "nginx 1.22.1-9+deb12u12" */
  package: string;
  /** the settings as given ("sendfile=on"), or "defaults" */
  setting: string;
  /** every setting as the server ran */
  settings: Record<string, string>;
  mutation: string;
  size: number;
  clientDelayMs: number;
  rcvbuf: number | null;
  transport: string;
  family: number;
  fs: string;
  filesystem: ServeCaseRun['filesystem'];
  kernel: string;
  verdict: Verdict;
  reasons: string[];
  /** facts next to the verdict: the server logged before its last byte left, a piped logger, ... */
  notes: string[];
  request: string;
  http: { statusLine: string; status: number | null; headerBytes: number | null; contentLength: number | null; bodyBytes: number; contentLengthMatches: boolean };
  /** the body the client read vs the body as it was when the request arrived */
  received: Mismatch & { bytes: number; classes: ByteClasses };
  wire: BodyWireReport | { capture: 'off' };
  /** what the file's name holds after the case (null: the name is gone) */
  fileAfter: ByteClasses | null;
  mutationChanges: ServeCaseRun['expectation'];
  mutationSteps: { what: string; at: number }[];
  /** the server's access-log line for the request: when it says it ended, when zcprobe saw it,
   * and how much of the body had left the server by then (from the capture) */
  doneSignal: {
    line: string;
    loggedAt: number | null;
    seenAt: number;
    bodyBytesSentByLog: number | null;
    bodyBytesSentByMutation: number | null;
    loggedBeforeLastByte: boolean | null;
  } | null;
  connection: ServeCaseRun['connection'];
  timings: {
    caseStartedAt: number;
    connectedAt: number;
    loggedAt: number | null;
    logSeenAt: number | null;
    mutatedAt: number | null;
    firstMutatedPacketAt: number | null;
    lastBodyPacketAt: number | null;
    clientFirstReadAt: number | null;
    clientDoneAt: number;
    caseEndedAt: number;
  };
  /** wall time of the case beyond the client's delay, ms (what the harness costs) */
  harnessMs: number;
  /** the generated config the server ran with */
  config: string;
  link?: LinkReport;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Epoch ms of the first transmission of stream byte `offset`, or null. */
const firstAt = (obs: WireObservation, offset: number): number | null => {
  const us = offset >= 0 ? obs.stream.firstTsUsAt(offset) : undefined;
  return us === undefined ? null : us / 1000;
};

/** Body bytes whose first transmission left by `at` (epoch ms): first transmissions go out in
 * stream order, so a binary search over offsets finds the boundary. */
function bodySentBy(obs: WireObservation, header: number, size: number, at: number): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const t = firstAt(obs, header + mid);
    if (t !== null && t <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function bodyWire(w: WireReport, header: number, body: Uint8Array, mutatedBody: Uint8Array, obs: WireObservation): BodyWireReport {
  const size = body.length;
  const bytes = obs.stream.bytes.subarray(Math.min(header, obs.stream.length), Math.min(obs.stream.length, header + size));
  const m = compareStreams(body, bytes, mutatedBody);
  const shift = (o: number) => o - header;
  return {
    ...w,
    ...m,
    bytes: Math.max(0, w.bytes - header),
    lengthDelta: Math.max(0, w.bytes - header) - size,
    gaps: w.gaps.map((g) => ({ ...g, start: shift(g.start), end: shift(g.end) })),
    conflicts: w.conflicts.map((c) => ({ ...c, seqStart: shift(c.seqStart), seqEnd: shift(c.seqEnd), ...(c.firstDifferenceAt !== undefined ? { firstDifferenceAt: shift(c.firstDifferenceAt) } : {}) })),
    classes: classifyBytes(body, bytes, mutatedBody),
    headerBytes: header,
  };
}

/** The whole-response streams the verdict compares: I and M share the header the client read. */
export function responseStreams(run: ServeCaseRun): { head: HttpHead; header: number; intended: Uint8Array; mutated: Uint8Array } {
  const { body, mutatedBody, received } = run.streams;
  const head = parseHead(received);
  const header = head.headerBytes ?? 0;
  const h = received.subarray(0, header);
  return { head, header, intended: concat(h, body), mutated: concat(h, mutatedBody) };
}

export function toServeCaseReport(o: ServeObserved): ServeCaseReport {
  const { run, wire: obs, arrived, link: linkFacts } = o;
  const e = run.experiment;
  const { body, mutatedBody, received } = run.streams;
  const { head, header: H, intended, mutated } = responseStreams(run);
  const pre = [...run.problems];
  const notes = [...run.server.notes];
  if (head.headerBytes === null) pre.push(`no complete HTTP response header arrived (${received.length} bytes)`);
  else {
    if (head.status !== 200) pre.push(`the server answered "${head.statusLine}", not 200`);
    if (head.contentLength !== e.size) pre.push(`Content-Length is ${head.contentLength ?? 'missing'}, the served file had ${e.size} bytes when the request arrived`);
  }
  const headerBytes = received.subarray(0, H);
  const view = { streams: { intended, mutated }, connection: run.connection, receiver: {} };
  const full = obs ? wireReport(view, obs) : undefined;
  if (full && obs && obs.stream.length >= H && Buffer.compare(obs.stream.bytes.subarray(0, H), Buffer.from(headerBytes)) !== 0)
    full.integrity.push('the response header on the wire differs from the one the client read');
  const link = linkFacts && linkReport(run.connection, intended, mutated, obs, arrived, linkFacts);
  if (full && link) full.integrity.push(...link.integrity);
  else if (link) pre.push(...link.integrity);
  const decided = decideVerdict(compareStreams(intended, received, mutated), full && { ...wireFacts(full), injected: link?.notes }, pre);
  const bodyReceived = received.subarray(H);
  const wire = full && obs ? bodyWire(full, H, body, mutatedBody, obs) : undefined;

  const lastBodyPacketAt = obs ? firstAt(obs, H + e.size - 1) : null;
  const loggedAt = run.logged?.entry?.loggedAt ?? null;
  let doneSignal: ServeCaseReport['doneSignal'] = null;
  if (run.logged) {
    const sentBy = (t: number | null) => (obs && t !== null && head.headerBytes !== null ? bodySentBy(obs, H, e.size, t) : null);
    const byLog = sentBy(loggedAt);
    // nginx's $msec has ms resolution (and a cached clock): allow 1 ms before calling it early.
    const early = loggedAt !== null && lastBodyPacketAt !== null ? lastBodyPacketAt > loggedAt + 1 : null;
    doneSignal = { line: run.logged.line, loggedAt, seenAt: run.logged.seenAt, bodyBytesSentByLog: byLog, bodyBytesSentByMutation: sentBy(run.mutation?.mutatedAt ?? null), loggedBeforeLastByte: early };
    if (early) notes.push(`${e.server} logged the response ${(lastBodyPacketAt! - loggedAt!).toFixed(1)} ms before its last body byte left${byLog !== null ? ` (${e.size - byLog} of ${e.size} body bytes not yet sent)` : ''}`);
  }
  const c = run.client;
  return {
    kind: 'serve',
    id: run.id,
    server: e.server,
    serverVersion: run.server.version,
    package: run.server.package,
    setting: run.server.setting,
    settings: run.server.settings,
    mutation: e.mutation,
    size: e.size,
    clientDelayMs: e.clientDelayMs,
    rcvbuf: e.rcvbuf ?? null,
    transport: e.transport,
    family: e.family,
    fs: e.fs,
    filesystem: run.filesystem,
    kernel: release(),
    verdict: decided.verdict,
    reasons: decided.reasons,
    notes,
    request: run.request,
    http: { statusLine: head.statusLine, status: head.status, headerBytes: head.headerBytes, contentLength: head.contentLength, bodyBytes: bodyReceived.length, contentLengthMatches: head.contentLength === bodyReceived.length },
    received: { bytes: bodyReceived.length, ...compareStreams(body, bodyReceived, mutatedBody), classes: classifyBytes(body, bodyReceived, mutatedBody) },
    wire: wire ?? { capture: 'off' },
    fileAfter: run.streams.fileAfter && classifyBytes(body, run.streams.fileAfter, mutatedBody),
    mutationChanges: run.expectation,
    mutationSteps: run.mutation?.steps ?? [],
    doneSignal,
    connection: run.connection,
    timings: {
      caseStartedAt: run.timings.caseStartedAt,
      connectedAt: c.connectedAt,
      loggedAt,
      logSeenAt: run.logged?.seenAt ?? null,
      mutatedAt: run.mutation?.mutatedAt ?? null,
      firstMutatedPacketAt: wire?.firstMutatedPacketAt ?? null,
      lastBodyPacketAt,
      clientFirstReadAt: c.firstReadAt,
      clientDoneAt: c.doneAt,
      caseEndedAt: run.timings.caseEndedAt,
    },
    harnessMs: Math.round(run.timings.caseEndedAt - run.timings.caseStartedAt - e.clientDelayMs),
    config: run.server.config,
    ...(link ? { link } : {}),
  };
}

/** One human line per case (`evidence`: where its bundle went, when it has one). */
export function formatServeLine(r: ServeCaseReport & { evidence?: { dir: string } }): string {
  const what = `${r.serverVersion} ${r.setting} ${r.mutation} ${r.size}B fs=${r.fs} delay=${r.clientDelayMs}ms ${r.transport}`;
  const describe = (name: string, m: Mismatch & { classes: ByteClasses }) =>
    !m.mismatchedBytes && !m.lengthDelta ? `${name}: identical` : `${name}: ${formatClasses(m.classes)}`;
  const parts = [describe('received', r.received), r.wire.capture === 'captured' ? describe('wire', r.wire) : 'wire: not captured'];
  const tail = [...r.reasons, ...r.notes.filter((n) => n.includes('before its last'))];
  const ev = r.evidence ? ` [evidence ${r.evidence.dir}]` : '';
  return `${what} → ${r.verdict} (${parts.join(', ')}; case ${r.harnessMs} ms beyond the delay)${tail.length ? ` — ${tail.join('; ')}` : ''}${ev}`;
}
