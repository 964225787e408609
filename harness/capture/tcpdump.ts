// A tcpdump capture session whose process can never outlive ours and whose
// file can be proven complete ("flushed") up to a point in time.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { accessSync, constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerCleanup } from '../host/exit-hooks.ts';

export interface CaptureOptions {
  iface: string;
  filter: string;
  file: string;
  /** Run inside `ip netns exec NS`. The sentinel must then be routable into that namespace. */
  netns?: string;
  startTimeoutMs?: number;
  /** kernel capture buffer (tcpdump -B), KiB: lo carries ~64 KiB GSO frames, and a small ring
   * drops them under an 8 MiB burst (seen: 88-231 drops per 8 MiB case with the 2 MiB default) */
  bufferKiB?: number;
  /** tcpdump -s (default 0: whole packets). On links that are not Ethernet (tun) libpcap sizes
   * its ring slots by the snaplen, so -s 0 leaves room for only ~256 packets in the default
   * buffer: give the device's MTU there (a longer packet shows as truncated, never silently). */
  snaplen?: number;
  /** Where flush() sends its UDP token; the filter must include `or (udp and dst port P)`.
   * `send` replaces this process's UDP socket (e.g. one in the sender's network namespace). */
  sentinel?: { host?: string; port: number; send?: (token: Buffer, host: string, port: number) => void };
}

export interface CaptureCounters { captured: number; receivedByFilter: number; droppedByKernel: number }
/** The capture cannot run on this machine at all (tests skip on this). */
export class CaptureUnavailableError extends Error {
  override readonly name = 'CaptureUnavailableError';
  constructor(readonly reason: string) { super(reason); }
}

const POLL_MS = 10;
const RESEND_MS = 250; // UDP may be dropped on real links; duplicates of the token are harmless
const READ_CHUNK = 1 << 20;
const MAX_STDERR = 64 * 1024;
// SIGUSR1 answer (tcpdump's info(0)): one line, "tcpdump: " prefix, comma-separated.
const LIVE_RE = /(\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel/;

// sbin directories are often missing from non-login PATHs (sudo, cron, CI).
function which(cmd: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.filter(Boolean).map((d) => join(d, cmd)).find((p) => {
    try { accessSync(p, fsConstants.X_OK); return true; } catch { return false; }
  });
}

let setprivPath: string | null | undefined;
// Probed by running it once: presence alone doesn't prove --pdeathsig support.
function pdeathsigWrapper(): string | null {
  if (setprivPath === undefined) {
    const p = which('setpriv');
    const ok = p !== undefined &&
      spawnSync(p, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 2000 }).status === 0;
    setprivPath = ok ? p : null;
  }
  return setprivPath;
}

/** Why a capture cannot run here, or undefined if it can. Cheap; for test registration. */
export function captureUnavailableReason(needNetns = false): string | undefined {
  if (!which('tcpdump')) return 'tcpdump not found: apt-get install tcpdump';
  // Live capture needs CAP_NET_RAW; we support the simple, testable case only.
  if (process.getuid?.() !== 0) return 'tcpdump capture needs root';
  if (needNetns && !which('ip')) return 'ip not found: apt-get install iproute2';
  return undefined;
}

// At exit tcpdump (info(1)) prints one counter per line, without the prefix.
function finalCounters(text: string): CaptureCounters | undefined {
  const last = (what: string): number | undefined => {
    const m = [...text.matchAll(new RegExp(`^(\\d+) packets? ${what}$`, 'gm'))].at(-1);
    return m ? Number(m[1]) : undefined;
  };
  const [captured, receivedByFilter, droppedByKernel] = [last('captured'), last('received by filter'), last('dropped by kernel')];
  if (captured === undefined || receivedByFilter === undefined || droppedByKernel === undefined) return undefined;
  return { captured, receivedByFilter, droppedByKernel };
}

function timer<T>(ms: number, value: T): { p: Promise<T>; cancel: () => void } {
  let t: NodeJS.Timeout | undefined;
  const p = new Promise<T>((resolve) => { t = setTimeout(() => resolve(value), ms); });
  return { p, cancel: () => clearTimeout(t) };
}

export class CaptureSession {
  readonly file: string;
  readonly pid: number;
  private readonly opts: CaptureOptions;
  private readonly child: ChildProcess;
  private readonly closedP: Promise<void>;
  private readonly unregister: () => void;
  private closed = false;
  private spawnError: Error | undefined;
  private stderrText = '';
  private lineBuf = '';
  private onListening: (() => void) | undefined;
  private statsWaiters: Array<(c: CaptureCounters) => void> = [];
  private statsChain: Promise<unknown> = Promise.resolve();
  private stopP: Promise<CaptureCounters> | undefined;
  private flushSeq = 0;

  static async start(opts: CaptureOptions): Promise<CaptureSession> {
    const reason = captureUnavailableReason(opts.netns !== undefined);
    if (reason) throw new CaptureUnavailableError(reason);
    const session = new CaptureSession(opts);
    await session.waitListening(opts.startTimeoutMs ?? 5000);
    return session;
  }

  private constructor(opts: CaptureOptions) {
    this.opts = opts;
    this.file = opts.file;
    // -Z root: Debian's tcpdump otherwise setuid()s to "tcpdump", which clears
    // the parent-death signal and can't write into root-owned directories.
    const tcpdump = [which('tcpdump')!, '-i', opts.iface, '--immediate-mode', '-U', '-s', String(opts.snaplen ?? 0), '-n',
      '-B', String(opts.bufferKiB ?? 65536),
      '-Z', 'root', '-w', opts.file, opts.filter];
    // `ip netns exec` and setpriv both exec in place, so pid is tcpdump's pid
    // and the pdeathsig set by setpriv (outermost) survives into tcpdump.
    const inNs = opts.netns !== undefined ? [which('ip')!, 'netns', 'exec', opts.netns, ...tcpdump] : tcpdump;
    const wrapper = pdeathsigWrapper();
    const argv = wrapper ? [wrapper, '--pdeathsig', 'KILL', '--', ...inNs] : inNs;
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.pid = this.child.pid ?? -1;
    this.unregister = registerCleanup(`tcpdump ${opts.file}`, () => this.stop().then(() => {}));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => this.onStderr(chunk));
    this.closedP = new Promise<void>((resolve) => {
      this.child.once('close', () => resolve());
      // 'error' also reports failed kill()s; only a failed spawn means "gone".
      this.child.on('error', (err) => { this.spawnError = err; if (this.child.pid === undefined) resolve(); });
    }).then(() => { this.closed = true; this.unregister(); });
  }

  private onStderr(chunk: string): void {
    this.stderrText = (this.stderrText + chunk).slice(-MAX_STDERR);
    this.lineBuf += chunk;
    for (let nl = this.lineBuf.indexOf('\n'); nl !== -1; nl = this.lineBuf.indexOf('\n')) {
      const line = this.lineBuf.slice(0, nl);
      this.lineBuf = this.lineBuf.slice(nl + 1);
      if (line.includes('listening on')) this.onListening?.();
      const m = LIVE_RE.exec(line);
      if (m) {
        const c = { captured: Number(m[1]), receivedByFilter: Number(m[2]), droppedByKernel: Number(m[3]) };
        for (const w of this.statsWaiters.splice(0)) w(c);
      }
    }
  }

  private describe(): string {
    const how = this.spawnError && this.pid === -1 ? `spawn failed: ${this.spawnError.message}`
      : this.child.signalCode ? `signal ${this.child.signalCode}` : `code ${this.child.exitCode}`;
    return `${how}; tcpdump stderr: ${this.stderrText.trim() || '(empty)'}`;
  }

  private async waitListening(ms: number): Promise<void> {
    const listening = new Promise<'ready'>((resolve) => { this.onListening = () => resolve('ready'); });
    const t = timer(ms, 'timeout' as const);
    const winner = await Promise.race([listening, this.closedP.then(() => 'exited' as const), t.p]);
    t.cancel();
    if (winner === 'ready') return;
    await this.kill(); // never leave a half-started tcpdump behind
    const why = winner === 'timeout' ? `did not print "listening on" within ${ms} ms` : 'exited before listening';
    throw new Error(`tcpdump -i ${this.opts.iface} -w ${this.file} ${why} (${this.describe()})`);
  }

  private async kill(): Promise<void> {
    if (!this.closed) this.child.kill('SIGKILL');
    if (!(await this.closedWithin(2000))) throw new Error(`tcpdump pid ${this.pid} still running 2 s after SIGKILL`);
  }

  private async closedWithin(ms: number): Promise<boolean> {
    const t = timer(ms, false);
    const ok = await Promise.race([this.closedP.then(() => true), t.p]);
    t.cancel();
    return ok;
  }

  private assertRunning(what: string): void {
    if (this.closed || this.stopP) throw new Error(`${what}: capture of ${this.file} already stopped (${this.describe()})`);
  }

  /** Resolves once every packet sent before this call (and matched by the filter) is in the file. */
  async flush(timeoutMs = 5000): Promise<void> {
    const s = this.opts.sentinel;
    if (!s) throw new Error('flush() needs opts.sentinel, and `or (udp and dst port P)` in the filter');
    this.assertRunning('flush()');
    const host = s.host ?? '127.0.0.1';
    const token = Buffer.from(`zcprobe-sentinel-${process.pid}-${++this.flushSeq}-${randomBytes(6).toString('hex')}`);
    const fh = await open(this.file, 'r');
    const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    sock.on('error', () => { /* send errors just mean we resend */ });
    try {
      // Only bytes appended after this point can hold the token: it isn't sent yet.
      let pos = (await fh.stat()).size;
      let carry = Buffer.alloc(0);
      const deadline = Date.now() + timeoutMs;
      // Short first polls: tcpdump -U usually writes the token within a millisecond or two.
      for (let nextSend = 0, pause = 1; ; await sleep(pause), pause = Math.min(POLL_MS, pause * 2)) {
        if (Date.now() >= nextSend) {
          if (s.send) {
            try { s.send(token, host, s.port); } catch { /* like a lost datagram: resent */ }
          } else sock.send(token, s.port, host);
          nextSend = Date.now() + RESEND_MS;
        }
        const size = (await fh.stat()).size;
        while (pos < size) {
          const buf = Buffer.allocUnsafe(Math.min(size - pos, READ_CHUNK));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          const hay = Buffer.concat([carry, buf.subarray(0, bytesRead)]);
          if (hay.includes(token)) return;
          // Keep a tail so a token split across two reads is still found.
          carry = Buffer.from(hay.subarray(Math.max(0, hay.length - token.length + 1)));
        }
        if (this.closed) throw new Error(`flush(): tcpdump exited while waiting for the sentinel (${this.describe()})`);
        if (Date.now() >= deadline) {
          throw new Error(`flush(): sentinel ${token.toString()} to ${host}:${s.port} not in ${this.file} after ${timeoutMs} ms` +
            ` (is "udp and dst port ${s.port}" in the filter and is ${host} reached via ${this.opts.iface}?)`);
        }
      }
    } finally {
      sock.close();
      await fh.close();
    }
  }

  /** Live counters via SIGUSR1. `captured` may lag `receivedByFilter` while packets sit in the ring. */
  stats(timeoutMs = 2000): Promise<CaptureCounters> {
    // Serialised so each request is answered by the line its own SIGUSR1 produced.
    const run = this.statsChain.then(() => this.statsOnce(timeoutMs));
    this.statsChain = run.catch(() => {});
    return run;
  }

  private async statsOnce(ms: number): Promise<CaptureCounters> {
    this.assertRunning('stats()');
    let waiter!: (c: CaptureCounters) => void;
    const got = new Promise<CaptureCounters>((resolve) => { waiter = resolve; this.statsWaiters.push(resolve); });
    this.child.kill('SIGUSR1');
    const t = timer(ms, undefined);
    const c = await Promise.race([got, t.p, this.closedP.then(() => undefined)]);
    t.cancel();
    if (c) return c;
    this.statsWaiters = this.statsWaiters.filter((w) => w !== waiter);
    throw new Error(`stats(): tcpdump did not answer SIGUSR1 within ${ms} ms (${this.describe()})`);
  }

  /** SIGINT, bounded wait, then SIGKILL. Idempotent: later calls get the same result. */
  stop(timeoutMs = 3000): Promise<CaptureCounters> {
    this.stopP ??= this.doStop(timeoutMs);
    return this.stopP;
  }

  private async doStop(ms: number): Promise<CaptureCounters> {
    // Synchronous on purpose: at process exit this signal is all that gets sent.
    if (!this.closed) this.child.kill('SIGINT');
    if (!(await this.closedWithin(ms))) await this.kill();
    const c = finalCounters(this.stderrText);
    if (!c) throw new Error(`tcpdump for ${this.file} ended without final counters (${this.describe()})`);
    return c;
  }
}
