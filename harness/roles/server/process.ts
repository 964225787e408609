// A real server as a process group (setsid): master and workers are stopped together, killed on Ctrl-C,
// and found by the sweep after a crash (the run ledger records the group at spawn). Waits until the server
// accepts; one that exits first fails with the tail of its logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerCleanup } from '../../host/exit-hooks.ts';
import { claim } from '../../host/ledger.ts';
import { groupOf, startTicksOf } from '../../host/owner.ts';
import { native } from '../../native.ts';

export interface ServerLaunch {
  /** for messages: "nginx" */
  name: string;
  /** [binary, ...args] */
  argv: string[];
  /** run inside this network namespace (a path, /run/netns/NAME); unset: ours */
  netnsPath?: string;
  /** the server's stdout and stderr go here */
  outputFile: string;
  /** where it listens: the readiness check connects here (from the server's namespace) */
  host: string;
  port: number;
  family: 4 | 6;
  /** logs whose last lines explain a failure */
  logs: string[];
  startTimeoutMs?: number;
}

/** The server did not come up: the message holds the last lines of its logs. */
export class ServerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerStartError';
  }
}

/** The last `lines` lines of each existing, non-empty file, each under its name. */
export function logTail(files: readonly string[], lines = 12): string {
  const parts: string[] = [];
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8').trimEnd();
    if (text) parts.push(`--- ${f} (last ${lines} lines)\n${text.split('\n').slice(-lines).join('\n')}`);
  }
  return parts.length ? parts.join('\n') : '(its logs are empty)';
}

const STOP_GRACE_MS = 3000;
const GONE_WAIT_MS = 2000;

export class ServerProcess {
  private exit: { code: number | null; signal: string | null } | null = null;
  private readonly exited: Promise<void>;
  private stopped = false;

  private constructor(
    readonly launch: ServerLaunch,
    private readonly child: ChildProcess,
    readonly pgid: number,
    private readonly leaderTicks: number,
    private readonly release: () => void,
    private readonly unregister: () => void,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  static async start(l: ServerLaunch): Promise<ServerProcess> {
    const out = openSync(l.outputFile, 'a');
    // nsenter (no mount namespace of its own, unlike `ip netns exec`) execs the server in place:
    // the pid we get is the server's, and setsid (detached) makes it the group leader.
    const [cmd, ...args] = l.netnsPath ? ['nsenter', `--net=${l.netnsPath}`, '--', ...l.argv] : l.argv;
    let child: ChildProcess;
    try {
      child = spawn(cmd!, args, { detached: true, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const pid = child.pid;
    if (pid === undefined) throw new ServerStartError(`${l.name}: could not start ${cmd}: ${(await spawnError).message}`);
    const leaderTicks = startTicksOf(pid) ?? 0;
    // Recorded synchronously after spawn: no await lies between, so no crash can fall in between.
    const what = `${l.name} ${l.argv.join(' ')}`.slice(0, 300);
    const release = claim({ kind: 'process-group', pgid: pid, startTicks: leaderTicks, what });
    // Ctrl-C: SIGKILL to the group at once (also the only part that runs at exit), then its ledger
    // entry goes once no member is left.
    const unregister = registerCleanup(`${l.name} (process group ${pid})`, async () => {
      killGroup(pid, leaderTicks);
      const until = performance.now() + GONE_WAIT_MS;
      while (groupOf(pid, leaderTicks).length && performance.now() < until) await sleep(10);
      if (!groupOf(pid, leaderTicks).length) release();
    });
    const server = new ServerProcess(l, child, pid, leaderTicks, release, unregister);
    try {
      await server.waitAccepting(l.startTimeoutMs ?? 10000);
      return server;
    } catch (e) {
      await server.stop();
      throw e;
    }
  }

  get pid(): number {
    return this.pgid;
  }

  /** null while running; otherwise how the server's main process ended */
  get exitStatus(): string | null {
    return this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : null;
  }

  /** Resolves when the server's main process ends. */
  whenExited(): Promise<string> {
    return this.exited.then(() => this.exitStatus!);
  }

  private async waitAccepting(timeoutMs: number): Promise<void> {
    const l = this.launch;
    const deadline = performance.now() + timeoutMs;
    let last = '';
    while (performance.now() < deadline) {
      const tail = () => logTail([l.outputFile, ...l.logs]);
      if (this.exit) throw new ServerStartError(`${l.name} ${this.exitStatus} before it accepted connections on port ${l.port}\n${tail()}`);
      const fd = native.socket(l.family, l.netnsPath ? { netns: l.netnsPath } : undefined);
      try {
        // Local in the server's namespace: refused or accepted at once, never a SYN timeout.
        native.connect(fd, l.host, l.port);
        return;
      } catch (e) {
        last = (e as Error).message;
      } finally {
        native.close(fd);
      }
      await Promise.race([sleep(20), this.exited]);
    }
    const tail = logTail([l.outputFile, ...l.logs]);
    throw new ServerStartError(`${l.name} did not accept connections on port ${l.port} within ${timeoutMs} ms (last: ${last})\n${tail}`);
  }

  /** SIGTERM to the group, SIGKILL after a grace period, then waits until no member is left
   * (its port is free again). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      signalGroup(this.pgid, this.leaderTicks, 'SIGTERM');
      await Promise.race([this.exited, sleep(STOP_GRACE_MS)]);
      killGroup(this.pgid, this.leaderTicks);
      const until = performance.now() + GONE_WAIT_MS;
      while (groupOf(this.pgid, this.leaderTicks).length && performance.now() < until) {
        killGroup(this.pgid, this.leaderTicks);
        await sleep(10);
      }
      const left = groupOf(this.pgid, this.leaderTicks);
      if (left.length)
        throw new Error(`${this.launch.name}: process group ${this.pgid} still has ${left.map((m) => m.pid).join(', ')} after SIGKILL`);
    } finally {
      this.unregister();
      this.release();
    }
  }
}

function signalGroup(pgid: number, leaderTicks: number, sig: NodeJS.Signals): void {
  for (const m of groupOf(pgid, leaderTicks)) {
    try {
      process.kill(m.pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
}

/** SIGKILL to every member of the server's group (synchronous: also usable at exit). */
function killGroup(pgid: number, leaderTicks: number): void {
  signalGroup(pgid, leaderTicks, 'SIGKILL');
}
