// The agent's side of one authenticated sender: a receiver process and a tcpdump facing the sender, then cases one at a time
// (announce, accept, read, summarise, send back with the pcap records). Bad messages get an error; only framing errors end it.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WireCapture } from '../../capture/wire.ts';
import { ReceiverProcess } from '../receiver/client.ts';
import { Channel, nowMs } from './channel.ts';
import { hostFacts, ifaceToward } from '../../host/host-facts.ts';
import {
  CLIENT_FRAME_LIMITS,
  FrameError,
  MAX_CASE_BYTES,
  MessageError,
  parseClientMessage,
  PROTOCOL_VERSION,
  type AgentMessage,
  type CaseRequest,
  type CaseResult,
  type ClientMessage,
} from './protocol.ts';
import { summarizeReceived } from './received-summary.ts';

export interface AgentSessionOptions {
  /** the control address; the data listener binds it too */
  host: string;
  /** fixed data port (default: the kernel picks one per session) */
  dataPort?: number;
  /** capture interface (default: the one the route to the sender leaves by) */
  iface?: string;
  log(line: string): void;
}

/** A sender must say "open" this soon after its handshake; an idle session ends after IDLE_MS. */
const OPEN_TIMEOUT_MS = 10_000;
const IDLE_MS = 15 * 60_000;
const MAX_PCAP_BYTES = 240 << 20; // plus at most MAX_CASE_BYTES + 64 KiB of raw bytes: within AGENT_FRAME_LIMITS

type State = 'new' | 'opening' | 'idle' | 'case' | 'closed';

export class AgentSession {
  private state: State = 'new';
  private receiver: ReceiverProcess | null = null;
  private capture: WireCapture | null = null;
  private workDir: string | null = null;
  private cases = 0;
  private opening: Promise<void> = Promise.resolve();
  private readonly channel: Channel;
  private readonly openTimer: NodeJS.Timeout;
  /** resolves once everything the session started is stopped */
  readonly done: Promise<void>;
  private finish!: () => void;

  constructor(
    socket: TLSSocket,
    private readonly opts: AgentSessionOptions,
  ) {
    this.done = new Promise((r) => (this.finish = r));
    this.channel = new Channel(socket, CLIENT_FRAME_LIMITS, {
      frame: (f, at) => this.onFrame(f, at),
      end: (why) => void this.teardown(why),
      lastWords: (why) => this.error(why, true),
    });
    socket.setTimeout(IDLE_MS, () => this.channel.end(`idle for ${IDLE_MS / 60000} min`));
    this.openTimer = setTimeout(() => {
      if (this.state === 'new') this.channel.end(`no "open" within ${OPEN_TIMEOUT_MS} ms`, this.error('no "open" message in time', true));
    }, OPEN_TIMEOUT_MS);
    opts.log(`session ${this.channel.peer}: authenticated`);
  }

  private error(message: string, fatal = false): AgentMessage {
    return { type: 'error', message, fatal };
  }

  private reply(msg: AgentMessage, binary?: Buffer): void {
    this.channel.send(msg, binary);
  }

  private onFrame(f: { msg: unknown } | FrameError, at: number): void {
    if (f instanceof FrameError) {
      this.opts.log(`session ${this.channel.peer}: ${f.message}`);
      this.reply(this.error(f.message));
      return;
    }
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(f.msg);
    } catch (e) {
      if (!(e instanceof MessageError)) throw e;
      this.opts.log(`session ${this.channel.peer}: invalid message: ${e.message}`);
      this.reply(this.error(`invalid message: ${e.message}`));
      return;
    }
    const expected: Record<ClientMessage['type'], State[]> = { open: ['new'], time: ['idle'], case: ['idle'], bye: ['new', 'opening', 'idle', 'case'] };
    if (!expected[msg.type].includes(this.state)) {
      const why = this.state === 'case' ? 'a case is running' : this.state === 'new' ? 'the session is not open yet (send "open" first)' : `the session is ${this.state}`;
      this.opts.log(`session ${this.channel.peer}: "${msg.type}" out of order: ${why}`);
      this.reply(this.error(`"${msg.type}" out of order: ${why}`));
      return;
    }
    switch (msg.type) {
      case 'open':
        this.opening = this.open(msg.version, msg.capture);
        break;
      case 'time':
        this.reply({ type: 'time', t1: msg.t1, t2: at, t3: nowMs() });
        break;
      case 'case':
        void this.runCase(msg);
        break;
      case 'bye':
        this.channel.end('the sender said bye');
        break;
    }
  }

  private async open(version: number, capture: boolean): Promise<void> {
    clearTimeout(this.openTimer);
    if (version !== PROTOCOL_VERSION) {
      this.channel.end(`protocol version ${version}`, this.error(`this agent speaks protocol version ${PROTOCOL_VERSION}, the sender ${version}: use the same zcprobe on both machines`, true));
      return;
    }
    this.state = 'opening';
    const peer = this.channel.socket.remoteAddress ?? '';
    try {
      this.workDir = mkdtempSync(join(process.env.ZCPROBE_WORKDIR ?? '/dev/shm', 'zcprobe-agent-'));
      const iface = this.opts.iface ?? (await ifaceToward(peer));
      // The sender may leave during any await; teardown waits for this function, then stops
      // whatever it started.
      this.receiver = await ReceiverProcess.spawn({ host: this.opts.host, port: this.opts.dataPort });
      if (capture && this.state === 'opening')
        this.capture = await WireCapture.start({ iface, receiverPort: this.receiver.port, file: join(this.workDir, 'arrival.pcap'), sentinelHost: peer });
      const host = await hostFacts(iface);
      if (this.state !== 'opening') return;
      this.state = 'idle';
      this.reply({ type: 'welcome', version: PROTOCOL_VERSION, dataHost: this.opts.host, dataPort: this.receiver.port, captureIface: capture ? iface : null, host, maxCaseBytes: MAX_CASE_BYTES });
      this.opts.log(`session ${this.channel.peer}: open, data port ${this.receiver.port}, ${capture ? `capturing on ${iface}` : 'no capture'}`);
    } catch (e) {
      this.opts.log(`session ${this.channel.peer}: open failed: ${(e as Error).message}`);
      this.channel.end('open failed', this.error(`the agent could not open the session: ${(e as Error).message}`, true));
    }
  }

  private async runCase(c: CaseRequest): Promise<void> {
    this.state = 'case';
    const receiver = this.receiver!;
    const n = ++this.cases;
    try {
      // The agent names its own files: nothing from the network becomes a path.
      const { result } = await receiver.prepare({ id: c.id, size: c.size, delayMs: c.delayMs, rcvbuf: c.rcvbuf, ack: c.ack, timeoutMs: c.timeoutMs, outFile: join(this.workDir!, `case-${n}.received`) });
      this.reply({ type: 'ready', id: c.id });
      this.opts.log(`case ${c.id} from ${this.channel.peer}: started (${c.size} bytes, read ${c.delayMs} ms after accept)`);
      const got = await result;
      const local = { address: this.opts.host, port: receiver.port };
      let capture: CaseResult['capture'] = null;
      let pcap: Buffer = Buffer.alloc(0);
      if (this.capture) {
        try {
          const obs = await this.capture.collect({
            src: got.peer.address, srcPort: got.peer.port, dst: local.address, dstPort: local.port,
          });
          if (obs.pcap.length > MAX_PCAP_BYTES) capture = { error: `the case's pcap has ${obs.pcap.length} bytes, more than the ${MAX_PCAP_BYTES} the agent sends` };
          else {
            pcap = obs.pcap;
            capture = {
              iface: obs.iface, pcapLength: pcap.length, droppedByKernel: obs.droppedByKernel,
              undecoded: obs.undecoded, finished: obs.finished,
            };
          }
        } catch (e) {
          capture = { error: (e as Error).message };
        }
      }
      const { data, ...record } = got;
      const { summary, raw } = summarizeReceived(data);
      this.reply({ type: 'result', id: c.id, receiver: record, local, received: summary, capture }, Buffer.concat([pcap, raw]));
      this.opts.log(`case ${c.id} from ${this.channel.peer}: read ${got.bytes} of ${c.size} bytes${got.error ? ` (${got.error})` : ''}, ${pcap.length} pcap bytes`);
      if (this.state === 'case') this.state = 'idle';
    } catch (e) {
      // The receiver process failed (it runs every case): this session cannot go on.
      this.opts.log(`case ${c.id} from ${this.channel.peer}: ${(e as Error).message}`);
      this.channel.end('receiver failed', this.error(`case ${c.id}: ${(e as Error).message}`, true));
    }
  }

  private async teardown(why: string): Promise<void> {
    if (this.state === 'closed') return;
    const wasRunning = this.state === 'case';
    this.state = 'closed';
    clearTimeout(this.openTimer);
    try {
      // A case still reading would hold the session for its whole timeout: stop it now.
      if (wasRunning) this.receiver?.kill();
      await this.opening;
      await this.receiver?.close();
      await this.capture?.stop().catch(() => undefined);
    } finally {
      if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
      // Logged once everything is stopped: from here the agent takes the next sender.
      this.opts.log(`session ${this.channel.peer}: closed (${why})`);
      this.finish();
    }
  }

  /** Ends the session (agent shutting down). */
  close(): Promise<void> {
    this.channel.end('the agent is shutting down', this.error('the agent is shutting down', true));
    return this.done;
  }
}
