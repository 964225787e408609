// The control channel between `zcprobe run --remote` and `zcprobe agent` over TLS-PSK (psk.ts): every size bounded before
// buffering, every client message checked field by field (no paths, no commands).
//   frame := u32 jsonLength | u32 binaryLength | JSON (UTF-8) | binary      (big-endian)
import type { ClockSample } from '../../model/clock.ts';
import type { HostFacts } from '../../host/host-facts.ts';
import type { ReceiverResult } from '../receiver/protocol.ts';
import type { ReceivedSummary } from './received-summary.ts';

export const PROTOCOL_VERSION = 1;
const HEADER = 8;

export interface FrameLimits {
  json: number;
  binary: number;
}

/** What the agent accepts from a client: small requests, never an attachment. */
export const CLIENT_FRAME_LIMITS: FrameLimits = { json: 16 * 1024, binary: 0 };
/** What the client accepts from the agent: a result carries a case's pcap and received bytes. */
export const AGENT_FRAME_LIMITS: FrameLimits = { json: 1 << 20, binary: 320 << 20 };

/** The agent serves cases up to this size (the pcap and the bytes come back in one frame). */
export const MAX_CASE_BYTES = 64 << 20;
export const MAX_DELAY_MS = 60_000;
export const MAX_CASE_TIMEOUT_MS = 600_000;

/** fatal: the stream cannot be resynchronised (a bad header); otherwise one frame was bad. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

export interface Frame {
  msg: unknown;
  binary: Buffer;
}

export function encodeFrame(msg: unknown, binary: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(msg), 'utf8');
  const header = Buffer.alloc(HEADER);
  header.writeUInt32BE(json.length, 0);
  header.writeUInt32BE(binary.length, 4);
  return Buffer.concat([header, json, binary]);
}

/** Reassembles frames from stream chunks. A header announcing more than the limits throws a
 * (fatal) FrameError before any of the body is kept; JSON that does not parse comes out as a
 * non-fatal FrameError in the frame's place (the framing is intact: the caller may go on). */
export class FrameReader {
  private head = Buffer.alloc(0);
  private body: Buffer | null = null;
  private filled = 0;
  private jsonLength = 0;

  constructor(private readonly limits: FrameLimits) {}

  /** Frames completed by `chunk`, in order; a frame whose JSON did not parse is a non-fatal
   * FrameError in its place. */
  push(chunk: Buffer): (Frame | FrameError)[] {
    const out: (Frame | FrameError)[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (!this.body) {
        const take = Math.min(HEADER - this.head.length, chunk.length - at);
        this.head = Buffer.concat([this.head, chunk.subarray(at, at + take)]);
        at += take;
        if (this.head.length < HEADER) break;
        this.jsonLength = this.head.readUInt32BE(0);
        const binaryLength = this.head.readUInt32BE(4);
        this.head = Buffer.alloc(0);
        if (this.jsonLength > this.limits.json) throw new FrameError(`message of ${this.jsonLength} bytes exceeds the limit of ${this.limits.json}`, true);
        if (binaryLength > this.limits.binary) throw new FrameError(`attachment of ${binaryLength} bytes exceeds the limit of ${this.limits.binary}`, true);
        this.body = Buffer.allocUnsafe(this.jsonLength + binaryLength);
        this.filled = 0;
      }
      const take = Math.min(this.body.length - this.filled, chunk.length - at);
      chunk.copy(this.body, this.filled, at, at + take);
      this.filled += take;
      at += take;
      if (this.filled === this.body.length) {
        const body = this.body;
        this.body = null;
        try {
          out.push({ msg: JSON.parse(body.toString('utf8', 0, this.jsonLength)), binary: body.subarray(this.jsonLength) });
        } catch (e) {
          out.push(new FrameError(`message is not JSON: ${(e as Error).message}`, false));
        }
      }
    }
    return out;
  }
}

// ---- messages --------------------------------------------------------------------------------

/** What the client asks of the agent for one case (the receiver role's ReceiverCase without the
 * local file: the agent names its own files). */
export interface CaseRequest {
  type: 'case';
  id: string;
  size: number;
  delayMs: number;
  rcvbuf?: number;
  ack: boolean;
  timeoutMs: number;
}

export type ClientMessage =
  | { type: 'open'; version: number; capture: boolean }
  | { type: 'time'; t1: number }
  | CaseRequest
  | { type: 'bye' };

export interface Welcome {
  type: 'welcome';
  version: number;
  /** the data listener (the control address, the port its receiver picked) */
  dataHost: string;
  dataPort: number;
  /** the interface the agent captures on (the one its route to the client leaves by), or null */
  captureIface: string | null;
  /** this end's host facts for that interface */
  host: HostFacts;
  maxCaseBytes: number;
}

/** The agent's view of a case: the receiver's record (agent clock), the 4-tuple it accepted, the
 * received bytes summarised against the patterns, and its capture's counters. The attachment
 * holds `pcapLength` bytes of pcap, then the summary's raw bytes. */
export interface CaseResult {
  type: 'result';
  id: string;
  /** the receiver process's record of the case (harness/roles/receiver/protocol.ts), agent clock */
  receiver: Omit<ReceiverResult, 'id'>;
  local: { address: string; port: number };
  received: ReceivedSummary;
  capture:
    | {
      iface: string;
      pcapLength: number;
      droppedByKernel: number;
      undecoded: { headerTruncated: number; fragments: number };
      finished: { ok: boolean; reason: string; waitedMs: number };
    }
    | { error: string }
    | null;
}

export type AgentMessage =
  | { type: 'busy'; message: string }
  | Welcome
  | ({ type: 'time' } & ClockSample)
  | { type: 'ready'; id: string }
  | CaseResult
  | { type: 'error'; message: string; fatal: boolean };

// ---- validation of what a client sends -------------------------------------------------------

export class MessageError extends Error {
  override readonly name = 'MessageError';
}

type Obj = Record<string, unknown>;

function fields(m: Obj, allowed: string[]): void {
  const extra = Object.keys(m).filter((k) => !allowed.includes(k));
  if (extra.length) throw new MessageError(`${String(m.type)}: unknown field(s) ${extra.join(', ')}`);
}

function int(m: Obj, k: string, min: number, max: number): number {
  const v = m[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new MessageError(`${String(m.type)}.${k} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function num(m: Obj, k: string, min: number, max: number): number {
  const v = m[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new MessageError(`${String(m.type)}.${k} must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function bool(m: Obj, k: string): boolean {
  if (typeof m[k] !== 'boolean') throw new MessageError(`${String(m.type)}.${k} must be true or false`);
  return m[k];
}

/** Checks a client's message; throws MessageError naming the first bad field. */
export function parseClientMessage(raw: unknown): ClientMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new MessageError('a message must be a JSON object');
  const m = raw as Obj;
  switch (m.type) {
    case 'open':
      fields(m, ['type', 'version', 'capture']);
      return { type: 'open', version: int(m, 'version', 1, 1000), capture: bool(m, 'capture') };
    case 'time':
      fields(m, ['type', 't1']);
      if (typeof m.t1 !== 'number' || !Number.isFinite(m.t1)) throw new MessageError('time.t1 must be a number');
      return { type: 'time', t1: m.t1 };
    case 'case': {
      fields(m, ['type', 'id', 'size', 'delayMs', 'rcvbuf', 'ack', 'timeoutMs']);
      if (typeof m.id !== 'string' || !/^[\w.-]{1,80}$/.test(m.id)) throw new MessageError('case.id must be 1-80 characters of [A-Za-z0-9_.-]');
      const c: CaseRequest = {
        type: 'case',
        id: m.id,
        size: int(m, 'size', 1, MAX_CASE_BYTES),
        delayMs: num(m, 'delayMs', 0, MAX_DELAY_MS),
        ack: bool(m, 'ack'),
        timeoutMs: num(m, 'timeoutMs', 1, MAX_CASE_TIMEOUT_MS),
      };
      if (m.rcvbuf !== undefined) c.rcvbuf = int(m, 'rcvbuf', 1024, 1 << 30);
      return c;
    }
    case 'bye':
      fields(m, ['type']);
      return { type: 'bye' };
    default:
      throw new MessageError(`unknown message type ${JSON.stringify(m.type)} (expected open, time, case or bye)`);
  }
}
