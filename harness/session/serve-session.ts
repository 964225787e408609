// A serve session: the client (spawned first, in the receiver namespace), the transport, the docroot's
// filesystem, one tcpdump per capture point, and the server of the current setting — started once per
// setting on the session's one port (one capture filter covers all). Verdict and evidence live above.
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { WireCapture } from '../capture/wire.ts';
import { sweepOnce } from '../host/sweep.ts';
import { makeWorkDir, type WorkDir } from '../host/workdir.ts';
import type { Filesystem } from '../model/fs-spec.ts';
import { settingsKey, type ServeExperiment, type ServeTransport } from '../model/serve-spec.ts';
import type { FsSpec } from '../model/fs-spec.ts';
import { native } from '../native.ts';
import { nowMs, patternA, patternB } from '../model/patterns.ts';
import { ClientProcess } from '../roles/client/client.ts';
import { RunningServer } from '../roles/server/instance.ts';
import { openFilesystem } from '../world/fs/index.ts';
import { openTransport, type TransportEndpoint } from '../world/transport/index.ts';
import type { SessionCapture } from './session.ts';
import { runServeCase, type ServeCaseRun } from './serve-case.ts';
import type { WireObservation } from '../capture/wire.ts';
import type { LinkCaseFacts } from '../world/transport/types.ts';

export interface ServeSessionOptions {
  transport: ServeTransport;
  family: 4 | 6;
  fs: FsSpec;
}

/** A case's run plus what the captures and the link saw of its connection. */
export interface ServeObserved {
  run: ServeCaseRun;
  /** ms spent starting the server for this case (a new setting), else 0 */
  serverStartMs: number;
  /** epoch ms when the captures had been collected */
  collectedAt: number;
  wire?: WireObservation;
  arrived?: WireObservation;
  link?: LinkCaseFacts;
}

/** Makes every directory from the docroot up searchable by the server's workers (www-data): the
 * ones zcprobe made are opened up; any other that is not searchable is an error naming it. */
function reachable(docroot: string, ours: readonly string[]): void {
  for (let d = docroot; d !== '/'; d = dirname(d)) {
    const mode = statSync(d).mode;
    if (mode & 0o001) continue;
    if (ours.includes(d) || basename(d).startsWith('zcprobe-')) chmodSync(d, (mode & 0o7777) | 0o011);
    else throw new Error(`the server's workers (www-data) cannot reach ${docroot}: ${d} is not searchable by others`);
  }
}

/** A port free right now in the sender's namespace (servers bind it with SO_REUSEADDR). */
function freePort(host: string, family: 4 | 6, netnsPath?: string): number {
  const fd = native.socket(family, netnsPath ? { netns: netnsPath } : undefined);
  try {
    native.bind(fd, host, 0);
    return native.getsockname(fd).port;
  } finally {
    native.close(fd);
  }
}

export class ServeSession {
  private server: { key: string; running: RunningServer } | null = null;
  private serverCount = 0;

  private constructor(
    readonly options: ServeSessionOptions,
    readonly client: ClientProcess,
    readonly transport: TransportEndpoint,
    readonly filesystem: Filesystem,
    private readonly work: WorkDir,
    readonly docroot: string,
    readonly port: number,
    readonly captures: SessionCapture[],
  ) {}

  get senderHost(): string {
    return this.transport.senderHost!;
  }

  static async open(options: ServeSessionOptions): Promise<ServeSession> {
    await sweepOnce();
    const work = makeWorkDir('serve');
    let client: ClientProcess | null = null;
    let transport: TransportEndpoint | null = null;
    let filesystem: Filesystem | null = null;
    const captures: SessionCapture[] = [];
    try {
      transport = await openTransport(options.transport, { family: options.family });
      if (!transport.senderHost) throw new Error(`transport ${options.transport} has no sender-side address for a server`);
      client = await ClientProcess.spawn({ netns: transport.receiverNetns });
      filesystem = await openFilesystem(options.fs);
      const docroot = join(filesystem.workDir, 'docroot');
      mkdirSync(docroot, { mode: 0o755 });
      chmodSync(docroot, 0o755);
      reachable(docroot, [filesystem.workDir]);
      reachable(work.path, [work.path]);
      const port = freePort(transport.senderHost, options.family, transport.senderNetnsPath);
      for (const spec of transport.captures.filter((c) => !c.arrival)) {
        const capture = await WireCapture.start({
          iface: spec.iface, netns: spec.netns, snaplen: spec.snaplen, receiverPort: port,
          file: join(work.path, spec.side === 'sender' ? 'capture.pcap' : 'capture-receiver.pcap'),
          sentinelHost: spec.sentinelHost, sendSentinel: spec.sendSentinel,
        });
        captures.push({ side: spec.side, iface: spec.iface, netns: spec.netns, capture });
      }
      return new ServeSession(options, client, transport, filesystem, work, docroot, port, captures);
    } catch (e) {
      for (const c of captures) await c.capture.stop().catch(() => undefined);
      await client?.close();
      await transport?.close();
      await filesystem?.close();
      work.remove();
      throw e;
    }
  }

  /** The server for `exp`'s setting: the running one, or a fresh start (the old one stopped first). */
  async serverFor(exp: ServeExperiment): Promise<RunningServer> {
    const key = `${exp.server} ${settingsKey(exp.settings.resolved)}`;
    if (this.server?.key === key && !this.server.running.process.exitStatus) return this.server.running;
    await this.stopServer();
    const dir = join(this.work.path, `${exp.server}-${++this.serverCount}`);
    mkdirSync(dir, { mode: 0o755 });
    const running = await RunningServer.start({
      name: exp.server, settings: exp.settings.resolved, host: this.senderHost, port: this.port, family: this.options.family,
      netnsPath: this.transport.senderNetnsPath, dir, docroot: this.docroot,
    });
    this.server = { key, running };
    return running;
  }

  async stopServer(): Promise<void> {
    const s = this.server;
    this.server = null;
    await s?.running.stop();
  }

  /** Runs one case and collects what the captures (and the link) saw of its connection. */
  async run(exp: ServeExperiment): Promise<ServeObserved> {
    const o = this.options;
    if (exp.transport !== o.transport || exp.family !== o.family || exp.fs !== o.fs)
      throw new Error(`case wants ${exp.transport}/IPv${exp.family}/${exp.fs}, session is ${o.transport}/IPv${o.family}/${o.fs}`);
    const t0 = nowMs();
    const server = await this.serverFor(exp);
    const serverStartMs = Math.round(nowMs() - t0);
    // The patterns are built once per session and size (one-off, like the server start).
    patternA(exp.size);
    patternB(exp.size);
    await this.transport.beforeCase?.({ link: undefined });
    const env = { client: this.client, server, docroot: this.docroot, fs: this.filesystem, workDir: this.work.path };
    const run = await runServeCase(env, exp);
    const observed = (side: SessionCapture['side']) => this.captures.find((c) => c.side === side)?.capture.collect(run.connection);
    const [wire, arrived] = await Promise.all([observed('sender'), observed('receiver')]);
    const link = await this.transport.afterCase?.(run.connection);
    return { run, serverStartMs, collectedAt: nowMs(), wire, arrived, link };
  }

  async close(): Promise<void> {
    try {
      await this.stopServer();
      for (const { capture } of this.captures) await capture.stop();
      await this.client.close();
      await this.transport.close();
    } finally {
      await this.filesystem.close().catch((e: unknown) => process.stderr.write(`serve session: ${(e as Error).message}\n`));
      this.work.remove();
    }
  }
}
