// A session owns the long-lived parts of a run: the receiver process and the mutator process
// (the "other process" that changes files; both spawned first, before any experiment buffer
// exists), one tcpdump for all cases, a work directory for sources and received bytes, and the
// run directory where evidence of non-clean cases goes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { WireCapture } from './capture/wire.ts';
import { toCaseReport, type CaseReport } from './case-report.ts';
import { registerCleanup } from './cleanup.ts';
import { hexDiff, writeEvidence } from './evidence.ts';
import type { Experiment, Transport } from './experiment.ts';
import { MutatorProcess } from './mutator/client.ts';
import { ReceiverProcess } from './receiver/client.ts';
import { openTransport, type TransportEndpoint } from './transport/index.ts';
import { linkReport, type LinkReport } from './transport/link-facts.ts';
import { runCase } from './run-case.ts';

export interface SessionOptions {
  transport: Transport;
  family: 4 | 6;
  /** capture the wire with tcpdump (three-way verdicts); false: two-stream verdicts only */
  capture?: boolean;
  /** where evidence goes (default captures/<run-id>) */
  runDir?: string;
  /** keep the whole-session pcap after close (default: only per-case evidence is kept) */
  keepFullCapture?: boolean;
  /** veth only: tbf rate limit on the sender's side, e.g. "100mbit", so data waits in the qdisc */
  rate?: string;
  /** tun only: the link MTU (default 9000) */
  mtu?: number;
  /** nic only: "IF1,IF2", two ports cabled to each other */
  nicPair?: string;
}

/** One capture of the session: 'sender' is the wire (W), 'receiver' what reached the receiver. */
export interface SessionCapture {
  side: 'sender' | 'receiver';
  capture: WireCapture;
}

export function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '')}-${process.pid}`;
}

export const CAPTURES_DIR = resolve(import.meta.dirname, '..', 'captures');

export class Session {
  private constructor(
    readonly options: SessionOptions,
    readonly receiver: ReceiverProcess,
    readonly mutator: MutatorProcess,
    readonly workDir: string,
    readonly runDir: string,
    readonly captures: SessionCapture[],
    readonly transport: TransportEndpoint,
    private readonly unregister: () => void,
  ) {}

  static async open(options: SessionOptions): Promise<Session> {
    const runDir = options.runDir ?? join(CAPTURES_DIR, newRunId());
    mkdirSync(runDir, { recursive: true });
    // tmpfs when present: received bytes and sources never touch a disk.
    const workDir = mkdtempSync(join(process.env.ZCPROBE_WORKDIR ?? '/dev/shm', 'zcprobe-'));
    const unregister = registerCleanup(`workdir ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
    let receiver: ReceiverProcess | null = null;
    let mutator: MutatorProcess | null = null;
    let transport: TransportEndpoint | null = null;
    const captures: SessionCapture[] = [];
    try {
      transport = await openTransport(options.transport, { family: options.family, rate: options.rate, mtu: options.mtu, nicPair: options.nicPair });
      const host = transport.receiverHost;
      // Both at once (each is a node start-up); whichever started is closed if the other failed.
      const [r, m] = await Promise.allSettled([ReceiverProcess.spawn({ host, netns: transport.receiverNetns }), MutatorProcess.spawn()]);
      if (r.status === 'fulfilled') receiver = r.value;
      if (m.status === 'fulfilled') mutator = m.value;
      if (r.status === 'rejected') throw r.reason;
      if (m.status === 'rejected') throw m.reason;
      for (const spec of options.capture === false ? [] : transport.captures) {
        const capture = await WireCapture.start({
          iface: spec.iface,
          netns: spec.netns,
          snaplen: spec.snaplen,
          receiverPort: r.value.port,
          // tmpfs unless kept: a whole session's capture can be GBs, only evidence slices stay
          file: join(options.keepFullCapture ? runDir : workDir, spec.side === 'sender' ? 'capture.pcap' : 'capture-receiver.pcap'),
          sentinelHost: spec.sentinelHost,
          sendSentinel: spec.sendSentinel,
        });
        captures.push({ side: spec.side, capture });
      }
      return new Session(options, r.value, m.value, workDir, runDir, captures, transport, unregister);
    } catch (e) {
      for (const c of captures) await c.capture.stop().catch(() => undefined);
      // The receiver must leave the namespace before the transport removes it.
      await mutator?.close();
      await receiver?.close();
      await transport?.close();
      rmSync(workDir, { recursive: true, force: true });
      unregister();
      throw e;
    }
  }

  get kernel(): string {
    return release();
  }

  /** Runs one case; writes its evidence bundle when it is not clean. */
  async run(exp: Experiment): Promise<CaseReport> {
    if (exp.transport !== this.options.transport || exp.family !== this.options.family)
      throw new Error(`experiment wants ${exp.transport}/IPv${exp.family}, session is ${this.options.transport}/IPv${this.options.family}`);
    await this.transport.beforeCase?.(exp);
    const env = { receiver: this.receiver, mutator: this.mutator, workDir: this.workDir, senderNetns: this.transport.senderNetnsPath };
    const run = await runCase(env, exp);
    const observed = (side: SessionCapture['side']) => this.captures.find((c) => c.side === side)?.capture.collect(run.connection);
    // Both flushes at once: their sentinels leave the sender within a fraction of a millisecond,
    // after the case has finished, so the chunks can differ only by packets sent in that window
    // (a spurious retransmission at worst), which the link check reports, never hides.
    const [wire, arrived] = await Promise.all([observed('sender'), observed('receiver')]);
    const facts = await this.transport.afterCase?.(run.connection);
    const link: LinkReport | undefined = facts && linkReport(run.connection, run.streams.intended, run.streams.mutated, wire, arrived, facts);
    const report = toCaseReport(run, wire, link);
    if (report.verdict !== 'clean') {
      const w = report.wire.capture === 'captured' ? report.wire : null;
      const first = Math.min(report.received.firstOffset ?? Infinity, w?.firstOffset ?? Infinity);
      report.hexDiff = hexDiff(Number.isFinite(first) ? first : 0, run.streams.intended, wire ? wire.stream.bytes : null, run.streams.received);
      const dir = join(this.runDir, report.id);
      // The receiver side's capture joins the bundle: what reached the receiving kernel.
      if (arrived && report.link?.arrived) {
        mkdirSync(dir, { recursive: true });
        report.link.arrived.pcap = join(dir, 'arrived.pcap');
        writeFileSync(report.link.arrived.pcap, arrived.pcap);
      }
      report.evidence = writeEvidence(dir, { ...report, evidence: undefined, experiment: exp }, report.hexDiff, wire?.pcap ?? null);
    }
    return report;
  }

  async close(): Promise<void> {
    try {
      for (const { capture } of this.captures) {
        await capture.stop();
        if (!this.options.keepFullCapture) rmSync(capture.file, { force: true });
      }
      await this.mutator.close();
      await this.receiver.close();
      await this.transport.close();
    } finally {
      rmSync(this.workDir, { recursive: true, force: true });
      this.unregister();
    }
  }
}
