// The preload shim is transparent: a correct program that uses every wrapped path (sends, MSG_ZEROCOPY
// and its completions, vmsplice (one the pipe takes only part of, then a write past it), tee, sendfile,
// its own SIGSEGV handler, fork) prints the same and exits the same with and without it. A program's
// own crash still kills it with its signal, and the shim's log names the crashing line; a forked child
// writes its own log; a static binary is recognised.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readShimLogs } from '../../harness/capture/shim-log.ts';
import { formatFrame, isDynamicElf, symbolize } from '../../harness/capture/symbols.ts';
import { SHIM } from '../../harness/cli/wrap.ts';
import { appsUnavailableReason, buildApp, expectedSite } from '../../test-support/apps.ts';

const why = appsUnavailableReason() ?? (existsSync(SHIM) ? null : `the shim is not built (${SHIM}): npm run build:native`);
const maybe = why ? test.skip : test;
const title = (s: string) => (why ? `${s} [skipped: ${why}]` : s);
let staticWhy = why;
if (!staticWhy) {
  try {
    buildApp('crash', { static: true });
  } catch {
    staticWhy = 'no static libc to build a static binary with (apt-get install libc6-dev)';
  }
}

function logDir(t: import('ava').ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'zcprobe-shimtest-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

maybe(title('a correct program prints the same and exits with the same code under the shim'), (t) => {
  const bin = buildApp('transparent');
  const plain = spawnSync(bin, { encoding: 'utf8', timeout: 20000 });
  const dir = logDir(t);
  const shimmed = spawnSync(bin, { encoding: 'utf8', timeout: 20000, env: { ...process.env, LD_PRELOAD: SHIM, ZCSHIM_LOG: dir } });
  t.is(plain.status, 42, plain.stderr);
  t.regex(plain.stdout, /received=79136 sum=[0-9a-f]{8} completions=1 segv-handled=1 child=7/);
  t.is(shimmed.stdout, plain.stdout);
  t.is(shimmed.status, plain.status);
  t.is(shimmed.stderr, plain.stderr);
  const logs = readShimLogs(dir);
  t.is(logs.length, 2, 'the forked child has a log of its own');
  const parent = logs.find((l) => l.events.some((e) => e.ev === 'conn'))!;
  const kinds = new Set(parent.events.flatMap((e) => (e.ev === 'range' ? [e.kind] : [])));
  t.deepEqual([...kinds].sort(), ['file', 'msg_zerocopy', 'vmsplice'], 'it saw the zero-copy paths');
  t.false(parent.events.some((e) => e.ev === 'finding' || (e.ev === 'write' && e.by === 'fault')), 'a correct program has no finding');
  const exit = parent.events.find((e) => e.ev === 'exit');
  t.true(exit?.ev === 'exit' && exit.lingerOpens >= 1, 'its write past what a vmsplice took opened pages kept read-only ahead');
  // ZCSHIM_LINGER=0: the same, with no page kept read-only past what is in flight
  const dir0 = logDir(t);
  const env0 = { ...process.env, LD_PRELOAD: SHIM, ZCSHIM_LOG: dir0, ZCSHIM_LINGER: '0' };
  const off = spawnSync(bin, { encoding: 'utf8', timeout: 20000, env: env0 });
  t.is(off.stdout, plain.stdout);
  t.is(off.status, plain.status);
  const parent0 = readShimLogs(dir0).find((l) => l.events.some((e) => e.ev === 'conn'))!;
  const start0 = parent0.events.find((e) => e.ev === 'start');
  const exit0 = parent0.events.find((e) => e.ev === 'exit');
  t.true(start0?.ev === 'start' && start0.linger === 0 && exit0?.ev === 'exit' && exit0.lingerOpens === 0, 'lingering off, and recorded');
  const released = parent.events.some((e) => e.ev === 'release' && e.how.startsWith('zc-completion'));
  t.true(released, 'the completion the program read released its range');
});

maybe(title("a program's own crash kills it with the same signal, and the shim's log names the line"), async (t) => {
  const bin = buildApp('crash');
  const dir = logDir(t);
  const crashOnce = async (env: NodeJS.ProcessEnv) => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(bin, [String(port)], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, s) => r(s)));
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const s = createConnection(port, '127.0.0.1', () => { s.destroy(); r(true); }).on('error', () => r(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return exited;
  };
  t.is(await crashOnce({}), 'SIGSEGV');
  t.is(await crashOnce({ LD_PRELOAD: SHIM, ZCSHIM_LOG: dir }), 'SIGSEGV');
  const log = readShimLogs(dir)[0]!;
  const crash = log.events.find((e) => e.ev === 'crash');
  if (crash?.ev !== 'crash') return t.fail('no crash event');
  t.is(crash.sig, 11);
  t.is(crash.inShim, 0, 'blamed on the program');
  const frames = symbolize(log.maps, [{ bt: crash.bt, exact: true }])[0]!;
  t.true(frames[0]!.line?.endsWith(expectedSite('crash', 'crash')), frames.map(formatFrame).join('\n'));
});

const STATIC = 'a statically linked binary is recognised (the shim cannot attach to it)';
(staticWhy ? test.skip : test)(staticWhy ? `${STATIC} [skipped: ${staticWhy}]` : STATIC, (t) => {
  t.true(isDynamicElf(buildApp('crash')));
  t.false(isDynamicElf(buildApp('crash', { static: true })));
  t.is(isDynamicElf('/bin/sh'), true);
  t.is(isDynamicElf(join(import.meta.dirname, 'shim.test.ts')), null, 'not an ELF file: a script');
});
