// A session owns the long-lived parts of a run: the receiver process and the mutator process
// (the "other process" that changes files; both spawned first, before any experiment buffer
// exists), one tcpdump for all cases, a work directory for sources and received bytes, and the
// run directory where evidence of non-clean cases goes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { hostFacts } from './agent/host-facts.ts';
import { openRemote, remoteFromEnv, type RemoteOptions } from './agent/remote-transport.ts';
import { WireCapture } from './capture/wire.ts';
import { toCaseReport, type CaseReport } from './case-report.ts';
import { registerCleanup } from './cleanup.ts';
import { hexDiff, writeEvidence } from './evidence.ts';
import type { Experiment, Transport } from './experiment.ts';
import { MutatorProcess } from './mutator/client.ts';
import { ReceiverProcess } from './receiver/client.ts';
import type { ReceiverRole } from './receiver/role.ts';
import { openTransport, type TransportEndpoint } from './transport/veth.ts';
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
  /** transport 'remote': the agent (default: ZCPROBE_REMOTE and ZCPROBE_TOKEN_FILE) */
  remote?: RemoteOptions;
}

export function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '')}-${process.pid}`;
}

export const CAPTURES_DIR = resolve(import.meta.dirname, '..', 'captures');

export class Session {
  private constructor(
    readonly options: SessionOptions,
    readonly receiver: ReceiverRole,
    readonly mutator: MutatorProcess,
    readonly workDir: string,
    readonly runDir: string,
    readonly capture: WireCapture | null,
    readonly transport: TransportEndpoint,
    /** both ends of the path, in every case report */
    readonly hosts: NonNullable<CaseReport['hosts']>,
    private readonly unregister: () => void,
  ) {}

  static async open(options: SessionOptions): Promise<Session> {
    const runDir = options.runDir ?? join(CAPTURES_DIR, newRunId());
    mkdirSync(runDir, { recursive: true });
    // tmpfs when present: received bytes and sources never touch a disk.
    const workDir = mkdtempSync(join(process.env.ZCPROBE_WORKDIR ?? '/dev/shm', 'zcprobe-'));
    const unregister = registerCleanup(`workdir ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
    let receiver: ReceiverRole | null = null;
    let mutator: MutatorProcess | null = null;
    let transport: TransportEndpoint | null = null;
    try {
      let hosts: Session['hosts'];
      if (options.transport === 'remote') {
        // The receiver is a zcprobe agent; only the mutator runs here.
        const target = options.remote ?? remoteFromEnv();
        if (!target) throw new Error('transport remote needs an agent: --remote ADDR:PORT --token-file FILE (or ZCPROBE_REMOTE and ZCPROBE_TOKEN_FILE)');
        const [r, m] = await Promise.allSettled([openRemote(target, { capture: options.capture !== false, family: options.family }), MutatorProcess.spawn()]);
        if (r.status === 'fulfilled') ({ receiver, endpoint: transport, hosts } = r.value);
        if (m.status === 'fulfilled') mutator = m.value;
        if (r.status === 'rejected') throw r.reason;
        if (m.status === 'rejected') throw m.reason;
      } else {
        transport = await openTransport(options.transport, options.family, options.rate ? { rate: options.rate } : undefined);
        const host = transport.receiverHost;
        // Both at once (each is a node start-up); whichever started is closed if the other failed.
        const [r, m] = await Promise.allSettled([ReceiverProcess.spawn({ host, netns: transport.receiverNetns }), MutatorProcess.spawn()]);
        if (r.status === 'fulfilled') receiver = r.value;
        if (m.status === 'fulfilled') mutator = m.value;
        if (r.status === 'rejected') throw r.reason;
        if (m.status === 'rejected') throw m.reason;
        hosts = { sender: await hostFacts(transport.captureIface), receiver: 'same host' };
      }
      const host = transport!.receiverHost;
      const capture =
        options.capture === false
          ? null
          : await WireCapture.start({
              iface: transport!.captureIface,
              receiverPort: receiver!.port,
              // tmpfs unless kept: a whole session's capture can be GBs, only evidence slices stay
              file: join(options.keepFullCapture ? runDir : workDir, 'capture.pcap'),
              sentinelHost: host,
            });
      return new Session(options, receiver!, mutator!, workDir, runDir, capture, transport!, hosts!, unregister);
    } catch (e) {
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
    const run = await runCase({ receiver: this.receiver, mutator: this.mutator, workDir: this.workDir }, exp);
    const wire = this.capture ? await this.capture.collect(run.connection) : undefined;
    const report = toCaseReport(run, wire);
    report.hosts = this.hosts;
    if (report.verdict !== 'clean') {
      // Remote runs: W is what arrived at the agent; the sender's capture is case.pcap, the
      // agent's arrival.pcap.
      const arrival = run.receiver.remote?.observation ?? null;
      const shown = arrival ?? wire;
      const w = report.wire.capture === 'captured' ? report.wire : null;
      const first = Math.min(report.received.firstOffset ?? Infinity, w?.firstOffset ?? Infinity);
      report.hexDiff = hexDiff(Number.isFinite(first) ? first : 0, run.streams.intended, shown ? shown.stream.bytes : null, run.streams.received);
      const dir = join(this.runDir, report.id);
      const arrivalPcap = arrival ? join(dir, 'arrival.pcap') : null;
      report.evidence = writeEvidence(dir, { ...report, evidence: undefined, experiment: exp, arrivalPcap }, report.hexDiff, wire?.pcap ?? null);
      if (arrival && arrivalPcap) {
        writeFileSync(arrivalPcap, arrival.pcap);
        report.evidence.arrivalPcap = arrivalPcap;
      }
    }
    return report;
  }

  async close(): Promise<void> {
    try {
      if (this.capture) {
        await this.capture.stop();
        if (!this.options.keepFullCapture) rmSync(this.capture.file, { force: true });
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
