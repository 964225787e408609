// Parent side of the connecting client: spawned once (before any buffer of a case exists, inside
// the transport's receiver namespace when there is one), then asked to fetch one response per case.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JsonLineChild } from '../child/parent.ts';
import type { ClientCase, ClientResult, FromClient } from './protocol.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export interface ClientOptions {
  /** run the client inside this network namespace (`ip netns exec`) */
  netns?: string;
  startTimeoutMs?: number;
}

export interface FetchedCase extends ClientResult {
  /** every byte the client read, in order */
  data: Buffer;
}

export interface ClientStarted {
  /** resolves when the client's connect returned (its 4-tuple), rejects if it never does */
  connected: Promise<{ connectedAt: number; local: { address: string; port: number } }>;
  /** what the client read, once it saw EOF or gave up (then `error` says why) */
  result: Promise<FetchedCase>;
}

export class ClientProcess {
  private constructor(private readonly child: JsonLineChild<FromClient>) {}

  static async spawn(opts: ClientOptions = {}): Promise<ClientProcess> {
    const child = new JsonLineChild<FromClient>('client', CHILD, [], { netns: opts.netns });
    try {
      await child.next((m) => m.type === 'started', opts.startTimeoutMs ?? 15000, 'the client to start');
      return new ClientProcess(child);
    } catch (e) {
      await child.close();
      throw e;
    }
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Sends the case; the client connects at once. Both promises are bounded by the case's
   * timeout (plus 10 s for a client that hangs) and reject when the client process dies. */
  start(c: ClientCase): ClientStarted {
    const bound = c.timeoutMs + 10000;
    // Both waiters before the request: the two lines may arrive in one read, and a line nobody waits
    // for yet is dropped. The child sends 'connected' (with an error when the connect failed) and
    // then 'result', once each per case.
    const isConnected = (m: FromClient) => m.type === 'connected' && m.id === c.id;
    const isResult = (m: FromClient) => m.type === 'result' && m.id === c.id;
    const connected = this.child.next(isConnected, bound, `client connect ${c.id}`).then((m) => {
      const msg = m as Extract<FromClient, { type: 'connected' }>;
      if (msg.error !== undefined) throw new Error(`client for ${c.id}: ${msg.error}`);
      return { connectedAt: msg.connectedAt, local: msg.local };
    });
    const result = this.child.next(isResult, bound, `client result for ${c.id}`).then((m) => {
      const { type: _t, ...r } = m as { type: 'result' } & ClientResult;
      try {
        // A client that failed before it opened the file read nothing (its error says why).
        return { ...r, data: existsSync(c.outFile) || !r.error ? readFileSync(c.outFile) : Buffer.alloc(0) };
      } finally {
        rmSync(c.outFile, { force: true });
      }
    });
    // Observed by the caller; avoid unhandled rejections meanwhile.
    connected.catch(() => undefined);
    result.catch(() => undefined);
    this.child.send({ type: 'case', ...c });
    return { connected, result };
  }

  kill(): void {
    this.child.kill();
  }

  close(): Promise<void> {
    return this.child.close();
  }
}
