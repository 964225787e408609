import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CaptureSession, captureUnavailableReason } from './tcpdump.ts';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..', '..');

// Unique per test, so `pgrep -f <file>` can only ever match that test's tcpdump.
function tmpFile(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-tcpdump-'));
  const file = join(dir, 'capture.pcap');
  t.teardown(() => {
    for (const pid of pgrep(file)) process.kill(pid, 'SIGKILL'); // only if a test failed
    rmSync(dir, { recursive: true, force: true });
  });
  return file;
}

function pgrep(file: string): number[] {
  const r = spawnSync('pgrep', ['-f', file], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

async function waitNoTcpdump(file: string, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pids = pgrep(file);
    if (pids.length === 0 || Date.now() >= deadline) return pids;
    await sleep(25);
  }
}

// Bound UDP socket on the sentinel port: keeps the port ours and avoids ICMP noise.
async function udpSink(t: ExecutionContext): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  t.teardown(() => sock.close());
  return sock.address().port;
}

// TCP server that resolves once `marker` has arrived, i.e. has crossed lo.
async function tcpSink(t: ExecutionContext, marker: string): Promise<{ port: number; arrived: Promise<void> }> {
  let got = '';
  let done!: () => void;
  const arrived = new Promise<void>((resolve) => { done = resolve; });
  const server = createServer((s) => s.on('data', (d) => { got += d.toString(); if (got.includes(marker)) done(); }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, arrived };
}

async function startChild(t: ExecutionContext, file: string): Promise<{ child: ChildProcess; tcpdumpPid: number }> {
  const child = spawn(process.execPath, ['--import=tsx', join(projectRoot, 'test-support', 'fixtures', 'capture-child.ts')], {
    cwd: projectRoot,
    env: { ...process.env, ZCPROBE_CAPTURE_FILE: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not print "capturing" in 20 s; stderr: ${err}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /capturing (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`child exited (${code ?? sig}): ${err}`)); });
  });
  return { child, tcpdumpPid: pid };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

const unavailable = captureUnavailableReason();
if (unavailable) {
  test.skip(`tcpdump capture tests skipped: ${unavailable}`, () => {});
} else {
  test.serial('captures TCP payload on lo; flush, stats and idempotent stop', async (t) => {
    const file = tmpFile(t);
    const marker = `zcprobe-payload-${randomBytes(8).toString('hex')}`;
    const { port, arrived } = await tcpSink(t, marker);
    const udpPort = await udpSink(t);
    const session = await CaptureSession.start({
      iface: 'lo', file,
      filter: `(tcp and port ${port}) or (udp and dst port ${udpPort})`,
      sentinel: { host: '127.0.0.1', port: udpPort },
    });
    t.teardown(() => session.stop().then(() => {}, () => {}));
    t.deepEqual(pgrep(file), [session.pid]);

    const client = connect(port, '127.0.0.1', () => client.end(marker));
    await arrived;
    await session.flush();
    // The point of flush(): the payload is on disk now, while tcpdump still runs.
    t.true(readFileSync(file).includes(marker));

    const [a, b] = await Promise.all([session.stats(), session.stats()]);
    t.true(a.captured >= 2, `handshake/data + sentinel captured, got ${JSON.stringify(a)}`);
    t.true(b.receivedByFilter >= a.receivedByFilter);
    t.is(a.droppedByKernel, 0);

    const final = await session.stop();
    t.deepEqual(await session.stop(), final);
    t.is(typeof final.droppedByKernel, 'number');
    t.is(final.droppedByKernel, 0);
    t.true(final.captured >= a.captured);
    t.true(statSync(file).size > 24, 'more than the pcap file header');
    t.deepEqual(pgrep(file), []);
    await t.throwsAsync(session.stats(), { message: /already stopped/ });
  });

  test.serial('flush without a sentinel option rejects clearly', async (t) => {
    const file = tmpFile(t);
    const session = await CaptureSession.start({ iface: 'lo', file, filter: 'udp and dst port 9' });
    t.teardown(() => session.stop().then(() => {}, () => {}));
    await t.throwsAsync(session.flush(), { message: /needs opts\.sentinel/ });
    await session.stop();
  });

  test.serial('stop falls back to SIGKILL when tcpdump does not exit on SIGINT', async (t) => {
    const file = tmpFile(t);
    const session = await CaptureSession.start({ iface: 'lo', file, filter: 'udp and dst port 9' });
    process.kill(session.pid, 'SIGSTOP'); // a stopped process ignores SIGINT until continued
    await t.throwsAsync(session.stop(200), { message: /without final counters.*signal SIGKILL/s });
    t.deepEqual(pgrep(file), []);
  });

  test.serial('bad interface rejects with tcpdump stderr and leaves no process', async (t) => {
    const file = tmpFile(t);
    const err = await t.throwsAsync(CaptureSession.start({ iface: 'zcprobe-nosuch0', file, filter: 'udp' }));
    t.regex(err.message, /exited before listening/);
    t.regex(err.message, /tcpdump stderr: .*zcprobe-nosuch0/);
    t.deepEqual(pgrep(file), []);
  });

  test.serial('start timeout kills tcpdump and rejects', async (t) => {
    const file = tmpFile(t);
    const err = await t.throwsAsync(CaptureSession.start({ iface: 'lo', file, filter: 'udp', startTimeoutMs: 1 }));
    t.regex(err.message, /did not print "listening on" within 1 ms/);
    t.deepEqual(pgrep(file), []);
  });

  test.serial('SIGKILLed parent: tcpdump dies via pdeathsig within 2 s', async (t) => {
    const file = tmpFile(t);
    const { child, tcpdumpPid } = await startChild(t, file);
    t.deepEqual(pgrep(file), [tcpdumpPid]);
    child.kill('SIGKILL');
    await exited(child);
    t.deepEqual(await waitNoTcpdump(file, 2000), []);
  });

  test.serial('SIGINTed parent: cleanup registry stops tcpdump and re-raises', async (t) => {
    const file = tmpFile(t);
    const { child, tcpdumpPid } = await startChild(t, file);
    t.deepEqual(pgrep(file), [tcpdumpPid]);
    child.kill('SIGINT');
    const { code, signal } = await exited(child);
    t.true(signal === 'SIGINT' || code === 130, `child ended with code ${code} signal ${signal}`);
    t.deepEqual(await waitNoTcpdump(file, 2000), []);
  });
}
