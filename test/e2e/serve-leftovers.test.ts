// zcprobe serve leaves nothing behind: no server process, listening port, work dir, mount, namespace
// or ledger after success, a failed start, a server that dies mid-case (that case inconclusive),
// Ctrl-C, and SIGKILL + scripts/cleanup.sh (which finds the servers through the run ledger).
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureUnavailableReason } from '../../harness/capture/tcpdump.ts';
import { stateDir } from '../../harness/host/state-dir.ts';
import { makeServeExperiment } from '../../harness/model/serve-spec.ts';
import { serverUnavailable } from '../../harness/roles/server/index.ts';
import { ServerStartError } from '../../harness/roles/server/process.ts';
import { ServeSession } from '../../harness/session/serve-session.ts';
import { toServeCaseReport } from '../../harness/verdict/serve-report.ts';
import { vethUnavailableReason } from '../../harness/world/transport/veth.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ZCPROBE = join(ROOT, 'bin/zcprobe.js');
const CLEANUP = join(ROOT, 'scripts/cleanup.sh');
const why = process.getuid?.() !== 0 ? 'needs root' : serverUnavailable('nginx') ?? (await vethUnavailableReason()) ?? captureUnavailableReason(true);

/** Processes whose command line names a zcprobe serve work dir (the servers' configs live there). */
const servers = (): string[] =>
  readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      return /zcprobe-\d+-serve-/.test(cmd) && !cmd.includes('node') ? [`${p} ${cmd.trim()}`] : [];
    } catch {
      return [];
    }
  });
const listeners = (): string[] => (spawnSync('ss', ['-Hltn'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.trim().split(/\s+/)[3] ?? '').filter(Boolean).sort();
const out = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
function host() {
  return {
    servers: servers(),
    listeners: listeners(),
    netns: out('ip', 'netns', 'list').split('\n').map((l) => l.split(' ')[0]!).filter(Boolean).sort(),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.includes('zcprobe')).sort(),
    shm: readdirSync('/dev/shm').filter((n) => n.startsWith('zcprobe-')).sort(),
    ledgers: existsSync(join(stateDir(), 'runs')) ? readdirSync(join(stateDir(), 'runs')).sort() : [],
  };
}

async function settle(t: ExecutionContext, before: ReturnType<typeof host>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  let now = host();
  while (JSON.stringify(now) !== JSON.stringify(before) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    now = host();
  }
  t.deepEqual(now, before, what);
}

if (why) {
  test.skip(`serve leftovers [skipped: ${why}]`, (t) => t.fail());
} else {
  test.serial('a serve session: a case, a server that fails to start, a server killed mid-case (inconclusive); nothing left after close', async (t) => {
    const before = host();
    const session = await ServeSession.open({ transport: 'loopback', family: 4, fs: 'tmpfs' });
    try {
      const ok = toServeCaseReport(await session.run(makeServeExperiment({ server: 'nginx', size: 100_000, mutation: 'rename-replace' })));
      t.is(ok.verdict, 'clean');
      t.true(host().servers.length >= 2, 'nginx master and worker run during the session');
      // nginx from Debian is built without --with-file-aio: the start fails with its own words.
      const e = await t.throwsAsync(session.run(makeServeExperiment({ server: 'nginx', settings: ['aio=on'], size: 1000 })), { instanceOf: ServerStartError });
      t.regex(e.message, /aio.*(unsupported|not supported)|--- .*error\.log/s);
      t.log(e.message.split('\n').slice(0, 4).join(' | '));
      // The server dies while the client sleeps: the case says so instead of judging the bytes.
      const pending = session.run(makeServeExperiment({ server: 'apache2', size: 4 << 20, clientDelayMs: 1500, mutation: 'pwrite' }));
      await new Promise((r) => setTimeout(r, 800));
      const victims = servers().filter((s) => s.includes('apache2'));
      t.true(victims.length > 0, 'apache2 runs');
      for (const v of victims) process.kill(Number(v.split(' ')[0]), 'SIGKILL');
      const dead = toServeCaseReport(await pending);
      t.is(dead.verdict, 'inconclusive');
      t.log(dead.reasons.join('; '));
      t.true(dead.reasons.some((r) => /apache2 exited|wrote no access-log line|client:/.test(r)), dead.reasons.join('; '));
      // The next setting starts a fresh server on the same port.
      t.is(toServeCaseReport(await session.run(makeServeExperiment({ server: 'lighttpd', size: 100_000, mutation: 'rename-replace' }))).verdict, 'clean');
    } finally {
      await session.close();
    }
    await settle(t, before, 'no server, port, work dir or ledger left');
  });

  for (const [sig, expected] of [['SIGINT', 130], ['SIGKILL', null]] as const) {
    test.serial(`zcprobe serve (veth, ext4) stopped by ${sig}${sig === 'SIGKILL' ? ', then scripts/cleanup.sh' : ''}: servers, ports, mounts, namespaces and work dirs are gone`, async (t) => {
      const before = host();
      const child = spawn(process.execPath, [ZCPROBE, 'serve', '--server', 'nginx', '--transport', 'veth', '--fs', 'ext4', '--size', '64KiB', '--client-delay-ms', '500', '--repeat', '100', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      t.teardown(() => child.kill('SIGKILL'));
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exited = new Promise<number | null>((r) => child.once('exit', (code, s) => r(code ?? (s === 'SIGKILL' ? null : -1))));
      const end = Date.now() + 60_000;
      while (!stdout.includes('\n') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      t.truthy(stdout.includes('"verdict"'), `a first case ran; stderr: ${stderr}`);
      const during = host();
      t.true(during.servers.length >= 2 && during.mounts.length > before.mounts.length && during.netns.length > before.netns.length, JSON.stringify(during));
      child.kill(sig);
      t.is(await exited, expected, stderr);
      if (sig === 'SIGKILL') {
        t.true(host().servers.length >= 1, 'nothing stopped the server: it outlives a SIGKILLed zcprobe');
        const r = spawnSync('bash', [CLEANUP], { encoding: 'utf8', timeout: 60_000 });
        t.is(r.status, 0, r.stderr);
        t.regex(r.stdout, /process group \d+ \(nginx/);
        t.log(r.stdout.trim());
      }
      await settle(t, before, 'the host is as it was');
    });
  }
}
