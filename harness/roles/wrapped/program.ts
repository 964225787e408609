// The user's program under the preload shim (zcprobe wrap): started in its own process group on the
// sender side (inside the sender's namespace when the transport has one), dying with zcprobe
// (PR_SET_PDEATHSIG via setpriv) and recorded in the run ledger so scripts/cleanup.sh finds it after a
// SIGKILL. Its listening socket is found in /proc (no probe connection: the program would serve it).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerCleanup } from '../../host/exit-hooks.ts';
import { claim } from '../../host/ledger.ts';
import { processGroupMembers, startTicksOf } from '../../host/owner.ts';

export interface WrappedOptions {
  /** the command and its arguments */
  command: string[];
  /** run inside this network namespace (by name) */
  netns?: string;
  /** the shim library and where it writes its logs */
  shim: string;
  logDir: string;
  /** snapshot bytes per process (ZCSHIM_CAP) */
  snapshotCap: number;
  /** write-protect in-flight pages (off: findings from calls only, no write attribution) */
  protect: boolean;
}

export interface ProgramExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** zcprobe stopped it (SIGTERM, or SIGKILL after the grace period); false: it ended by itself */
  stoppedByUs: boolean;
  killed: boolean;
}

/** A usage-level failure of the command itself (missing, static, exits early, never listens): exit 1. */
export class ProgramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgramError';
  }
}

const TAIL = 4000;

/** The file `cmd` runs (PATH lookup as execvp does), or null. */
export function resolveCommand(cmd: string): string | null {
  const path = (process.env.PATH ?? '').split(delimiter).filter(isAbsolute);
  const candidates = cmd.includes('/') ? [resolve(cmd)] : path.map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}

export class WrappedProgram {
  private out = '';
  private err = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private stopping = false;
  private killedHard = false;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly release: () => void;
  private readonly unregister: () => void;
  readonly startedAt = Date.now();

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((res) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        res(this.exitInfo);
      });
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => void (this.out = (this.out + d).slice(-TAIL)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => void (this.err = (this.err + d).slice(-TAIL)));
    const pid = child.pid!;
    this.release = claim({ kind: 'process-group', pgid: pid, startTicks: startTicksOf(pid) ?? 0, what: 'wrapped program' });
    this.unregister = registerCleanup(`wrapped program ${pid}`, () => this.killGroup('SIGKILL'));
  }

  static start(opts: WrappedOptions): WrappedProgram {
    // setpriv: the program dies with us; env: only the program (not setpriv, not ip) loads the shim.
    const preload = [opts.shim, process.env.LD_PRELOAD].filter(Boolean).join(':');
    const env = [`LD_PRELOAD=${preload}`, `ZCSHIM_LOG=${opts.logDir}`, `ZCSHIM_CAP=${opts.snapshotCap}`,
      `ZCSHIM_PROTECT=${opts.protect ? 1 : 0}`];
    const inner = [...(opts.netns ? ['ip', 'netns', 'exec', opts.netns] : []), 'env', ...env, ...opts.command];
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...inner], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new ProgramError(`could not start ${opts.command[0]}: setpriv did not run`);
    return new WrappedProgram(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stdoutTail(): string {
    return this.out;
  }

  get stderrTail(): string {
    return this.err;
  }

  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo;
  }

  /** The program's process and every process it started (its group), for /proc lookups. */
  private members(): number[] {
    return processGroupMembers(this.pid).map((m) => m.pid);
  }

  /** TCP ports the program's processes listen on (from their namespace's /proc/PID/net/tcp*). */
  listeningPorts(): number[] {
    const pids = this.members();
    const inodes = new Set<string>();
    for (const pid of pids) {
      try {
        for (const fd of readdirSync(`/proc/${pid}/fd`)) {
          const m = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`));
          if (m) inodes.add(m[1]!);
        }
      } catch {
        /* gone */
      }
    }
    const ports = new Set<number>();
    for (const pid of pids.slice(0, 1)) {
      for (const table of ['tcp', 'tcp6']) {
        let text = '';
        try {
          text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
        } catch {
          continue;
        }
        for (const line of text.split('\n').slice(1)) {
          const f = line.trim().split(/\s+/);
          // local_address is ADDR:PORT in hex, st 0A = LISTEN, field 9 the inode
          if (f[3] === '0A' && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
        }
      }
    }
    return [...ports];
  }

  /** Waits until the program listens (on `port`, or on any port), at most `timeoutMs`. */
  async waitListening(port: number | undefined, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitInfo) throw new ProgramError(`the program exited before it listened (${describeExit(this.exitInfo)})${this.tails()}`);
      const ports = this.listeningPorts();
      const hit = port === undefined ? ports.sort((a, b) => a - b)[0] : ports.includes(port) ? port : undefined;
      if (hit !== undefined) return hit;
      if (Date.now() >= deadline) {
        const others = ports.length ? ` (it listens on ${ports.join(', ')})` : '';
        const what = port === undefined ? 'on any TCP port' : `on port ${port}${others}`;
        throw new ProgramError(`the program did not listen ${what} within ${timeoutMs} ms${this.tails()}`);
      }
      await sleep(20);
    }
  }

  tails(): string {
    const last = (s: string) => s.trim().split('\n').slice(-15).join('\n');
    const t = (label: string, s: string) => (s.trim() ? `\n--- ${label} (last lines) ---\n${last(s)}` : '');
    return t('stderr', this.err) + t('stdout', this.out);
  }

  private killGroup(sig: NodeJS.Signals): void {
    if (this.exitInfo && this.members().length === 0) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** SIGTERM to the program's group, SIGKILL after `graceMs`; bounded. */
  async stop(graceMs: number): Promise<ProgramExit> {
    const byItself = this.exitInfo !== null;
    this.stopping = true;
    if (!byItself) {
      this.killGroup('SIGTERM');
      const t = setTimeout(() => {
        this.killedHard = true;
        this.killGroup('SIGKILL');
      }, graceMs);
      await this.exited;
      clearTimeout(t);
    }
    // what it forked goes too
    this.killGroup('SIGKILL');
    for (let i = 0; i < 100 && this.members().length; i++) await sleep(10);
    this.unregister();
    this.release();
    const e = this.exitInfo!;
    return { code: e.code, signal: e.signal, stoppedByUs: !byItself && this.stopping, killed: this.killedHard };
  }
}

function safeReadlink(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}

export function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}
