// Parent side of the mutator: spawned once per session next to the receiver (before any
// experiment buffer exists), then asked to change a case's file. mutate() resolves when the other
// process has opened and changed the file, which under a lease is only after the release.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from '../cleanup.ts';
import type { FromMutator, MutateRequest, WriterRecord } from './protocol.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

type Waiter = { id: string | null; resolve: (m: FromMutator) => void; reject: (e: Error) => void };

export class MutatorProcess {
  private waiters: Waiter[] = [];
  private exited: Error | null = null;
  private stderr = '';
  private readonly unregister: () => void;

  private constructor(private readonly child: ChildProcess) {
    this.unregister = registerCleanup(`mutator ${child.pid}`, () => this.kill());
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) this.dispatch(JSON.parse(line) as FromMutator);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => void (this.stderr = (this.stderr + d).slice(-4000)));
    child.on('exit', (code, signal) => {
      this.exited = new Error(`mutator exited (code ${code}, signal ${signal})${this.stderr ? ': ' + this.stderr.trim() : ''}`);
      for (const w of this.waiters.splice(0)) w.reject(this.exited);
    });
  }

  static async spawn(startTimeoutMs = 15000): Promise<MutatorProcess> {
    const args = [...process.execArgv.filter((a) => a.startsWith('--import')), CHILD];
    if (!args.some((a) => a.includes('tsx'))) args.unshift('--import=tsx');
    const m = new MutatorProcess(spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    const timer = setTimeout(() => m.kill(), startTimeoutMs);
    try {
      await m.next(null);
    } catch (e) {
      m.unregister();
      throw new Error(`the mutator did not start: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    return m;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private dispatch(m: FromMutator): void {
    if (m.type === 'fatal') {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`mutator: ${m.message}`));
      return;
    }
    const id = m.type === 'mutated' ? m.id : null;
    const i = this.waiters.findIndex((w) => w.id === id);
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
  }

  /** id null: the 'ready' line. No timeout here: a held lease bounds the wait by itself
   * (fs.lease-break-time), and close() kills a mutator that is still blocked. */
  private next(id: string | null): Promise<FromMutator> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => this.waiters.push({ id, resolve, reject }));
  }

  /** Asks the other process to open the file for writing and change it. The request is on the
   * pipe when this returns (a pipe write with an empty queue is done synchronously), so the
   * caller may block right after and the other process still tries at once. */
  mutate(req: MutateRequest): Promise<WriterRecord> {
    const done = this.next(req.id).then((m) => m as WriterRecord & { type: 'mutated'; id: string });
    done.catch(() => undefined); // observed by the caller; avoid an unhandled rejection meanwhile
    this.child.stdin!.write(JSON.stringify({ type: 'mutate', ...req }) + '\n');
    return done.then(({ type: _t, id: _i, ...w }) => w);
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
