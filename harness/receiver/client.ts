// Parent side of the receiver: spawns the receiver process once (before any experiment buffer
// exists, so no fork can make those pages copy-on-write), then drives one connection per case.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from '../cleanup.ts';
import type { FromReceiver, ReceiverCase, ReceiverResult } from './protocol.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export interface ReceiverOptions {
  /** address the receiver listens on: 127.0.0.1, ::1, or an address inside a namespace */
  host: string;
  /** run the receiver inside this network namespace (`ip netns exec`) */
  netns?: string;
  startTimeoutMs?: number;
}

export interface ReceivedCase extends ReceiverResult {
  data: Buffer;
}

export class ReceiverProcess {
  private waiters: { match: (m: FromReceiver) => boolean; resolve: (m: FromReceiver) => void; reject: (e: Error) => void }[] = [];
  private exited: Error | null = null;
  private stderr = '';
  private unregister: () => void;

  private constructor(
    private readonly child: ChildProcess,
    readonly host: string,
    public port = 0,
  ) {
    this.unregister = registerCleanup(`receiver ${child.pid}`, () => this.kill());
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) this.dispatch(JSON.parse(line) as FromReceiver);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`receiver exited (code ${code}, signal ${signal})${this.stderr ? ': ' + this.stderr.trim() : ''}`);
      for (const w of this.waiters.splice(0)) w.reject(this.exited);
    });
  }

  static async spawn(opts: ReceiverOptions): Promise<ReceiverProcess> {
    const nodeArgs = [...process.execArgv.filter((a) => a.startsWith('--import')), CHILD, opts.host];
    if (!nodeArgs.some((a) => a.includes('tsx'))) nodeArgs.unshift('--import=tsx');
    const [cmd, args] = opts.netns
      ? ['ip', ['netns', 'exec', opts.netns, process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const r = new ReceiverProcess(child, opts.host);
    const m = await r.next((msg) => msg.type === 'listening', opts.startTimeoutMs ?? 15000, 'the receiver to listen');
    if (m.type === 'listening') r.port = m.port;
    return r;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private dispatch(m: FromReceiver): void {
    if (m.type === 'fatal') {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`receiver: ${m.message}`));
      return;
    }
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
  }

  private next(match: (m: FromReceiver) => boolean, timeoutMs: number, what: string): Promise<FromReceiver> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (m: FromReceiver) => (clearTimeout(timer), resolve(m)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      };
      this.waiters.push(waiter);
    });
  }

  /** Announces a case; resolves when the receiver's listener for it is up, with the promise of
   * the case's result (wrapped: an async function would flatten a bare promise). */
  async prepare(c: ReceiverCase): Promise<{ result: Promise<ReceivedCase> }> {
    const ready = this.next((m) => m.type === 'ready' && m.id === c.id, 10000, `receiver ready for ${c.id}`);
    const result = this.next((m) => m.type === 'result' && m.id === c.id, c.timeoutMs + 10000, `receiver result for ${c.id}`);
    result.catch(() => undefined); // observed by the caller; avoid an unhandled rejection meanwhile
    this.child.stdin!.write(JSON.stringify({ type: 'case', ...c }) + '\n');
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
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.unregister();
    if (this.exited) return;
    const done = new Promise<void>((res) => this.child.once('exit', () => res()));
    this.child.stdin!.end();
    const t = setTimeout(() => this.kill(), 3000);
    await done;
    clearTimeout(t);
  }
}
