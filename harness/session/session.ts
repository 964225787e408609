// A session owns the long-lived parts of a run: the receiver process and the mutator process
// (the "other process" that changes files; both spawned first, before any experiment buffer
// exists), one tcpdump for all cases, a work directory for received bytes, the filesystem the
// file methods' sources live on (harness/fs: tmpfs by default, or a loop-image ext4/xfs/btrfs that
// is made and removed with the session), and the run directory where evidence of non-clean cases
// goes.
import { mkdirSync, rmSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { hostFacts, type HostPair } from '../host/host-facts.ts';
import { openRemote, remoteFromEnv, type RemoteOptions } from '../roles/agent/remote-transport.ts';
import { WireCapture, type WireObservation } from '../capture/wire.ts';
import { sweepOnce } from '../host/sweep.ts';
import { makeWorkDir, type WorkDir } from '../host/workdir.ts';
import { FILE_METHODS, type Experiment, type SenderCapture, type Transport } from '../model/experiment.ts';
import { openFilesystem } from '../world/fs/index.ts';
import type { Filesystem, FsSpec } from '../model/fs-spec.ts';
import { MutatorProcess } from '../roles/mutator/client.ts';
import { ReceiverProcess } from '../roles/receiver/client.ts';
import type { ReceiverRole } from '../roles/receiver/role.ts';
import { openTransport, type TransportEndpoint } from '../world/transport/index.ts';
import type { CaptureSpec, LinkCaseFacts } from '../world/transport/types.ts';
import { runCase, type CaseRun } from './run-case.ts';

/** One case as the session saw it: the run, each capture's view of its connection, the link's facts. */
export interface CaseObservation {
  run: CaseRun;
  /** the capture that is W: the sender side's, or the receiving side's with --sender-capture off
   * (`wireBy`); absent without capture */
  wire?: WireObservation;
  wireBy?: 'sender' | 'receiver';
  /** whether a tcpdump ran on the sending device */
  senderCapture: SenderCapture;
  /** the receiver-side capture when it is not W (tun: what reached the receiving kernel) */
  arrived?: WireObservation;
  linkFacts?: LinkCaseFacts;
  hosts: HostPair;
  /** where this session's evidence goes */
  runDir: string;
}

export interface SessionOptions {
  transport: Transport;
  family: 4 | 6;
  /** capture the wire with tcpdump (three-way verdicts); false: two-stream verdicts only */
  capture?: boolean;
  /** 'off': no tcpdump on the sending device; W is the receiving side's capture (the transport's
   * arrival capture, or the agent's). Default 'on'. See docs/capture-placement.md. */
  senderCapture?: SenderCapture;
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
  /** tun only: the link MTU (default 9000) */
  mtu?: number;
  /** nic only: "IF1,IF2", two ports cabled to each other */
  nicPair?: string;
}

/** One capture of the session: 'sender' is the wire (W), 'receiver' what reached the receiver;
 * `arrival`: a receiver-side capture serving as W because the sender's is off. */
export interface SessionCapture {
  side: 'sender' | 'receiver';
  arrival?: true;
  /** where tcpdump runs */
  iface: string;
  netns?: string;
  capture: WireCapture;
}

/** The transport's capture points this session starts; throws when `off` leaves nothing to serve as W. */
export function capturePlan(transport: Pick<TransportEndpoint, 'kind' | 'captures'>, senderCapture: SenderCapture): CaptureSpec[] {
  if (senderCapture === 'on') return transport.captures.filter((c) => !c.arrival);
  const rest = transport.captures.filter((c) => c.side !== 'sender');
  // remote: the agent captures what arrived, outside this list
  if (transport.kind !== 'remote' && !rest.some((c) => c.arrival))
    throw new Error(
      `--sender-capture off: ${transport.kind} has no other capture that can serve as W (only veth, nic and remote do); ` +
        'use --no-capture for a two-stream verdict',
    );
  return rest;
}

export function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '')}-${process.pid}`;
}

export const CAPTURES_DIR = resolve(import.meta.dirname, '..', '..', 'captures');

export class Session {
  private constructor(
    readonly options: SessionOptions,
    readonly receiver: ReceiverRole,
    readonly mutator: MutatorProcess,
    private readonly work: WorkDir,
    readonly runDir: string,
    readonly captures: SessionCapture[],
    readonly transport: TransportEndpoint,
    readonly filesystem: Filesystem,
    /** both ends of the path, in every case report */
    readonly hosts: HostPair,
  ) {}

  /** the sender-side capture (the wire, W), or null without capture */
  get capture(): WireCapture | null {
    return this.captures.find((c) => c.side === 'sender')?.capture ?? null;
  }

  /** Where each capture runs and which one is W, for the report's transport line. */
  get captureLine(): string {
    const where = (c: SessionCapture) => `${c.iface}${c.netns ? ` in ${c.netns}` : ''}`;
    const sender = this.captures.find((c) => c.side === 'sender');
    const arrival = this.captures.find((c) => c.arrival);
    if (this.options.capture === false) return 'no capture (two-stream verdicts)';
    if (this.options.transport === 'remote')
      return `W: the agent's arrival capture; sender capture ${sender ? `on (${where(sender)}: what left)` : 'off'}`;
    if (arrival) return `sender capture off; W: ${where(arrival)} (receiving side)`;
    const plus = this.captures.some((c) => c.side === 'receiver') ? ', plus the receiving side' : '';
    return `W: sender capture on ${sender ? where(sender) : '?'}${plus}`;
  }

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
    const captures: SessionCapture[] = [];
    try {
      let hosts: Session['hosts'];
      if (options.transport === 'remote') {
        // The receiver is a zcprobe agent; only the mutator runs here.
        const target = options.remote ?? remoteFromEnv();
        if (!target) throw new Error('transport remote needs an agent: --remote ADDR:PORT --token-file FILE (or ZCPROBE_REMOTE and ZCPROBE_TOKEN_FILE)');
        const remote = openRemote(target, { capture: options.capture !== false, family: options.family });
        const [r, m] = await Promise.allSettled([remote, MutatorProcess.spawn()]);
        if (r.status === 'fulfilled') ({ receiver, endpoint: transport, hosts } = r.value);
        if (m.status === 'fulfilled') mutator = m.value;
        if (r.status === 'rejected') throw r.reason;
        if (m.status === 'rejected') throw m.reason;
      } else {
        const { family, rate, mtu, nicPair } = options;
        transport = await openTransport(options.transport, { family, rate, mtu, nicPair });
        const host = transport.receiverHost;
        // Both at once (each is a node start-up); whichever started is closed if the other failed.
        const [r, m] = await Promise.allSettled([ReceiverProcess.spawn({ host, netns: transport.receiverNetns }), MutatorProcess.spawn()]);
        if (r.status === 'fulfilled') receiver = r.value;
        if (m.status === 'fulfilled') mutator = m.value;
        if (r.status === 'rejected') throw r.reason;
        if (m.status === 'rejected') throw m.reason;
        hosts = { sender: await hostFacts(transport.captureIface), receiver: 'same host' };
      }
      // After the children: they never see the loop mount in their mount namespace.
      filesystem = await openFilesystem(options.fs ?? 'tmpfs');
      for (const spec of options.capture === false ? [] : capturePlan(transport!, options.senderCapture ?? 'on')) {
        const capture = await WireCapture.start({
          iface: spec.iface,
          netns: spec.netns,
          snaplen: spec.snaplen,
          receiverPort: receiver!.port,
          // tmpfs unless kept: a whole session's capture can be GBs, only evidence slices stay
          file: join(options.keepFullCapture ? runDir : workDir, spec.side === 'sender' ? 'capture.pcap' : 'capture-receiver.pcap'),
          sentinelHost: spec.sentinelHost,
          sendSentinel: spec.sendSentinel,
          keepFile: options.keepFullCapture,
        });
        const { side, arrival, iface, netns } = spec;
        captures.push({ side, ...(arrival ? { arrival } : {}), iface, ...(netns ? { netns } : {}), capture });
      }
      return new Session(options, receiver!, mutator!, work, runDir, captures, transport!, filesystem, hosts!);
    } catch (e) {
      for (const c of captures) await c.capture.stop().catch(() => undefined);
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

  /** Runs one case and collects what every capture and the transport saw of it: plain data, no
   * verdict (harness/evidence/judge.ts decides it and writes the evidence). */
  async observe(exp: Experiment): Promise<CaseObservation> {
    if (exp.transport !== this.options.transport || exp.family !== this.options.family)
      throw new Error(`experiment wants ${exp.transport}/IPv${exp.family}, session is ${this.options.transport}/IPv${this.options.family}`);
    if (FILE_METHODS.includes(exp.method) && exp.fs !== this.filesystem.spec)
      throw new Error(`experiment wants its file on ${exp.fs}, session is on ${this.filesystem.spec}`);
    if (FILE_METHODS.includes(exp.method)) this.checkRoom(exp.size);
    await this.transport.beforeCase?.(exp);
    const env = {
      receiver: this.receiver, mutator: this.mutator, workDir: this.workDir, fs: this.filesystem,
      senderNetns: this.transport.senderNetnsPath,
    };
    const run = await runCase(env, exp);
    const observed = (side: SessionCapture['side']) => this.captures.find((c) => c.side === side)?.capture.collect(run.connection);
    // Both flushes at once: their sentinels leave the sender within a fraction of a millisecond,
    // after the case has finished, so the chunks can differ only by packets sent in that window
    // (a spurious retransmission at worst), which the link check reports, never hides.
    const [sent, arrived] = await Promise.all([observed('sender'), observed('receiver')]);
    const linkFacts = await this.transport.afterCase?.(run.connection);
    const senderCapture = this.options.capture === false ? 'off' : (this.options.senderCapture ?? 'on');
    // Without a sender capture the arrival capture is W (not a second view of the link).
    const common = { run, senderCapture, linkFacts, hosts: this.hosts, runDir: this.runDir };
    if (this.captures.some((c) => c.arrival)) return { ...common, wire: arrived, wireBy: 'receiver' };
    return { ...common, wire: sent, ...(sent ? { wireBy: 'sender' as const } : {}), arrived };
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
      for (const { capture } of this.captures) {
        await capture.stop();
        if (!this.options.keepFullCapture) rmSync(capture.file, { force: true });
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
