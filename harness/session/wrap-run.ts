// One `zcprobe wrap` run, before any verdict: the transport, the client (zcprobe's slow reader, in the
// receiver's namespace), the user's program under the shim on the sender side, one capture per
// capture point; then N connections one after another, each collected from the capture once it has
// finished on the wire; then the program is stopped and its shim logs are read. Everything it made
// is removed on return, on error and on Ctrl-C (SIGKILL: the ledger and cleanup.sh).
import { basename, join } from 'node:path';
import { WireCapture, type ConnectionTuple, type WireObservation } from '../capture/wire.ts';
import { readShimLogs, type ShimProcessLog } from '../capture/shim-log.ts';
import { sweepOnce } from '../host/sweep.ts';
import { makeWorkDir } from '../host/workdir.ts';
import { ClientProcess, type FetchedCase } from '../roles/client/client.ts';
import { WrappedProgram, type ProgramExit } from '../roles/wrapped/program.ts';
import { openTransport, type LinkCaseFacts, type TransportEndpoint } from '../world/transport/index.ts';

export interface WrapRunOptions {
  command: string[];
  /** where the program listens; unset: the first port it listens on */
  port?: number;
  request?: Buffer;
  connections: number;
  clientDelayMs: number;
  rcvbuf?: number;
  transport: 'loopback' | 'veth' | 'tun';
  family: 4 | 6;
  shim: string;
  snapshotCap: number;
  protect: boolean;
  listenTimeoutMs: number;
  /** SIGTERM → SIGKILL */
  stopGraceMs: number;
  /** bound on one connection (connect, request, delay, read to EOF) */
  connectionTimeoutMs: number;
  /** between connections: the program may still be finishing the previous one */
  onConnection?: (index: number) => void;
}

export interface WrapConnectionRun {
  index: number;
  /** src = the program's end (the sender), dst = the client's */
  connection: ConnectionTuple;
  client: FetchedCase;
  /** the sender side's capture (W) and, over tun, the receiver side's */
  wire?: WireObservation;
  arrived?: WireObservation;
  link?: LinkCaseFacts;
  /** the client's error when it never connected */
  connectError?: string;
}

export interface WrapRunResult {
  startedAt: number;
  listeningAt: number;
  port: number;
  transport: { kind: string; describe: string; pageOwnership: string; captureIface: string };
  connections: WrapConnectionRun[];
  program: { pid: number; exit: ProgramExit; stderrTail: string; stdoutTail: string };
  logs: ShimProcessLog[];
  /** where the shim logs are until the caller copies what it keeps (removed by `cleanup`) */
  logDir: string;
  cleanup: () => void;
}

export async function runWrapped(opts: WrapRunOptions): Promise<WrapRunResult> {
  const startedAt = Date.now();
  await sweepOnce();
  const work = makeWorkDir('wrap');
  const logDir = work.path;
  let transport: TransportEndpoint | null = null;
  let client: ClientProcess | null = null;
  let program: WrappedProgram | null = null;
  const captures: { side: 'sender' | 'receiver'; capture: WireCapture }[] = [];
  try {
    transport = await openTransport(opts.transport, { family: opts.family });
    const host = transport.senderHost;
    if (!host) throw new Error(`transport ${opts.transport} has no sender-side address for a program to listen on`);
    client = await ClientProcess.spawn({ netns: transport.receiverNetns });
    const netns = transport.senderNetnsPath ? basename(transport.senderNetnsPath) : undefined;
    const { command, shim, snapshotCap, protect } = opts;
    program = WrappedProgram.start({ command, netns, shim, logDir, snapshotCap, protect });
    const port = await program.waitListening(opts.port, opts.listenTimeoutMs);
    const listeningAt = Date.now();
    // the sender side's capture is W; a receiver-side one only where the link is a separate hop (tun)
    for (const spec of transport.captures.filter((c) => !c.arrival)) {
      const capture = await WireCapture.start({
        iface: spec.iface, netns: spec.netns, snaplen: spec.snaplen, receiverPort: port,
        file: join(logDir, spec.side === 'sender' ? 'capture.pcap' : 'capture-receiver.pcap'),
        sentinelHost: spec.sentinelHost, sendSentinel: spec.sendSentinel,
      });
      captures.push({ side: spec.side, capture });
    }
    const connections: WrapConnectionRun[] = [];
    for (let i = 1; i <= opts.connections; i++) {
      opts.onConnection?.(i);
      await transport.beforeCase?.({ link: undefined });
      const started = client.start({
        id: `wrap-${i}`, host, port, delayMs: opts.clientDelayMs, rcvbuf: opts.rcvbuf, timeoutMs: opts.connectionTimeoutMs,
        outFile: join(logDir, `received-${i}`), ...(opts.request ? { request: opts.request.toString('base64') } : {}),
      });
      let connectError: string | undefined;
      const local = await started.connected.then((c) => c.local, (e: Error) => { connectError = e.message; return null; });
      const got = await started.result;
      const connection = { src: host, srcPort: port, dst: local?.address ?? got.local.address, dstPort: local?.port ?? got.local.port };
      const run: WrapConnectionRun = { index: i, connection, client: got, ...(connectError ? { connectError } : {}) };
      if (!connectError) {
        const observed = (side: 'sender' | 'receiver') => captures.find((c) => c.side === side)?.capture.collect(connection);
        const [wire, arrived] = await Promise.all([observed('sender'), observed('receiver')]);
        Object.assign(run, { wire, arrived, link: await transport.afterCase?.(connection) });
      }
      connections.push(run);
      if (program.exit) break; // it died: later connections would only be refused
    }
    const exit = await program.stop(opts.stopGraceMs);
    const result: WrapRunResult = {
      startedAt, listeningAt, port,
      transport: {
        kind: transport.kind, describe: transport.describe, pageOwnership: transport.pageOwnership, captureIface: transport.captureIface,
      },
      connections,
      program: { pid: program.pid, exit, stderrTail: program.stderrTail, stdoutTail: program.stdoutTail },
      logs: readShimLogs(logDir),
      logDir,
      cleanup: () => work.remove(),
    };
    program = null;
    return result;
  } catch (e) {
    work.remove();
    throw e;
  } finally {
    await program?.stop(opts.stopGraceMs).catch(() => undefined);
    for (const c of captures) await c.capture.stop().catch(() => undefined);
    await client?.close();
    await transport?.close();
  }
}
