// One end of the control channel: frames in (bounded by the peer's limits), frames out. Used by
// the agent for each client and by the client for its agent. A fatal framing error or the peer
// closing ends the channel once, with one reason.
import type { TLSSocket } from 'node:tls';
import { encodeFrame, FrameError, FrameReader, type Frame, type FrameLimits } from './protocol.ts';

export interface ChannelEvents {
  /** a frame (or a non-fatal FrameError in its place); `at` is when its last chunk arrived */
  frame(f: Frame | FrameError, at: number): void;
  /** the channel ended; `why` says how (never called twice) */
  end(why: string): void;
  /** the frame to send before closing on a framing error (the agent tells the client why) */
  lastWords?(why: string): unknown;
}

export const nowMs = (): number => performance.timeOrigin + performance.now();

export class Channel {
  private readonly reader: FrameReader;
  private ended: string | null = null;

  constructor(
    readonly socket: TLSSocket,
    limits: FrameLimits,
    private readonly on: ChannelEvents,
  ) {
    this.reader = new FrameReader(limits);
    socket.on('data', (chunk: Buffer) => {
      const at = nowMs();
      let frames: (Frame | FrameError)[];
      try {
        frames = this.reader.push(chunk);
      } catch (e) {
        const why = e instanceof FrameError ? e.message : String(e);
        this.end(why, this.on.lastWords?.(why));
        return;
      }
      for (const f of frames) if (!this.ended) this.on.frame(f, at);
    });
    socket.on('error', (e: Error) => this.end(`connection error: ${e.message}`));
    socket.on('close', () => this.end('connection closed by the peer'));
  }

  get peer(): string {
    const a = this.socket.remoteAddress ?? '?';
    return `${a.includes(':') ? `[${a}]` : a}:${this.socket.remotePort ?? '?'}`;
  }

  get isEnded(): boolean {
    return this.ended !== null;
  }

  send(msg: unknown, binary?: Buffer): void {
    if (this.ended) return;
    this.socket.write(encodeFrame(msg, binary));
  }

  /** Sends `last` (if any), then closes; idempotent. */
  end(why: string, last?: unknown): void {
    if (this.ended) return;
    this.ended = why;
    if (last !== undefined) this.socket.end(encodeFrame(last));
    else this.socket.end();
    // A peer that never reads must not keep the socket open.
    setTimeout(() => this.socket.destroy(), 2000).unref();
    this.on.end(why);
  }
}
