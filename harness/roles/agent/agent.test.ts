// Two hosts on one machine: the agent in its own namespace over veth, the sender `zcprobe run --remote` in the root namespace.
// Remote verdicts match local ones; bad tokens, garbage, oversized or out-of-order messages run nothing; a second sender is
// told "busy"; an agent killed mid-case makes that case inconclusive. Traffic stays inside the namespace we made.
import test from 'ava';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { captureUnavailableReason } from '../../capture/tcpdump.ts';
import type { CaseReport } from '../../verdict/case-report.ts';
import type { Report } from '../../report/types.ts';
import { validateReport } from '../../report/validate.ts';
import { createVethTopology, vethUnavailableReason, type VethTopology } from '../../world/transport/veth.ts';
import { formatHostPort } from './address.ts';
import { AgentConnection, AgentRefusedError } from './client.ts';
import { encodeFrame, FrameError, FrameReader, AGENT_FRAME_LIMITS, type AgentMessage } from './protocol.ts';
import { clientTlsOptions, pskFromToken, readTokenFile } from './psk.ts';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const CLI = join(ROOT, 'bin', 'zcprobe.js');
const reason = captureUnavailableReason(true) ?? (await vethUnavailableReason());

interface Agent {
  child: ChildProcess;
  port: number;
  log: () => string;
  exited: Promise<number | string | null>;
}

let topo: VethTopology | undefined;
let dir = '';
let token = '';
let wrongToken = '';
const agents: Agent[] = [];

function writeToken(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text + '\n', { mode: 0o600 });
  return f;
}

async function until(what: string, cond: () => boolean, ms = 15000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }
}

/** `zcprobe agent` inside the topology's namespace; resolves once it listens. */
async function startAgent(port: number): Promise<Agent> {
  // Its work directory is ours too, so a killed agent's files go with the test's directory.
  const env = { ...process.env, ZCPROBE_WORKDIR: dir };
  const child = spawn('ip', ['netns', 'exec', topo!.netns, process.execPath, CLI, 'agent', '--listen', `${topo!.nsAddr}:${port}`, '--token-file', token], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let text = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => void (text += d));
  const exited = new Promise<number | string | null>((r) => child.once('exit', (code, sig) => r(sig ?? code)));
  const agent: Agent = { child, port, log: () => text, exited };
  agents.push(agent);
  await until(`the agent on port ${port} to listen`, () => text.includes('listening on') || child.exitCode !== null);
  if (child.exitCode !== null) throw new Error(`agent exited: ${text}`);
  return agent;
}

/** `zcprobe <args>` as a child process; bounded. */
function zcprobe(args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20, env: { ...process.env, ZCPROBE_REMOTE: '', ZCPROBE_TOKEN_FILE: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      res({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

const remote = (a: Agent, tokenFile = token) => ['--remote', formatHostPort(topo!.nsAddr, a.port), '--token-file', tokenFile];
const cases = (stdout: string): CaseReport[] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as CaseReport);

/** Opens a session, waiting (bounded) while a previous sender's session still stops. */
async function openWhenFree(target: { host: string; port: number }, psk: Buffer): ReturnType<typeof AgentConnection.open> {
  for (const end = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 100))) {
    try {
      return await AgentConnection.open(target, psk, { capture: false });
    } catch (e) {
      if (!(e instanceof AgentRefusedError && e.busy) || Date.now() > end) throw e;
    }
  }
}

/** A TLS client that speaks raw frames, to send what a well-behaved sender never would. */
async function rawSession(a: Agent): Promise<{
  send: (b: Buffer) => void; next: (ms?: number) => Promise<AgentMessage>; closed: Promise<void>; end: () => void;
}> {
  const socket = tlsConnect({ host: topo!.nsAddr, port: a.port, ...clientTlsOptions(pskFromToken(readTokenFile(token))) });
  await new Promise<void>((res, rej) => socket.once('secureConnect', res).once('error', rej));
  const reader = new FrameReader(AGENT_FRAME_LIMITS);
  const queue: AgentMessage[] = [];
  socket.on('data', (d: Buffer) => {
    for (const f of reader.push(d)) if (!(f instanceof FrameError)) queue.push(f.msg as AgentMessage);
  });
  const closed = new Promise<void>((res) => socket.once('close', () => res()));
  socket.on('error', () => {});
  return {
    send: (b) => socket.write(b),
    async next(ms = 10_000) {
      await until('a frame from the agent', () => queue.length > 0, ms);
      return queue.shift()!;
    },
    closed,
    end: () => socket.destroy(),
  };
}

if (reason) {
  test(`agent over veth [skipped: ${reason}]`, (t) => t.pass());
} else {
  test.before(async () => {
    dir = mkdtempSync('/tmp/zcprobe-agent-test-');
    token = writeToken('token', 'a-token-for-the-agent-test-' + process.pid);
    wrongToken = writeToken('wrong', 'a-wrong-token-for-the-agent-test');
    topo = await createVethTopology({ family: 4 });
  });

  test.after.always(async () => {
    for (const a of agents) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGTERM');
    await Promise.race([Promise.all(agents.map((a) => a.exited)), new Promise((r) => setTimeout(r, 5000))]);
    if (topo) {
      // Whatever we started inside the namespace (an orphaned receiver of the killed agent) goes
      // with it: the namespace is ours, so are its processes.
      const pids = spawnSync('ip', ['netns', 'pids', topo.netns], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter((p) => p > 0);
      for (const p of pids) process.kill(p, 'SIGKILL');
      await topo.destroy();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.serial('a remote round gives the verdicts a local run gives on the same path (veth)', async (t) => {
    const agent = await startAgent(7400);
    // A 4 MiB send buffer and a 64 KiB receive buffer make vmsplice's outcome deterministic on
    // veth: the send returns at once with the message queued at the sender, the reader sleeps, so
    // it crosses the wire changed. (With autotuned buffers the outcome varies from run to run on
    // veth — clean, corrupted-after-wire or corrupted-on-wire — locally as remotely.)
    const SHAPE = ['--size', '1MiB', '--receiver-delay-ms', '50', '--rcvbuf', '64KiB', '--sndbuf', '4MiB', '--repeat', '2'];
    const shapes = [
      { args: ['--method', 'write', ...SHAPE], expect: 'clean' as const },
      { args: ['--method', 'vmsplice', ...SHAPE], expect: 'corrupted-on-wire' as const },
    ];
    for (const s of shapes) {
      const local = await zcprobe(['run', ...s.args, '--transport', 'veth', '--json']);
      const far = await zcprobe(['run', ...s.args, ...remote(agent), '--json']);
      t.is(local.code, 0, local.stderr);
      t.is(far.code, 0, far.stderr);
      const ls = cases(local.stdout);
      const rs = cases(far.stdout);
      t.log(`${s.args.join(' ')}: local veth ${ls.map((c) => c.verdict).join(',')} in ${local.ms.toFixed(0)} ms, remote ${rs.map((c) => c.verdict).join(',')} in ${far.ms.toFixed(0)} ms; clock ${rs.map((c) => `${c.remote?.clock.offsetMs.toFixed(4)} ± ${c.remote?.clock.uncertaintyMs.toFixed(4)}`).join(', ')} ms`);
      t.deepEqual(ls.map((c) => c.verdict), [s.expect, s.expect], ls.map((c) => c.reasons.join('; ')).join(' | '));
      t.deepEqual(rs.map((c) => c.verdict), ls.map((c) => c.verdict), rs.map((c) => c.reasons.join('; ')).join(' | '));
      const r = rs[0];
      t.is(r!.transport, 'remote');
      t.is(r!.sndbuf, 4 << 20);
      // What crossed is the agent's capture; the sender's own capture is kept beside it.
      t.true(r!.wire.capture === 'captured' && r!.wire.capturedBy === 'agent');
      t.is(r!.departed?.capturedBy, 'sender');
      t.is(r!.departed?.comparedWithArrival?.unexplained, 0);
      t.true(r!.remote!.clock.uncertaintyMs > 0 && r!.remote!.clock.uncertaintyMs < 50);
      t.true(r!.timings.receiverClock !== undefined);
      // Both ends named: the sender's veth end and the agent's.
      const hosts = r!.hosts!;
      t.is(hosts.sender.iface, topo!.hostIf);
      t.true(hosts.receiver !== 'same host' && hosts.receiver.iface === topo!.nsIf && hosts.receiver.driver?.driver === 'veth');
      if (r!.verdict !== 'clean') {
        t.truthy(r!.evidence?.pcap);
        t.truthy(r!.evidence?.arrivalPcap);
      }
    }
    t.notRegex(agent.log(), /refused|invalid|out of order/);
  });

  test.serial('zcprobe report --remote writes a valid report that names both hosts', async (t) => {
    const agent = agents[0] ?? (await startAgent(7400));
    const out = join(dir, 'report');
    const r = await zcprobe(['report', ...remote(agent), '--method', 'write', '--repeats', '1', '--cost-total', '0', '--out', out], 300_000);
    t.is(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    t.deepEqual(validateReport(report), []);
    t.deepEqual([...new Set(report.cells.map((c) => c.transport))], ['remote']);
    t.true(report.cells.every((c) => c.verdict === 'clean'), JSON.stringify(report.cells.map((c) => [c.safeguard, c.verdict, c.reasons])));
    const described = report.transports.find((x) => x.name === 'remote')?.describe ?? '';
    t.regex(described, new RegExp(`sender .*${topo!.hostIf}.* → receiver .*${topo!.nsIf}.*driver veth`));
    t.truthy(report.notes.find((n) => n.startsWith('receiving host (remote):') && n.includes(topo!.nsIf)));
    t.truthy(Object.keys(report.host.offloads).find((k) => k.endsWith(`:${topo!.nsIf}`)), "the agent's offloads, keyed host:iface");
    t.log(`${report.cells.length} cells in ${(report.durationMs / 1000).toFixed(1)} s; ${described}`);
  });

  test.serial('a wrong token is refused before anything runs, and logged', async (t) => {
    const agent = agents[0] ?? (await startAgent(7400));
    const before = agent.log();
    const r = await zcprobe(['run', '--method', 'write', '--size', '64KiB', ...remote(agent, wrongToken)]);
    t.is(r.code, 1);
    t.regex(r.stderr, /TLS|wrong token/);
    await until('the refusal in the agent log', () => /refused .*TLS handshake failed/.test(agent.log().slice(before.length)));
    const after = agent.log().slice(before.length);
    t.notRegex(after, /authenticated|case /, 'no session, no case');
    // A token file others may read is refused by the sender before it connects.
    const loose = writeToken('loose', 'a-token-for-the-agent-test-' + process.pid);
    spawnSync('chmod', ['644', loose]);
    const l = await zcprobe(['run', '--method', 'write', ...remote(agent, loose)]);
    t.is(l.code, 1);
    t.regex(l.stderr, /accessible by group or others/);
  });

  test.serial('garbage, malformed, invalid, out-of-order and oversized messages get errors; the agent goes on serving', async (t) => {
    const agent = agents[0] ?? (await startAgent(7400));
    // Not TLS at all: the handshake fails and is logged.
    const before = agent.log();
    await new Promise<void>((res) => {
      const s = tcpConnect({ host: topo!.nsAddr, port: agent.port }, () => s.write(Buffer.from('GET / HTTP/1.0\r\n\r\n\x00\xff\xfe garbage')));
      s.on('error', () => res()).on('close', () => res());
      setTimeout(() => s.destroy(), 3000).unref();
    });
    await until('the refusal of garbage', () => /refused .*TLS handshake failed/.test(agent.log().slice(before.length)));

    // Authenticated, but wrong inside.
    const s = await rawSession(agent);
    const bad = Buffer.from('{"type": "case", oops');
    const head = Buffer.alloc(8);
    head.writeUInt32BE(bad.length, 0);
    s.send(Buffer.concat([head, bad]));
    t.like(await s.next(), { type: 'error', fatal: false });
    s.send(encodeFrame({ type: 'case', id: 'x', size: 1024, delayMs: 0, ack: false, timeoutMs: 1000 }));
    const early = await s.next();
    t.like(early, { type: 'error', fatal: false });
    t.regex((early as { message: string }).message, /out of order: the session is not open yet/);
    s.send(encodeFrame({ type: 'run', cmd: 'id' }));
    t.regex(JSON.stringify(await s.next()), /"type":"error".*unknown message type \\"run\\"/);
    s.send(encodeFrame({ type: 'case', id: '../../etc/passwd', size: 1, delayMs: 0, ack: false, timeoutMs: 1 }));
    t.regex(JSON.stringify(await s.next()), /invalid message: case\.id/);
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(1 << 30, 0);
    s.send(huge);
    const last = await s.next();
    t.like(last, { type: 'error', fatal: true });
    t.regex((last as { message: string }).message, /exceeds the limit/);
    await s.closed;
    t.notRegex(agent.log().slice(before.length), /case x|started/, 'no case ran');

    // And it still serves a real sender.
    const r = await zcprobe(['run', '--method', 'write', '--size', '64KiB', ...remote(agent), '--json']);
    t.is(r.code, 0, r.stderr);
    t.is(cases(r.stdout)[0]!.verdict, 'clean');
  });

  test.serial('a second sender is told "busy" while the first one is connected', async (t) => {
    const agent = agents[0] ?? (await startAgent(7400));
    const psk = pskFromToken(readTokenFile(token));
    const target = { host: topo!.nsAddr, port: agent.port };
    const first = await openWhenFree(target, psk);
    const mark = agent.log().length;
    try {
      await t.throwsAsync(AgentConnection.open(target, psk, { capture: false }), { message: /is busy: another sender/ });
      await until('the refusal in the agent log', () => /busy: refused/.test(agent.log().slice(mark)));
    } finally {
      first.conn.close();
    }
    // The agent takes the next sender once the first session has stopped its receiver (bounded).
    const second = await openWhenFree(target, psk);
    second.conn.close();
    t.pass('a new sender is served after the first one left');
  });

  test.serial('an agent killed mid-case: that case is inconclusive with the reason, the sender exits cleanly', async (t) => {
    const agent = await startAgent(7401);
    const run = zcprobe(['run', '--method', 'write', '--size', '1MiB', '--receiver-delay-ms', '3000', ...remote(agent), '--json'], 60_000);
    await until('the case to start', () => /started/.test(agent.log()), 30_000);
    agent.child.kill('SIGKILL');
    const r = await run;
    t.is(r.code, 0, r.stderr);
    const [c] = cases(r.stdout);
    t.is(c!.verdict, 'inconclusive');
    t.regex(c!.reasons.join('; '), /receiver: agent lost before the case's result: agent .*: connection/);
    t.log(`sender finished ${r.ms.toFixed(0)} ms after it started; reason: ${c!.reasons[0]}`);
  });
}
