// The sender's end of the control channel: TLS-PSK connect, then requests answered by frames
// the caller waits for (every wait bounded). The agent closing, an error frame or a framing error
// rejects every waiter with the reason, so a lost agent never leaves the sender hanging.
import { connect } from 'node:tls';
import { Channel, nowMs } from './channel.ts';
import { estimateOffset, type ClockEstimate, type ClockSample } from '../../model/clock.ts';
import { AGENT_FRAME_LIMITS, FrameError, PROTOCOL_VERSION, type AgentMessage, type ClientMessage, type Welcome } from './protocol.ts';
import { clientTlsOptions } from './psk.ts';
import { formatHostPort } from './address.ts';

export interface AgentTarget {
  host: string;
  port: number;
}

export interface Reply {
  msg: AgentMessage;
  binary: Buffer;
}

type Waiter = { match: (m: AgentMessage) => boolean; resolve: (r: Reply) => void; reject: (e: Error) => void };

/** The agent answered "busy", refused or failed: nothing ran. */
export class AgentRefusedError extends Error {
  override readonly name = 'AgentRefusedError';
  get busy(): boolean {
    return / is busy: /.test(this.message);
  }
}

export class AgentConnection {
  private waiters: Waiter[] = [];
  private lost: Error | null = null;
  private channel!: Channel;

  private constructor(readonly target: AgentTarget) {}

  get address(): string {
    return formatHostPort(this.target.host, this.target.port);
  }

  /** Connects, authenticates (TLS handshake with the PSK) and opens a session. */
  static async open(
    target: AgentTarget, psk: Buffer, opts: { capture: boolean; timeoutMs?: number },
  ): Promise<{ conn: AgentConnection; welcome: Welcome }> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const conn = new AgentConnection(target);
    const socket = connect({ host: target.host, port: target.port, ...clientTlsOptions(psk) });
    conn.channel = new Channel(socket, AGENT_FRAME_LIMITS, {
      frame: (f) => conn.dispatch(f),
      end: (why) => conn.fail(new Error(`agent ${conn.address}: ${why}`)),
    });
    const handshake = new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed during the TLS handshake')));
      setTimeout(() => reject(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs).unref();
    });
    try {
      await handshake.catch((e: Error) => {
        throw new AgentRefusedError(`agent ${conn.address}: ${e.message} (wrong token, or not a zcprobe agent?)`);
      });
      const welcome = conn.next((m) => m.type === 'welcome', timeoutMs, 'the agent to open the session');
      conn.send({ type: 'open', version: PROTOCOL_VERSION, capture: opts.capture });
      const { msg } = await welcome;
      return { conn, welcome: msg as Welcome };
    } catch (e) {
      conn.close();
      if (e instanceof AgentRefusedError) throw e;
      throw new AgentRefusedError((e as Error).message);
    }
  }

  private dispatch(f: { msg: unknown; binary: Buffer } | FrameError): void {
    if (f instanceof FrameError) return this.fail(new Error(`agent ${this.address} sent a bad frame: ${f.message}`));
    const msg = f.msg as AgentMessage;
    if (msg.type === 'error' || msg.type === 'busy') {
      const e = new Error(`agent ${this.address}${msg.type === 'busy' ? ' is busy' : ''}: ${msg.message}`);
      for (const w of this.waiters.splice(0)) w.reject(e);
      return;
    }
    const i = this.waiters.findIndex((w) => w.match(msg));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve({ msg, binary: f.binary });
  }

  private fail(e: Error): void {
    this.lost ??= e;
    for (const w of this.waiters.splice(0)) w.reject(this.lost);
  }

  /** Why the connection is gone, or null. */
  get lostReason(): string | null {
    return this.lost?.message ?? null;
  }

  send(msg: ClientMessage): void {
    if (this.lost) throw this.lost;
    this.channel.send(msg);
  }

  /** The next frame matching `match`, bounded by `timeoutMs`. */
  next(match: (m: AgentMessage) => boolean, timeoutMs: number, what: string): Promise<Reply> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`agent ${this.address}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.waiters.push(waiter);
    });
  }

  /** `n` four-timestamp exchanges; the estimate from the one with the smallest round trip. */
  async measureClock(n: number): Promise<ClockEstimate> {
    const samples: { sample: ClockSample; t4: number }[] = [];
    for (let i = 0; i < n; i++) {
      const t1 = nowMs();
      const reply = this.next((m) => m.type === 'time' && m.t1 === t1, 5000, 'a clock sample');
      this.send({ type: 'time', t1 });
      const { msg } = await reply;
      const t4 = nowMs();
      if (msg.type === 'time') samples.push({ sample: { t1: msg.t1, t2: msg.t2, t3: msg.t3 }, t4 });
    }
    return estimateOffset(samples);
  }

  close(): void {
    if (!this.lost) this.channel.send({ type: 'bye' });
    this.fail(new Error(`agent ${this.address}: connection closed by the sender`));
    this.channel.end('closed by the sender');
  }
}
