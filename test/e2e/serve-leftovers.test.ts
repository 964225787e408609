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
const serversMissing = serverUnavailable('nginx') ?? serverUnavailable('apache2') ?? serverUnavailable('lighttpd');
const why = process.getuid?.() !== 0 ? 'needs root' : serversMissing ?? (await vethUnavailableReason()) ?? captureUnavailableReason(true);

/** What a zcprobe process `pid` can leave on the host, by the names that carry its pid (other runs
 * on this host come and go meanwhile), and whether the server's port still listens. */
function host(pid: number, port?: number) {
  const mine = (name: string) => name.includes(`zcprobe-${pid}-`) || name.includes(`zcprobe-fs-${pid}-`);
  // A server's master names its work dir; its workers ("nginx: worker process") are in its group.
  const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      return [{ pid: Number(p), pgid, cmd: readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() }];
    } catch {
      return [];
    }
  });
  const groups = new Set(procs.filter((p) => mine(p.cmd) && /nginx|apache2|lighttpd/.test(p.cmd.split(' ')[0] ?? '')).map((p) => p.pgid));
  const servers = procs.filter((p) => groups.has(p.pgid)).map((p) => `${p.pid} ${p.cmd}`);
  const ss = port === undefined ? '' : (spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '');
  const listening = ss.split('\n').filter(Boolean);
  return {
    servers,
    listening,
    netns: out('ip', 'netns', 'list').split('\n').map((l) => l.split(' ')[0]!).filter(mine),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter(mine),
    shm: readdirSync('/dev/shm').filter(mine),
    ledgers: existsSync(join(stateDir(), 'runs')) ? readdirSync(join(stateDir(), 'runs')).filter((f) => f.startsWith(`${pid}-`)) : [],
  };
}
const out = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
const EMPTY = { servers: [], listening: [], netns: [], mounts: [], shm: [], ledgers: [] };

async function settle(t: ExecutionContext, pid: number, port: number | undefined, what: string): Promise<void> {
  const end = Date.now() + 5000;
  let now = host(pid, port);
  while (JSON.stringify(now) !== JSON.stringify(EMPTY) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    now = host(pid, port);
  }
  t.deepEqual(now, EMPTY, what);
}

if (why) {
  test.skip(`serve leftovers [skipped: ${why}]`, (t) => t.fail());
} else {
  const sessionTitle = 'a serve session: a case, a server that fails to start, one killed mid-case (inconclusive); nothing left behind';
  test.serial(sessionTitle, async (t) => {
    const session = await ServeSession.open({ transport: 'loopback', family: 4, fs: 'tmpfs' });
    const port = session.port;
    try {
      const ok = toServeCaseReport(await session.run(makeServeExperiment({ server: 'nginx', size: 100_000, mutation: 'rename-replace' })));
      t.is(ok.verdict, 'clean');
      t.true(host(process.pid).servers.length >= 2, 'nginx master and worker run during the session');
      // nginx from Debian is built without --with-file-aio: the start fails with its own words.
      const e = await t.throwsAsync(
        session.run(makeServeExperiment({ server: 'nginx', settings: ['aio=on'], size: 1000 })),
        { instanceOf: ServerStartError },
      );
      t.regex(e.message, /aio.*(unsupported|not supported)|--- .*error\.log/s);
      t.log(e.message.split('\n').slice(0, 4).join(' | '));
      // The server dies while the client sleeps: the case says so instead of judging the bytes.
      const pending = session.run(makeServeExperiment({ server: 'apache2', size: 4 << 20, clientDelayMs: 1500, mutation: 'pwrite' }));
      await new Promise((r) => setTimeout(r, 800));
      const victims = host(process.pid).servers.filter((s) => s.includes('apache2'));
      t.true(victims.length > 0, 'apache2 runs');
      for (const v of victims) process.kill(Number(v.split(' ')[0]), 'SIGKILL');
      const dead = toServeCaseReport(await pending);
      t.is(dead.verdict, 'inconclusive');
      t.log(dead.reasons.join('; '));
      t.true(dead.reasons.some((r) => /apache2 exited|wrote no access-log line|client:/.test(r)), dead.reasons.join('; '));
      // The next setting starts a fresh server on the same port.
      t.is(
        toServeCaseReport(await session.run(makeServeExperiment({
          server: 'lighttpd',
          size: 100_000,
          mutation: 'rename-replace',
        }))).verdict,
        'clean',
      );
    } finally {
      await session.close();
    }
    await settle(t, process.pid, port, 'no server, port, work dir or ledger left');
  });

  for (const sig of ['SIGINT', 'SIGKILL'] as const) {
    const how = `${sig}${sig === 'SIGKILL' ? ', then scripts/cleanup.sh' : ''}`;
    test.serial(`zcprobe serve (veth, ext4) stopped by ${how}: servers, ports, mounts, namespaces and work dirs are gone`, async (t) => {
      const child = spawn(
        process.execPath,
        [
          ZCPROBE,
          'serve',
          '--server',
          'nginx',
          '--transport',
          'veth',
          '--fs',
          'ext4',
          '--size',
          '64KiB',
          '--client-delay-ms',
          '500',
          '--repeat',
          '100',
          '--json',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      t.teardown(() => child.kill('SIGKILL'));
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exited = new Promise<string>((r) => child.once('exit', (code, s) => r(s ?? `exit ${code}`)));
      const end = Date.now() + 60_000;
      while (!stdout.includes('\n') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      t.truthy(stdout.includes('"verdict"'), `a first case ran; stderr: ${stderr}`);
      const pid = child.pid!;
      const port = (JSON.parse(stdout.split('\n')[0]!) as { connection: { srcPort: number } }).connection.srcPort;
      const during = host(pid, port);
      t.true(
        during.servers.length >= 2 && during.mounts.length > 0 && during.netns.length > 0 && during.listening.length > 0,
        JSON.stringify(during),
      );
      child.kill(sig);
      // SIGINT: zcprobe cleans up, then re-raises the signal (exit 130 from a shell)
      t.is(await exited, sig, stderr);
      if (sig === 'SIGKILL') {
        t.true(host(pid).servers.length >= 1, 'nothing stopped the server: it outlives a SIGKILLed zcprobe');
        const r = spawnSync('bash', [CLEANUP], { encoding: 'utf8', timeout: 60_000 });
        t.is(r.status, 0, r.stderr);
        t.regex(r.stdout, /process group \d+ \(nginx/);
        t.log(r.stdout.trim());
      }
      await settle(t, pid, port, 'nothing of the run is left');
    });
  }
}
