// zcprobe wrap against the example programs (properties/fixtures/apps, built with cc -g): each buggy
// one is found on every connection with the finding's kind at the line it marks, and proven on the
// wire; each fixed twin is clean with no finding; over loopback and tun. Bad input and faults: a
// missing command, one that exits or never listens, a static binary, a crash under the shim. Nothing
// the run made survives it, nor a SIGKILL of zcprobe followed by scripts/cleanup.sh.
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIM } from '../harness/cli/wrap.ts';
import { stateDir } from '../harness/host/state-dir.ts';
import { workDirBase } from '../harness/host/workdir.ts';
import type { WrapConnectionReport } from '../harness/verdict/wrap-verdict.ts';
import { appsUnavailableReason, buildApp, expectedSite } from '../test-support/apps.ts';
import { missingNeeds, type Need } from './helpers/requirements.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const buildWhy = appsUnavailableReason() ?? (existsSync(SHIM) ? null : `the shim is not built (${SHIM}): npm run build:native`);
const uringWhy = appsUnavailableReason('uring-early-release');
let staticWhy: string | null = buildWhy;
if (!staticWhy) {
  try {
    buildApp('crash', { static: true });
  } catch {
    staticWhy = 'no static libc to build a static binary with (apt-get install libc6-dev)';
  }
}

type Printed = Omit<WrapConnectionReport, 'streams'>;
interface Ran { code: number | null; stdout: string; stderr: string; lines: Printed[]; ms: number }

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** `zcprobe wrap ARGS` as a user runs it, bounded. */
async function wrap(args: string[], timeoutMs = 120_000): Promise<Ran & { pid: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['bin/zcprobe.js', 'wrap', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  clearTimeout(timer);
  const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Printed);
  return { code, stdout, stderr, lines, ms: Date.now() - started, pid: child.pid! };
}

/** What a run with zcprobe pid `pid` may have left: its wrapped program (whose shim logs to that run's
 * work directory), namespaces, its ledger. */
function leftovers(pid: number): string[] {
  const out: string[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${p}/environ`, 'utf8').includes(`ZCSHIM_LOG=${workDirBase()}/zcprobe-${pid}-wrap-`)) out.push(`process ${p}`);
    } catch {
      /* gone */
    }
  }
  const ns = (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]!);
  out.push(...ns.filter((n) => n.startsWith(`zcprobe-${pid}-`)).map((n) => `netns ${n}`));
  const runs = join(stateDir(), 'runs');
  if (existsSync(runs)) out.push(...readdirSync(runs).filter((f) => f.startsWith(`${pid}-`)).map((f) => `ledger ${f}`));
  return out;
}

interface Fixture {
  app: string;
  /** extra program arguments after the port */
  args?: (dir: string) => string[];
  /** the finding every connection must show, proven on the wire; absent: clean, no finding */
  expect?: { kind: string };
  needs: Need[];
  why: string | null;
}

const ZC: Need[] = ['root', 'tcpdump', 'soZerocopy'];
const URING: Need[] = ['root', 'tcpdump', 'ioUringSendZc'];
const FIXTURES: Fixture[] = [
  { app: 'zc-refill', expect: { kind: 'write-in-flight' }, needs: ZC, why: buildWhy },
  { app: 'zc-refill-fixed', needs: ZC, why: buildWhy },
  { app: 'zc-free', expect: { kind: 'free' }, needs: ZC, why: buildWhy },
  { app: 'vmsplice-reuse', expect: { kind: 'write-in-flight' }, needs: ['root', 'tcpdump'], why: buildWhy },
  { app: 'vmsplice-ack', needs: ['root', 'tcpdump'], why: buildWhy },
  { app: 'sendfile-rewrite', args: (d) => [join(d, 'served')], expect: { kind: 'file-write' }, needs: ['root', 'tcpdump'], why: buildWhy },
  { app: 'uring-early-release', expect: { kind: 'write-in-flight' }, needs: URING, why: buildWhy ?? uringWhy },
  { app: 'uring-early-release', args: () => ['1048576', '--fixed'], needs: URING, why: buildWhy ?? uringWhy },
];

type Impl = (t: ExecutionContext) => Promise<void>;
const declared: { title: string; needs: Need[]; why: string | null; impl: Impl }[] = [];
function declare(title: string, needs: Need[], why: string | null, impl: Impl): void {
  declared.push({ title, needs, why, impl });
}

for (const transport of ['loopback', 'tun'] as const) {
  for (const f of FIXTURES) {
    const fixed = f.args?.('').includes('--fixed') ? ' --fixed' : '';
    const what = f.expect ? `found at its ${f.expect.kind} line and proven on every connection` : 'clean on every connection, no finding';
    declare(`wrap ${f.app}${fixed} over ${transport}: ${what}`, transport === 'tun' ? [...f.needs, 'tun'] : f.needs, f.why, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'zcprobe-wrapapp-'));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      const bin = buildApp(f.app);
      const port = await freePort();
      const connections = f.app === 'zc-refill' && transport === 'loopback' ? 3 : 2;
      const flags = ['--port', String(port), '--client-delay-ms', '300', '--connections', String(connections)];
      flags.push('--transport', transport, '--json');
      const r = await wrap([...flags, '--', bin, String(port), ...(f.args?.(dir) ?? [])]);
      t.is(r.code, 0, r.stderr);
      t.is(r.lines.length, connections, r.stdout + r.stderr);
      for (const c of r.lines) {
        const found = JSON.stringify(c.findings.map((x) => [x.kind, x.site, x.status]));
        const say = `connection ${c.connection}: ${c.verdict}/${c.outcome} ${found} ${c.reasons.join('; ')}`;
        if (!f.expect) {
          t.is(c.verdict, 'clean', say);
          t.deepEqual(c.findings, [], say);
          continue;
        }
        t.true(['corrupted-on-wire', 'corrupted-after-wire', 'corrupted-on-retransmit'].includes(c.verdict), say);
        t.is(c.outcome, 'proven', say);
        const hit = c.findings.find((x) => x.kind === f.expect!.kind);
        t.truthy(hit, say);
        const site = expectedSite(f.app, f.expect.kind);
        t.true(hit!.site?.endsWith(site), `${say}: site ${hit!.site}, expected ${site}`);
        t.is(hit!.status, 'proven', say);
        t.truthy(c.evidence, 'a non-clean connection has its evidence bundle');
      }
      t.deepEqual(leftovers(r.pid), []);
    });
  }
}

const FAULTS = 'wrap: a missing command, one that exits before listening, one that never listens: exit 1, bounded, with the reason';
declare(FAULTS, ['root', 'tcpdump'], buildWhy, async (t) => {
  const missing = await wrap(['--', '/nonexistent/zcprobe-nothing']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /command not found: \/nonexistent\/zcprobe-nothing/);
  const early = await wrap(['--', 'sh', '-c', 'echo it-went-wrong >&2; exit 3']);
  t.is(early.code, 1);
  t.regex(early.stderr, /exited before it listened \(exit code 3\)[\s\S]*it-went-wrong/);
  const never = await wrap(['--listen-timeout-ms', '700', '--', 'sleep', '30']);
  t.is(never.code, 1);
  t.regex(never.stderr, /did not listen on any TCP port within 700 ms/);
  t.true(never.ms < 15_000, `took ${never.ms} ms`);
  t.deepEqual(leftovers(never.pid), [], 'the program that never listened was stopped');
});

declare('wrap: a statically linked program is refused with a clear message', ['root'], staticWhy, async (t) => {
  const r = await wrap(['--', buildApp('crash', { static: true }), '0']);
  t.is(r.code, 1);
  t.regex(r.stderr, /is statically linked: the shim cannot attach/);
});

const CRASH = 'wrap: a program that crashes under the shim is reported with its signal and line, blamed on the program';
declare(CRASH, ['root', 'tcpdump'], buildWhy, async (t) => {
  const bin = buildApp('crash');
  const port = await freePort();
  const r = await wrap(['--port', String(port), '--json', '--', bin, String(port)]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /the program ended during the run \(killed by SIGSEGV\)/);
  t.regex(r.stderr, /crash: signal 11 in pid \d+, blamed on the program/);
  t.true(r.stderr.includes(expectedSite('crash', 'crash')), r.stderr);
  t.deepEqual(leftovers(r.pid), []);
});

const KILLED = 'wrap: SIGKILL of zcprobe mid-run leaves the program in the ledger; scripts/cleanup.sh leaves nothing';
declare(KILLED, ['root', 'tcpdump', 'tun'], buildWhy, async (t) => {
  const bin = buildApp('zc-refill-fixed');
  const port = await freePort();
  const args = ['bin/zcprobe.js', 'wrap', '--port', String(port), '--transport', 'tun', '--client-delay-ms', '20000'];
  args.push('--', bin, String(port));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  const ledger = join(stateDir(), 'runs');
  let recorded = false;
  for (let i = 0; i < 300 && !recorded; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const mine = existsSync(ledger) ? readdirSync(ledger).filter((f) => f.startsWith(`${child.pid}-`)) : [];
    recorded = mine.some((f) => readFileSync(join(ledger, f), 'utf8').includes('"kind": "process-group"'));
  }
  t.true(recorded, 'the wrapped program is in the run ledger');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  const clean = spawnSync('bash', ['scripts/cleanup.sh'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  t.is(clean.status, 0, clean.stderr);
  t.deepEqual(leftovers(child.pid!), []);
});

// Reasons first (the probes' results are cached: no real wait), then every test in one synchronous go.
for (const d of declared) d.why ??= await missingNeeds(d.needs);
for (const d of declared) {
  // one wrap run at a time: the client's delay and the captures must not compete with another run
  if (d.why) test.skip(`${d.title} [skipped: ${d.why}]`, () => undefined);
  else test.serial(d.title, d.impl);
}
