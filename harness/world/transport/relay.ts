// The parent side of native/relay/zcrelay (built by binding.gyp next to the addon): starts it,
// waits for its devices, sends it each case's faults, and collects the events it reports. Every
// wait is bounded; the relay dies with us (it sets PR_SET_PDEATHSIG itself) and at close.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from '../../host/exit-hooks.ts';
import type { LinkEvent } from './types.ts';

export const ZCRELAY = fileURLToPath(new URL('../../../build/Release/zcrelay', import.meta.url));
const REPLY_TIMEOUT_MS = 5000;
/** Events kept between two collections (a bound, not an expected size: one is per injected fault). */
const MAX_EVENTS = 100000;

export interface RelayDirStats {
  packets: number; bytes: number; dropped: number; reordered: number; overflow: number; errors: number; queued: number;
}
export interface DeviceDrops { rxDropped: number; txDropped: number }
/** Cumulative since the relay started; deviceA/deviceB: the TUN devices' own drop counters. */
export interface RelayStats {
  s2r: RelayDirStats; r2s: RelayDirStats; deviceA: DeviceDrops; deviceB: DeviceDrops;
  maxQueue: number; cpuUserUs: number; cpuSysUs: number;
}

type Reply = { type: 'ready' | 'mark' | 'config' | 'stats' | 'error'; n?: number; ok?: boolean; message?: string } & Partial<RelayStats>;

export function relayUnavailableReason(): string | undefined {
  return existsSync(ZCRELAY) ? undefined : `${ZCRELAY} is not built: run \`npm ci\` (or \`npm rebuild\`)`;
}

export class Relay {
  private buf = '';
  private stderr = '';
  private events: LinkEvent[] = [];
  private lostEvents = 0;
  private waiters: { match: (r: Reply) => boolean; resolve: (r: Reply) => void }[] = [];
  private exited: string | null = null;
  private readonly exitP: Promise<void>;
  private readonly unregister: () => void;
  private marks = 0;

  private constructor(private readonly child: ChildProcess) {
    this.unregister = registerCleanup(`zcrelay ${child.pid}`, () => this.kill());
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => void (this.stderr = (this.stderr + d).slice(-4000)));
    this.exitP = new Promise<void>((resolve) => {
      child.once('error', (e) => { this.exited = `zcrelay could not start: ${e.message}`; resolve(); });
      child.once('exit', (code, sig) => { this.exited = `zcrelay exited (code ${code}, signal ${sig})${this.stderr ? `: ${this.stderr.trim()}` : ''}`; resolve(); });
    }).then(() => {
      this.unregister();
      for (const w of this.waiters.splice(0)) w.resolve({ type: 'error', message: this.exited! });
    });
  }

  /** Creates `a` (sender side) and `b` (receiver side): "NETNS_PATH:IFNAME" each. */
  static async start(a: string, b: string): Promise<Relay> {
    const why = relayUnavailableReason();
    if (why) throw new Error(why);
    const relay = new Relay(spawn(ZCRELAY, ['--a', a, '--b', b], { stdio: ['pipe', 'pipe', 'pipe'] }));
    const r = await relay.reply((m) => m.type === 'ready', 'ready');
    if (r.type !== 'ready') {
      await relay.close();
      throw new Error(`zcrelay --a ${a} --b ${b}: ${r.message}`);
    }
    return relay;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private onData(d: string): void {
    this.buf += d;
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as Reply | (LinkEvent & { type: 'event' });
      if (msg.type === 'event') {
        const { type: _t, ...e } = msg;
        if (this.events.length < MAX_EVENTS) this.events.push(e);
        else this.lostEvents++;
        continue;
      }
      const i = this.waiters.findIndex((w) => w.match(msg));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg);
    }
  }

  private reply(match: (r: Reply) => boolean, what: string): Promise<Reply> {
    if (this.exited) return Promise.resolve({ type: 'error', message: this.exited });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve({ type: 'error', message: `zcrelay did not answer "${what}" within ${REPLY_TIMEOUT_MS} ms` });
      }, REPLY_TIMEOUT_MS);
      const waiter = { match, resolve: (r: Reply) => { clearTimeout(timer); resolve(r); } };
      this.waiters.push(waiter);
    });
  }

  private command(line: string, match: (r: Reply) => boolean): Promise<Reply> {
    const p = this.reply((r) => r.type === 'error' || match(r), line);
    if (!this.exited) this.child.stdin!.write(line + '\n');
    return p;
  }

  /** Applies a `config ...` line (link-spec.ts makes it) to the packets that follow. */
  async configure(line: string): Promise<void> {
    const r = await this.command(line, (m) => m.type === 'config');
    if (r.type !== 'config' || !r.ok) throw new Error(`zcrelay rejected "${line}": ${r.message ?? 'bad value'}`);
  }

  /** Every event the relay reported up to now (a mark round trip proves nothing is in flight),
   * removed from the buffer; `lost` counts events beyond the buffer's bound. */
  async takeEvents(): Promise<{ events: LinkEvent[]; lost: number; problem?: string }> {
    const n = ++this.marks;
    const r = await this.command(`mark ${n}`, (m) => m.type === 'mark' && m.n === n);
    const events = this.events.splice(0);
    const lost = this.lostEvents;
    this.lostEvents = 0;
    return r.type === 'mark' ? { events, lost } : { events, lost, problem: r.message ?? 'no mark' };
  }

  async stats(): Promise<RelayStats> {
    const r = await this.command('stats', (m) => m.type === 'stats');
    if (r.type !== 'stats') throw new Error(r.message ?? 'zcrelay: no stats');
    return r as unknown as RelayStats;
  }

  /** Why the relay is gone (then the link is gone too), or null while it runs. */
  get exitReason(): string | null {
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** EOF on its stdin ends it; SIGKILL after 2 s. */
  async close(): Promise<void> {
    if (!this.exited) {
      this.child.stdin!.end();
      const t = setTimeout(() => this.kill(), 2000);
      await this.exitP;
      clearTimeout(t);
    }
    this.unregister();
  }
}
