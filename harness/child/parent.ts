// Parent side of a JSON-lines helper process (receiver, mutator): spawns the TypeScript child
// under tsx (optionally inside a network namespace), routes its reply lines to waiters, turns a
// {type: 'fatal'} line or the child's exit into rejections, and never leaves the child behind
// (cleanup registry; close() = end stdin, then SIGKILL after a bound).
import { spawn, type ChildProcess } from 'node:child_process';
import { registerCleanup } from '../cleanup.ts';

type Line = { type: string; message?: string };
type Waiter<T> = { match: (m: T) => boolean; resolve: (m: T) => void; reject: (e: Error) => void };

export class JsonLineChild<Out extends Line> {
  private waiters: Waiter<Out>[] = [];
  private exited: Error | null = null;
  private stderr = '';
  private readonly unregister: () => void;
  private readonly child: ChildProcess;

  /** `script`: absolute path of a .ts file that calls serveJsonLines. */
  constructor(
    readonly name: string,
    script: string,
    args: string[] = [],
    opts: { netns?: string } = {},
  ) {
    const nodeArgs = [...process.execArgv.filter((a) => a.startsWith('--import')), script, ...args];
    if (!nodeArgs.some((a) => a.includes('tsx'))) nodeArgs.unshift('--import=tsx');
    const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
    this.child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.unregister = registerCleanup(`${name} ${this.child.pid}`, () => this.kill());
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) this.dispatch(JSON.parse(line) as Out);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => void (this.stderr = (this.stderr + d).slice(-4000)));
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`${name} exited (code ${code}, signal ${signal})${this.stderr ? ': ' + this.stderr.trim() : ''}`);
      for (const w of this.waiters.splice(0)) w.reject(this.exited);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private dispatch(m: Out): void {
    if (m.type === 'fatal') {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.name}: ${m.message}`));
      return;
    }
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
  }

  /** The next line matching `match`; rejects after `timeoutMs` (none: unbounded — the caller's
   * protocol must bound it) or when the child dies. */
  next(match: (m: Out) => boolean, timeoutMs?: number, what = 'a reply'): Promise<Out> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiters = this.waiters.filter((w) => w !== waiter);
              reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
            }, timeoutMs);
      const waiter: Waiter<Out> = {
        match,
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.waiters.push(waiter);
    });
  }

  send(msg: unknown): void {
    this.child.stdin!.write(JSON.stringify(msg) + '\n');
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
