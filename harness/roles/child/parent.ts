// Parent side of a JSON-lines helper process (receiver, mutator): spawns it under tsx (optionally in a namespace), routes replies,
// turns fatal lines, exit and errors into rejections, never leaves it behind. Stray stdout lines go to onStray, not a crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { registerCleanup } from '../../host/exit-hooks.ts';

type Line = { type: string; message?: string };
type Waiter<T> = { match: (m: T) => boolean; resolve: (m: T) => void; reject: (e: Error) => void };

export interface JsonLineChildOptions {
  /** run the child inside this network namespace (`ip netns exec`) */
  netns?: string;
  /** called with every stdout line that is not a protocol message; default: one line on stderr */
  onStray?: (line: string) => void;
}

function isLine(v: unknown): v is Line {
  return typeof v === 'object' && v !== null && typeof (v as Line).type === 'string';
}

/** The parent's `--import` loaders, as `--import=X`: `--import X` is two argv entries, and
 * keeping only the first would make the loader's name the child's script. */
export function importFlags(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a.startsWith('--import=')) out.push(a);
    else if (a === '--import' && i + 1 < execArgv.length) out.push(`--import=${execArgv[++i]}`);
  }
  return out;
}

export class JsonLineChild<Out extends Line> {
  private waiters: Waiter<Out>[] = [];
  private exited: Error | null = null;
  private stderr = '';
  private readonly unregister: () => void;
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;

  /** `script`: absolute path of a .ts file that calls serveJsonLines. */
  constructor(
    readonly name: string,
    script: string,
    args: string[] = [],
    opts: JsonLineChildOptions = {},
  ) {
    const nodeArgs = [...importFlags(process.execArgv), script, ...args];
    if (!nodeArgs.some((a) => a.includes('tsx'))) nodeArgs.unshift('--import=tsx');
    const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
    const onStray = opts.onStray ?? ((line: string) => process.stderr.write(`${name}: ignored a stray stdout line: ${JSON.stringify(line.slice(0, 200))}\n`));
    this.child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.unregister = registerCleanup(`${name} ${this.child.pid ?? '(not started)'}`, () => this.kill());
    createInterface({ input: this.child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      if (!line.trim()) return;
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch {
        return onStray(line);
      }
      if (isLine(m)) this.dispatch(m as Out);
      else onStray(line);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => void (this.stderr = (this.stderr + d).slice(-4000)));
    // A child that died makes writes to its stdin fail (EPIPE) asynchronously; without a handler
    // that 'error' event would be thrown out of the event loop.
    this.child.stdin!.on('error', (e) => this.fail(new Error(`${name}: cannot write to its stdin (${e.message})${this.stderrTail()}`)));
    // Spawn failures (e.g. `ip` missing) come as 'error', possibly without 'exit' or 'close'.
    this.child.on('error', (e) => this.fail(new Error(`${name}: ${e.message}`)));
    // 'close' (not 'exit'): every line the child wrote before dying has been dispatched by then.
    this.closed = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.fail(new Error(`${name} exited (code ${code}, signal ${signal})${this.stderrTail()}`));
        resolve();
      });
      this.child.once('error', () => resolve());
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private stderrTail(): string {
    return this.stderr ? ': ' + this.stderr.trim() : '';
  }

  /** The first failure is kept: later calls of next()/send() reject with it. */
  private fail(e: Error): void {
    this.exited ??= e;
    for (const w of this.waiters.splice(0)) w.reject(this.exited);
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

  /** Writes one request line; throws when the child is known to be gone. */
  send(msg: unknown): void {
    if (this.exited) throw this.exited;
    this.child.stdin!.write(JSON.stringify(msg) + '\n');
  }

  kill(): void {
    if (this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.unregister();
    if (this.child.pid === undefined) return; // never started (spawn 'error')
    this.child.stdin!.end();
    const t = setTimeout(() => this.kill(), 3000);
    await this.closed;
    clearTimeout(t);
  }
}
