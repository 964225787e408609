// SIGINT / SIGTERM sent to the npm wrapper process alone (not its process group, as `kill <pid>`
// from another terminal or a CI runner's timeout does) stop `npm start`, `npm test` and
// `npm exec` (what npx runs) like Ctrl-C: the whole process tree exits, with 128 + the signal,
// and leaves no namespace, /dev/shm work dir or run ledger behind.
// (npx zcprobe itself is the same npm exec path; the test avoids it because, inside this
// repository, npx first installs the project into its cache and rebuilds the addon.)
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureUnavailableReason } from '../../harness/capture/tcpdump.ts';
import { stateDir } from '../../harness/host/state-dir.ts';
import { vethUnavailableReason } from '../../harness/world/transport/veth.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STOP_WITHIN_MS = 20_000;
const why = process.getuid?.() !== 0 ? 'needs root' : (await vethUnavailableReason()) ?? captureUnavailableReason(true);

const groupPids = (pgid: number): number[] =>
  (spawnSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' }).stdout ?? '').split('\n').map(Number).filter((n) => n > 0);
const ownedBy = (pids: Set<number>, names: string[]) => names.filter((n) => pids.has(Number(/^zcprobe-(\d+)-/.exec(n)?.[1])));
const netns = () => (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
const ledgers = () => (existsSync(join(stateDir(), 'runs')) ? readdirSync(join(stateDir(), 'runs')) : []);

async function until<T>(what: string, f: () => T | undefined, ms: number): Promise<T> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 50))) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }
}

/** Starts `argv` in a new process group, waits until one of its processes has a session work dir
 * in /dev/shm (the run is under way), signals the top process only, and checks what is left. */
async function stopsCleanly(t: import('ava').ExecutionContext, argv: string[], sig: 'SIGINT' | 'SIGTERM', env: NodeJS.ProcessEnv = {}): Promise<void> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const pgid = child.pid!;
  t.teardown(() => { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } });
  const exited = new Promise<number | null>((res) => child.once('exit', (code, s) => res(code ?? (s ? 128 + (s === 'SIGINT' ? 2 : 15) : null))));
  const seen = new Set<number>();
  await until('a session work dir of the run in /dev/shm', () => {
    for (const p of groupPids(pgid)) seen.add(p);
    return ownedBy(seen, readdirSync('/dev/shm')).length ? true : undefined;
  }, 60_000);
  for (const p of groupPids(pgid)) seen.add(p);
  const started = Date.now();
  process.kill(pgid, sig); // the wrapper alone
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_WITHIN_MS))]);
  t.not(code, 'timeout', `${argv.join(' ')} still running ${STOP_WITHIN_MS} ms after ${sig}; stderr: ${stderr}`);
  await until('the whole process group to exit', () => (groupPids(pgid).length === 0 ? true : undefined), 10_000);
  t.log(`${argv.slice(0, 3).join(' ')}: ${sig} → exit ${code} after ${Date.now() - started} ms`);
  t.is(code, sig === 'SIGINT' ? 130 : 143, `exit status says which signal stopped it; stderr: ${stderr}`);
  t.deepEqual(ownedBy(seen, readdirSync('/dev/shm')), [], 'no work dir left');
  t.deepEqual(ownedBy(seen, netns()), [], 'no namespace left');
  t.deepEqual(ledgers().filter((f) => seen.has(Number(f.split('-')[0]))), [], 'no run ledger left');
}

if (why) {
  test(`signals (skipped: ${why})`, (t) => t.pass());
} else {
  test.serial('SIGINT to npm alone stops npm start (veth)', (t) =>
    stopsCleanly(t, ['npm', 'start', '--', '--transport', 'veth', '--method', 'write', '--repeats', '50', '--cost-total', '0', '--out', join(ROOT, 'captures', `signals-test-${process.pid}`)], 'SIGINT'));

  test.serial('SIGTERM to npm alone stops npm test (ava interrupts its test processes)', (t) =>
    stopsCleanly(t, ['npm', 'test', '--', 'test/e2e/soak.test.ts'], 'SIGTERM', { ZCPROBE_SOAK_CASES: '100000' }));

  test.serial('SIGTERM to npm exec alone stops a zcprobe run (veth)', (t) =>
    stopsCleanly(t, ['npm', 'exec', '--', 'node', 'bin/zcprobe.js', 'run', '--transport', 'veth', '--method', 'write', '--size', '64KiB', '--repeat', '100000'], 'SIGTERM'));
}
