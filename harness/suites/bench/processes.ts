// The bench's other processes, all native/bench/zcbench (built by `npm ci` as a second gyp
// target): the receiver (one per run, so no run inherits another's socket state or CPU count)
// and the C reference sender.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from '../../host/exit-hooks.ts';
import type { BenchMethod, BenchTarget } from './config.ts';

export const ZCBENCH = fileURLToPath(new URL('../../../build/Release/zcbench', import.meta.url));

/** The receiver's own account of a run: bytes read and its CPU from accept() to EOF. */
export interface ReceiverReport {
  bytes: number;
  reads: number;
  elapsedNs: number;
  userUs: number;
  sysUs: number;
}

/** The C sender's account: the clock runs from its first send to the receiver's 'D'. */
export interface CSenderReport {
  method: BenchMethod;
  bytes: number;
  messages: number;
  calls: number;
  shortCounts: number;
  elapsedNs: number;
  userUs: number;
  sysUs: number;
  zcExpected: number;
  zcReceived: number;
  zcCopied: number;
}

export function zcbenchPath(): string {
  if (!existsSync(ZCBENCH)) throw new Error(`${ZCBENCH} is not built: run \`npm ci\` (or \`npm rebuild\`)`);
  return ZCBENCH;
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns zcbench; `firstLine` resolves with its first stdout line, `done` when it exits. */
function start(argv: string[], prefix: string[] = []): { child: ChildProcess; firstLine: Promise<string>; done: Promise<Finished> } {
  const [cmd, ...args] = [...prefix, zcbenchPath(), ...argv];
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const unregister = registerCleanup(`zcbench ${child.pid}`, () => void child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  let gotLine: (line: string) => void = () => undefined;
  let noLine: (e: Error) => void = () => undefined;
  const firstLine = new Promise<string>((resolve, reject) => {
    gotLine = resolve;
    noLine = reject;
  });
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    const nl = stdout.indexOf('\n');
    if (nl >= 0) gotLine(stdout.slice(0, nl));
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr = (stderr + d).slice(-4000)));
  const done = new Promise<Finished>((resolve, reject) => {
    child.on('error', (e) => {
      unregister();
      noLine(e);
      reject(e);
    });
    child.on('close', (code, signal) => {
      unregister();
      noLine(new Error(`zcbench ${argv[0]} exited (code ${code}, signal ${signal}) before writing a line: ${stderr.trim()}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  // Whoever awaits only one of the two must not leave the other as an unhandled rejection.
  firstLine.catch(() => undefined);
  done.catch(() => undefined);
  return { child, firstLine, done };
}

function lastJson<T>(what: string, f: Finished): T {
  if (f.code !== 0) throw new Error(`${what} failed (code ${f.code}, signal ${f.signal}): ${f.stderr.trim()}`);
  const line = f.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what} printed no report: ${JSON.stringify(f.stdout.slice(-200))}`);
  }
}

export interface ReceiverHandle {
  port: number;
  /** resolves once the receiver saw EOF, said 'D' and exited */
  report: Promise<ReceiverReport>;
  /** kills it if it is still running (after a failed run) */
  kill(): void;
}

/** Starts a receiver for one run; ackEvery > 0 makes it ack every that many bytes (app-ack). */
export async function startReceiver(target: BenchTarget, ackEvery: number, startTimeoutMs = 5000): Promise<ReceiverHandle> {
  const argv = ['recv', '--host', target.host, ...(ackEvery > 0 ? ['--ack', String(ackEvery)] : [])];
  const p = start(argv, target.receiverPrefix);
  let timer: NodeJS.Timeout | undefined;
  try {
    const line = await Promise.race([
      p.firstLine,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`receiver did not listen within ${startTimeoutMs} ms`)), startTimeoutMs);
      }),
    ]);
    const m = /^port (\d+)$/.exec(line);
    if (!m) throw new Error(`receiver said ${JSON.stringify(line)}, expected "port N"`);
    const report = p.done.then((f) => lastJson<ReceiverReport>('receiver', f));
    // A failed run never awaits the report; its rejection must not end the process.
    report.catch(() => undefined);
    return {
      port: Number(m[1]),
      report,
      kill: () => void (p.child.exitCode === null && p.child.signalCode === null && p.child.kill('SIGKILL')),
    };
  } catch (e) {
    p.child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

export interface CSenderArgs {
  method: BenchMethod;
  size: number;
  messages: number;
  host: string;
  port: number;
  pipeSize: number;
  workDir: string;
  /** prepended to the command line (e.g. ip netns exec <sender namespace>) */
  prefix?: string[];
}

export async function runCSender(a: CSenderArgs): Promise<CSenderReport> {
  const argv = ['send', '--method', a.method, '--size', String(a.size), '--total', String(a.size * a.messages)];
  argv.push('--host', a.host, '--port', String(a.port), '--pipe-size', String(a.pipeSize), '--dir', a.workDir);
  return lastJson<CSenderReport>(`zcbench send --method ${a.method}`, await start(argv, a.prefix).done);
}

/** Whether zcbench was built with liburing and the kernel has SEND_ZC: null, or why not. */
export async function cUringUnavailable(): Promise<string | null> {
  const caps = lastJson<{ iouringCompiled: boolean; iouringSendZc: boolean }>('zcbench caps', await start(['caps']).done);
  if (!caps.iouringCompiled) return 'zcbench built without liburing (no /usr/include/liburing.h at build time)';
  return caps.iouringSendZc ? null : 'kernel lacks IORING_OP_SEND_ZC';
}
