// A serve case as JSON (--json, case.json, the report): server, version, setting, mutation, verdict, byte classes
// of the body, the done signal on the timeline. I and M are the header the client read + the body as it was at
// the request / after the mutation; the header is checked apart (status, Content-Length, wire = client).
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
  return {
    headerBytes: end < 0 ? null : end + 4,
    statusLine,
    status: status ? Number(status[1]) : null,
    contentLength: cl ? Number(cl[1]) : null,
  };
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
  http: HttpHead & { bodyBytes: number; contentLengthMatches: boolean };
  /** the body the client read vs the body as it was when the request arrived */
  received: Mismatch & { bytes: number; classes: ByteClasses };
  wire: BodyWireReport | { capture: 'off' };
  /** what the file's name holds after the case (null: the name is gone) */
  fileAfter: ByteClasses | null;
  mutationChanges: ServeCaseRun['expectation'];
  mutationSteps: { what: string; at: number }[];
  /** the server's access-log line for the request: its own timestamp (nginx: ms, from a clock it
   * caches per event-loop turn, so it may be early), when zcprobe saw the line, and how much of the
   * body had left the server (first transmissions in the capture) by then and by the mutation */
  doneSignal: {
    line: string;
    loggedAt: number | null;
    seenAt: number;
    bodyBytesSentBySeen: number | null;
    bodyBytesSentByMutation: number | null;
    /** the line was in the log before the last body byte left: the server logs before it finishes */
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
  /** wall time of the case beyond the client's delay, ms: request to judged (and evidence written
   * when the case is not clean); a server start for the case is counted apart */
  harnessMs: number;
  /** ms the server took to start for this case (only the first case of a setting), else 0 */
  serverStartMs: number;
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

/** A body comparison as one of the whole response (the header bytes are equal by construction). */
function shifted(m: Mismatch, header: number): Mismatch {
  const at = (o: number | null) => (o === null ? null : o + header);
  return { ...m, firstOffset: at(m.firstOffset), lastOffset: at(m.lastOffset) };
}

/** The whole-response wire report `w`, told in body offsets; `m` is the body's comparison. */
function bodyWire(w: WireReport, header: number, size: number, m: Mismatch): BodyWireReport {
  const shift = (o: number) => o - header;
  return {
    ...w,
    ...m,
    bytes: Math.max(0, w.bytes - header),
    lengthDelta: Math.max(0, w.bytes - header) - size,
    gaps: w.gaps.map((g) => ({ ...g, start: shift(g.start), end: shift(g.end) })),
    conflicts: w.conflicts.map((c) => ({
      ...c, seqStart: shift(c.seqStart), seqEnd: shift(c.seqEnd),
      ...(c.firstDifferenceAt !== undefined ? { firstDifferenceAt: shift(c.firstDifferenceAt) } : {}),
      changed: {
        ...c.changed,
        firstOffset: c.changed.firstOffset === null ? null : shift(c.changed.firstOffset),
        lastOffset: c.changed.lastOffset === null ? null : shift(c.changed.lastOffset),
      },
    })),
    headerBytes: header,
  };
}

type ResponseStreams = { head: HttpHead; header: number; intended: Uint8Array; mutated: Uint8Array };
const built = new WeakMap<ServeCaseRun, ResponseStreams>();

/** The whole-response streams the verdict compares: I and M share the header the client read.
 * Built once per case (the report and the evidence both need them; 4 MiB copies are not free). */
export function responseStreams(run: ServeCaseRun): ResponseStreams {
  const known = built.get(run);
  if (known) return known;
  const { body, mutatedBody, received } = run.streams;
  const head = parseHead(received);
  const header = head.headerBytes ?? 0;
  const h = received.subarray(0, header);
  const s = { head, header, intended: concat(h, body), mutated: concat(h, mutatedBody) };
  built.set(run, s);
  return s;
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
    if (head.contentLength !== e.size)
      pre.push(`Content-Length is ${head.contentLength ?? 'missing'}, the served file had ${e.size} bytes when the request arrived`);
  }
  const headerBytes = received.subarray(0, H);
  const view = { streams: { intended, mutated }, connection: run.connection, receiver: {} };
  // Each body is compared and classified once (4 MiB cases): the whole-response figures are the
  // body's shifted by the header.
  const bodyReceived = received.subarray(H);
  const receivedBody = compareStreams(body, bodyReceived, mutatedBody);
  const wireBytes = obs?.stream.bytes.subarray(Math.min(H, obs.stream.length), Math.min(obs.stream.length, H + e.size));
  const wireBody = wireBytes && {
    mismatch: compareStreams(body, wireBytes, mutatedBody),
    classes: classifyBytes(body, wireBytes, mutatedBody),
  };
  const full = obs && wireBody ? wireReport(
    view,
    obs,
    0,
    { mismatch: shifted(wireBody.mismatch, H), classes: wireBody.classes },
  ) : undefined;
  if (full && obs && obs.stream.length >= H && Buffer.compare(obs.stream.bytes.subarray(0, H), Buffer.from(headerBytes)) !== 0)
    full.integrity.push('the response header on the wire differs from the one the client read');
  const link = linkFacts && linkReport(run.connection, intended, mutated, obs, arrived, linkFacts);
  if (full && link) full.integrity.push(...link.integrity);
  else if (link) pre.push(...link.integrity);
  const decided = decideVerdict(shifted(receivedBody, H), full && { ...wireFacts(full), injected: link?.notes }, pre);
  const wire = full && wireBody ? bodyWire(full, H, e.size, wireBody.mismatch) : undefined;

  const lastBodyPacketAt = obs ? firstAt(obs, H + e.size - 1) : null;
  const loggedAt = run.logged?.entry?.loggedAt ?? null;
  let doneSignal: ServeCaseReport['doneSignal'] = null;
  if (run.logged) {
    const sentBy = (t: number | null) => (obs && t !== null && head.headerBytes !== null ? bodySentBy(obs, H, e.size, t) : null);
    // Judged by when zcprobe saw the line (the server's own stamp may be coarse or cached): if the
    // last body byte left after that, the server certainly logged before it finished sending.
    const seenAt = run.logged.seenAt;
    const bySeen = sentBy(seenAt);
    const early = lastBodyPacketAt !== null ? lastBodyPacketAt > seenAt : null;
    doneSignal = {
      line: run.logged.line,
      loggedAt,
      seenAt,
      bodyBytesSentBySeen: bySeen,
      bodyBytesSentByMutation: sentBy(run.mutation?.mutatedAt ?? null),
      loggedBeforeLastByte: early,
    };
    const unsent = bySeen !== null ? ` (${e.size - bySeen} of ${e.size} body bytes not yet sent)` : '';
    const ms = (lastBodyPacketAt! - seenAt).toFixed(1);
    if (early) notes.push(`${e.server}'s log line was there ${ms} ms before its last body byte left${unsent}: it logs before it finishes`);
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
    http: {
      statusLine: head.statusLine, status: head.status, headerBytes: head.headerBytes, contentLength: head.contentLength,
      bodyBytes: bodyReceived.length, contentLengthMatches: head.contentLength === bodyReceived.length,
    },
    received: { bytes: bodyReceived.length, ...receivedBody, classes: classifyBytes(body, bodyReceived, mutatedBody) },
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
    // the case proper; the suite adds judging and evidence (it finishes timing there)
    harnessMs: Math.round(run.timings.caseEndedAt - run.timings.caseStartedAt - e.clientDelayMs),
    serverStartMs: o.serverStartMs ?? 0,
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
  const tail = [...r.reasons, ...r.notes.filter((n) => n.includes('logs before it finishes'))];
  const ev = r.evidence ? ` [evidence ${r.evidence.dir}]` : '';
  const start = r.serverStartMs ? `, server start ${r.serverStartMs} ms` : '';
  const why = tail.length ? ` — ${tail.join('; ')}` : '';
  return `${what} → ${r.verdict} (${parts.join(', ')}; case ${r.harnessMs} ms beyond the delay${start})${why}${ev}`;
}
