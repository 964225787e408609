// The receiver role played by a remote agent (roles/receiver/role.ts): what its application read, its pcap of what arrived and
// its timestamps on our clock. A lost agent, a timeout or a summary that does not check out is the case's receiver error, never a hang.
import { decodePcap, type TcpSegment } from '../../capture/pcap.ts';
import { reassemble } from '../../capture/reassembly.ts';
import type { WireObservation } from '../../capture/wire.ts';
import type { ReceivedCase } from '../receiver/client.ts';
import type { ReceiverCase } from '../receiver/protocol.ts';
import type { ReceiverRole } from '../receiver/role.ts';
import type { RemoteArrival } from './arrival.ts';
import { AgentConnection, AgentRefusedError, type AgentTarget } from './client.ts';
import { toLocalMs, type ClockEstimate } from '../../model/clock.ts';
import type { CaseResult, Welcome } from './protocol.ts';
import { rebuildReceived } from './received-summary.ts';

/** Clock samples per case (taken after the result, when nothing else runs). */
const CLOCK_SAMPLES = 5;
/** Beyond the case's own bound: the agent's flush, the transfer of its pcap. */
const RESULT_SLACK_MS = 30_000;
/** An agent stays busy while the previous sender's session stops its receiver and tcpdump
 * (under a second); a run started right after another waits this long before giving up. */
const BUSY_WAIT_MS = 10_000;

export class RemoteReceiver implements ReceiverRole {
  private constructor(
    private readonly conn: AgentConnection,
    readonly welcome: Welcome,
    /** the estimate at session start (the report's header shows it) */
    readonly initialClock: ClockEstimate,
  ) {}

  static async open(target: AgentTarget, psk: Buffer, opts: { capture: boolean; busyWaitMs?: number }): Promise<RemoteReceiver> {
    const { conn, welcome } = await openWhenFree(target, psk, opts.capture, opts.busyWaitMs ?? BUSY_WAIT_MS);
    try {
      return new RemoteReceiver(conn, welcome, await conn.measureClock(8));
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  get host(): string {
    return this.welcome.dataHost;
  }

  get port(): number {
    return this.welcome.dataPort;
  }

  get agent(): string {
    return this.conn.address;
  }

  async prepare(c: ReceiverCase): Promise<{ result: Promise<ReceivedCase> }> {
    if (c.size > this.welcome.maxCaseBytes) throw new Error(`the agent serves cases up to ${this.welcome.maxCaseBytes} bytes, this one has ${c.size}`);
    const ready = this.conn.next((m) => m.type === 'ready' && m.id === c.id, 10_000, `the agent to be ready for ${c.id}`);
    const result = this.conn.next((m) => m.type === 'result' && m.id === c.id, c.timeoutMs + RESULT_SLACK_MS, `the agent's result for ${c.id}`);
    result.catch(() => undefined); // observed below; avoid an unhandled rejection meanwhile
    this.conn.send({ type: 'case', id: c.id, size: c.size, delayMs: c.delayMs, ack: c.ack, timeoutMs: c.timeoutMs, ...(c.rcvbuf !== undefined ? { rcvbuf: c.rcvbuf } : {}) });
    await ready;
    const received = result.then(
      async ({ msg, binary }) => {
        try {
          return await this.toReceivedCase(msg as CaseResult, binary);
        } catch (e) {
          return failed(c, `the agent's result for ${c.id} is unusable: ${(e as Error).message}`);
        }
      },
      (e: Error) => failed(c, `agent lost before the case's result: ${e.message}`),
    );
    return { result: received };
  }

  private async toReceivedCase(r: CaseResult, binary: Buffer): Promise<ReceivedCase> {
    const pcapLength = r.capture && 'pcapLength' in r.capture ? r.capture.pcapLength : 0;
    if (pcapLength > binary.length) throw new Error(`${pcapLength} pcap bytes announced, ${binary.length} attached`);
    const data = rebuildReceived(r.received, binary.subarray(pcapLength));
    const clock = await this.conn.measureClock(CLOCK_SAMPLES);
    const local = (t: number) => toLocalMs(t, clock);
    const rec = r.receiver;
    const agentView = { src: rec.peer.address, srcPort: rec.peer.port, dst: r.local.address, dstPort: r.local.port };
    let observation: WireObservation | null = null;
    let captureError: string | null = null;
    if (r.capture && 'error' in r.capture) captureError = r.capture.error;
    else if (r.capture) ({ observation, captureError } = decodeArrival(binary.subarray(0, pcapLength), r.capture, agentView));
    const remote: RemoteArrival = { agent: this.agent, observation, captureError, agentView, clock };
    return {
      id: r.id,
      bytes: rec.bytes,
      acceptedAt: local(rec.acceptedAt),
      firstReadAt: rec.firstReadAt === null ? null : local(rec.firstReadAt),
      doneAt: local(rec.doneAt),
      rcvbufEffective: rec.rcvbufEffective,
      peer: rec.peer,
      ackSentAt: rec.ackSentAt === null ? null : local(rec.ackSentAt),
      ...(rec.error ? { error: rec.error } : {}),
      data,
      remote,
    };
  }

  async close(): Promise<void> {
    this.conn.close();
  }
}

async function openWhenFree(target: AgentTarget, psk: Buffer, capture: boolean, waitMs: number): ReturnType<typeof AgentConnection.open> {
  const end = Date.now() + waitMs;
  for (;;) {
    try {
      return await AgentConnection.open(target, psk, { capture });
    } catch (e) {
      if (!(e instanceof AgentRefusedError && e.busy) || Date.now() >= end) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A receiver record for a case whose result never came or does not check out. */
function failed(c: ReceiverCase, error: string): ReceivedCase {
  return { id: c.id, bytes: 0, acceptedAt: 0, firstReadAt: null, doneAt: 0, rcvbufEffective: 0, peer: { address: '', port: 0 }, ackSentAt: null, error, data: Buffer.alloc(0) };
}

function decodeArrival(
  pcap: Buffer,
  cap: Exclude<CaseResult['capture'], { error: string } | null>,
  conn: RemoteArrival['agentView'],
): { observation: WireObservation | null; captureError: string | null } {
  try {
    const decoded = decodePcap(pcap);
    if (decoded.truncatedTail) return { observation: null, captureError: "the agent's pcap ends inside a record" };
    const mine = (s: TcpSegment): boolean =>
      (s.src === conn.src && s.srcPort === conn.srcPort && s.dst === conn.dst && s.dstPort === conn.dstPort) ||
      (s.src === conn.dst && s.srcPort === conn.dstPort && s.dst === conn.src && s.dstPort === conn.srcPort);
    const segments = decoded.segments.filter(mine);
    const undecoded = {
      headerTruncated: cap.undecoded.headerTruncated + decoded.skipped.headerTruncated,
      fragments: cap.undecoded.fragments + decoded.skipped.fragments,
    };
    return {
      observation: {
        stream: reassemble(segments, conn), pcap, packets: segments.length,
        droppedByKernel: cap.droppedByKernel, iface: cap.iface, undecoded, finished: cap.finished,
      },
      captureError: null,
    };
  } catch (e) {
    return { observation: null, captureError: `the agent's pcap does not decode: ${(e as Error).message}` };
  }
}
