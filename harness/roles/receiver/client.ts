// Parent side of the receiver: spawns the receiver process once (before any experiment buffer
// exists, so no fork can make those pages copy-on-write), then drives one connection per case.
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RemoteArrival } from '../agent/arrival.ts';
import { JsonLineChild } from '../child/parent.ts';
import type { FromReceiver, ReceiverCase, ReceiverResult } from './protocol.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export interface ReceiverOptions {
  /** address the receiver listens on: 127.0.0.1, ::1, or an address inside a namespace */
  host: string;
  /** run the receiver inside this network namespace (`ip netns exec`) */
  netns?: string;
  /** a fixed port for the data listener (default: one the kernel picks) */
  port?: number;
  startTimeoutMs?: number;
}

export interface ReceivedCase extends ReceiverResult {
  data: Buffer;
  /** a remote receiver's capture of what arrived and its clock (absent for a local receiver) */
  remote?: RemoteArrival;
}

export class ReceiverProcess {
  private constructor(
    private readonly child: JsonLineChild<FromReceiver>,
    readonly host: string,
    readonly port: number,
  ) {}

  static async spawn(opts: ReceiverOptions): Promise<ReceiverProcess> {
    const child = new JsonLineChild<FromReceiver>('receiver', CHILD, [opts.host, String(opts.port ?? 0)], { netns: opts.netns });
    try {
      const m = await child.next((msg) => msg.type === 'listening', opts.startTimeoutMs ?? 15000, 'the receiver to listen');
      return new ReceiverProcess(child, opts.host, m.type === 'listening' ? m.port : 0);
    } catch (e) {
      await child.close();
      throw e;
    }
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Announces a case; resolves when the receiver's listener for it is up, with the promise of
   * the case's result (wrapped: an async function would flatten a bare promise). */
  async prepare(c: ReceiverCase): Promise<{ result: Promise<ReceivedCase> }> {
    const ready = this.child.next((m) => m.type === 'ready' && m.id === c.id, 10000, `receiver ready for ${c.id}`);
    const result = this.child.next((m) => m.type === 'result' && m.id === c.id, c.timeoutMs + 10000, `receiver result for ${c.id}`);
    result.catch(() => undefined); // observed by the caller; avoid an unhandled rejection meanwhile
    this.child.send({ type: 'case', ...c });
    await ready;
    const received = result.then((m) => {
      const r = m as ReceiverResult;
      let data: Buffer;
      try {
        data = readFileSync(c.outFile);
      } finally {
        rmSync(c.outFile, { force: true });
      }
      return { ...r, data };
    });
    return { result: received };
  }

  kill(): void {
    this.child.kill();
  }

  close(): Promise<void> {
    return this.child.close();
  }
}
