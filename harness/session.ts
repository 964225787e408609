// A session owns the long-lived parts of a run: the receiver process and the mutator process
// (the "other process" that changes files; both spawned first, before any experiment buffer
// exists), one tcpdump for all cases, a work directory for received bytes, the filesystem the
// file methods' sources live on (harness/fs: tmpfs by default, or a loop-image ext4/xfs/btrfs that
// is made and removed with the session), and the run directory where evidence of non-clean cases
// goes.
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { hostFacts } from './agent/host-facts.ts';
import { openRemote, remoteFromEnv, type RemoteOptions } from './agent/remote-transport.ts';
import { evidencePcap, focusOf } from './capture/evidence-pcap.ts';
import { WireCapture, type WireObservation } from './capture/wire.ts';
import { toCaseReport, type CaseReport } from './case-report.ts';
import { sweepOnce } from './host/sweep.ts';
import { makeWorkDir, type WorkDir } from './host/workdir.ts';
import { hexDiff, wiresharkEvidence, writeEvidence } from './evidence.ts';
import { FILE_METHODS, type Experiment, type Transport } from './experiment.ts';
import { openFilesystem } from './fs/index.ts';
import type { Filesystem, FsSpec } from './fs/types.ts';
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
  /** where the file methods' source files live (default tmpfs) */
  fs?: FsSpec;
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
    private readonly work: WorkDir,
    readonly runDir: string,
    readonly capture: WireCapture | null,
    readonly transport: TransportEndpoint,
    readonly filesystem: Filesystem,
    /** both ends of the path, in every case report */
    readonly hosts: NonNullable<CaseReport['hosts']>,
  ) {}

  get workDir(): string {
    return this.work.path;
  }

  static async open(options: SessionOptions): Promise<Session> {
    const runDir = options.runDir ?? join(CAPTURES_DIR, newRunId());
    // Made when the first evidence is written (or now, for the full capture): a run with only
    // clean cases leaves no empty directory in captures/.
    if (options.keepFullCapture) mkdirSync(runDir, { recursive: true });
    // What crashed runs left behind goes first (only theirs: never a live run's).
    await sweepOnce();
    const work = makeWorkDir('session');
    const workDir = work.path;
    let receiver: ReceiverRole | null = null;
    let mutator: MutatorProcess | null = null;
    let transport: TransportEndpoint | null = null;
    let filesystem: Filesystem | null = null;
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
      // After the children: they never see the loop mount in their mount namespace.
      filesystem = await openFilesystem(options.fs ?? 'tmpfs');
      const capture =
        options.capture === false
          ? null
          : await WireCapture.start({
              iface: transport!.captureIface,
              receiverPort: receiver!.port,
              // tmpfs unless kept: a whole session's capture can be GBs, only evidence slices stay
              file: join(options.keepFullCapture ? runDir : workDir, 'capture.pcap'),
              sentinelHost: host,
              keepFile: options.keepFullCapture,
            });
      return new Session(options, receiver!, mutator!, work, runDir, capture, transport!, filesystem, hosts!);
    } catch (e) {
      // The receiver must leave the namespace before the transport removes it.
      await mutator?.close();
      await receiver?.close();
      await transport?.close();
      await filesystem?.close();
      work.remove();
      throw e;
    }
  }

  get kernel(): string {
    return release();
  }

  /** Runs one case; writes its evidence bundle when it is not clean. */
  async run(exp: Experiment): Promise<CaseReport> {
    return (await this.runObserved(exp)).report;
  }

  /** run(), plus the capture's view of the case (tests cross-check it with tshark). */
  async runObserved(exp: Experiment): Promise<{ report: CaseReport; wire?: WireObservation }> {
    if (exp.transport !== this.options.transport || exp.family !== this.options.family)
      throw new Error(`experiment wants ${exp.transport}/IPv${exp.family}, session is ${this.options.transport}/IPv${this.options.family}`);
    if (FILE_METHODS.includes(exp.method) && exp.fs !== this.filesystem.spec)
      throw new Error(`experiment wants its file on ${exp.fs}, session is on ${this.filesystem.spec}`);
    if (FILE_METHODS.includes(exp.method)) this.checkRoom(exp.size);
    const run = await runCase({ receiver: this.receiver, mutator: this.mutator, workDir: this.workDir, fs: this.filesystem }, exp);
    const wire = this.capture ? await this.capture.collect(run.connection) : undefined;
    const report = toCaseReport(run, wire);
    report.hosts = this.hosts;
    if (report.verdict !== 'clean') {
      // Remote runs: W is what arrived at the agent; the sender's capture is case.pcap, the
      // agent's arrival.pcap.
      const arrival = run.receiver.remote?.observation ?? null;
      const shown = arrival ?? wire;
      const w = report.wire.capture === 'captured' ? report.wire : null;
      // A stream that only ended early has no differing byte: show where it ended.
      const short = report.received.lengthDelta < 0 ? report.received.bytes : Infinity;
      const first = Math.min(report.received.firstOffset ?? Infinity, w?.firstOffset ?? Infinity, short);
      report.hexDiff = hexDiff(Number.isFinite(first) ? first : 0, run.streams.intended, shown ? shown.stream.bytes : null, run.streams.received, run.streams.mutated);
      const dir = join(this.runDir, report.id);
      // Very large cases keep whole frames only around what differs (policy recorded in case.json).
      const pcap = wire && evidencePcap(wire.pcap, run.connection, wire.stream, focusOf(w?.firstOffset ?? null, report.received.firstOffset, wire.stream));
      const ws = pcap && wire && wiresharkEvidence(report, { pcap: pcap.pcap, iface: wire.iface, connection: run.connection, ...run.streams, receivedFirstOffset: report.received.firstOffset });
      if (ws?.pointers) report.wireshark = ws.pointers;
      const arrivalPcap = arrival ? join(dir, 'arrival.pcap') : null;
      const caseJson = { ...report, evidence: undefined, experiment: exp, arrivalPcap, ...(pcap ? { evidencePcap: pcap.record } : {}) };
      report.evidence = writeEvidence(dir, caseJson, report.hexDiff, pcap?.pcap ?? null, ws);
      if (arrival && arrivalPcap) {
        writeFileSync(arrivalPcap, arrival.pcap);
        report.evidence.arrivalPcap = arrivalPcap;
      }
    }
    return { report, wire };
  }

  /** A source file plus a second copy (rename-replace, reflink) must fit, with slack for metadata. */
  private checkRoom(size: number): void {
    const st = statfsSync(this.filesystem.workDir);
    const free = st.bavail * st.bsize;
    if (free < 2 * size + (8 << 20))
      throw new Error(`a ${size}-byte case needs about ${2 * size + (8 << 20)} bytes free on ${this.filesystem.spec}, which has ${free} (a bigger loop image: ZCPROBE_FS_IMAGE_SIZE)`);
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
      await this.filesystem.close().catch((e: unknown) => process.stderr.write(`session: ${(e as Error).message}\n`));
      this.work.remove();
    }
  }
}
