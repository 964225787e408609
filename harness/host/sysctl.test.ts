// Host-wide sysctl bookkeeping with two real zcprobe processes overriding fs.lease-break-time at
// the same time, in both orders, one of them SIGKILLed: the host's own value is what comes back.
// Root only (writes /proc/sys); every test ends by checking the host value is untouched.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { drive, type Driven } from '../../test-support/fixtures/child.ts';
import { stateDir } from './state-dir.ts';
import { readSysctl, setSysctl } from './sysctl.ts';

const KEY = 'fs/lease-break-time';
const CHILD = fileURLToPath(new URL('../../test-support/fixtures/host-child.ts', import.meta.url));
const CLEANUP = fileURLToPath(new URL('../../scripts/cleanup.sh', import.meta.url));
const run = promisify(execFile);

const why = process.getuid?.() !== 0 ? 'needs root (writes /proc/sys)' : !existsSync(`/proc/sys/${KEY}`) ? `no /proc/sys/${KEY}` : null;
const host = why ? '' : readSysctl(KEY);
// Two values different from the host's and from each other, both ≥ 1.
const [A = '3', B = '2'] = ['3', '2', '4', '5'].filter((v) => v !== host);

const records = (): string[] => {
  try {
    return readdirSync(`${stateDir()}/sysctl`).filter((n) => n.startsWith(encodeURIComponent(KEY)));
  } catch {
    return [];
  }
};

const children: Driven[] = [];
const spawnChild = (): Driven => {
  const c = drive(CHILD);
  children.push(c);
  return c;
};
test.afterEach.always(() => {
  for (const c of children.splice(0)) c.child.kill('SIGKILL');
});
test.after.always((t) => {
  if (!why) t.is(readSysctl(KEY), host, 'the host value is back');
});

if (why) {
  test(`sysctl bookkeeping (skipped: ${why})`, (t) => t.pass());
} else {
  test.serial('two runs override at once: the newest value is in effect, the host value comes back after the last (A leaves first)', async (t) => {
    const a = spawnChild();
    const b = spawnChild();
    t.like(await a.ask(`set ${KEY} ${A}`), { ok: true, previous: host, now: A });
    t.like(await b.ask(`set ${KEY} ${B}`), { ok: true, previous: host, now: B }, "B records the host's value, not A's override");
    t.like(await a.ask('restore'), { now: B }, 'A leaving keeps B\'s value: B is still running');
    t.like(await b.ask('restore'), { now: host }, 'the last one out restores the host value');
    t.deepEqual(records(), [], 'no record left');
  });

  test.serial('two runs override at once (B leaves first): A gets its value back, then the host its own', async (t) => {
    const a = spawnChild();
    const b = spawnChild();
    await a.ask(`set ${KEY} ${A}`);
    await b.ask(`set ${KEY} ${B}`);
    t.like(await b.ask('restore'), { now: A });
    t.like(await a.ask('restore'), { now: host });
    t.deepEqual(records(), []);
  });

  test.serial('a run SIGKILLed during its override: the next run still learns the host value, and restores it', async (t) => {
    const a = spawnChild();
    await a.ask(`set ${KEY} ${A}`);
    a.child.kill('SIGKILL');
    await a.exited;
    t.is(readSysctl(KEY), A, 'nothing could restore it at SIGKILL');
    const b = spawnChild();
    t.like(await b.ask(`set ${KEY} ${B}`), { previous: host, now: B }, 'original taken from the record, not the leftover value');
    t.like(await b.ask('restore'), { now: host });
    t.deepEqual(records(), []);
  });

  test.serial('a run SIGKILLed during its override: scripts/cleanup.sh puts the host value back', async (t) => {
    const a = spawnChild();
    await a.ask(`set ${KEY} ${A}`);
    a.child.kill('SIGKILL');
    await a.exited;
    t.is(readSysctl(KEY), A);
    const { stdout } = await run('bash', [CLEANUP], { timeout: 30_000 });
    t.regex(stdout, new RegExp(`sysctl ${KEY}: restored ${host}`));
    t.is(readSysctl(KEY), host);
    t.deepEqual(records(), []);
  });

  test.serial("cleanup leaves a live run's override alone", async (t) => {
    const a = spawnChild();
    await a.ask(`set ${KEY} ${A}`);
    const { stdout } = await run('bash', [CLEANUP], { timeout: 30_000 });
    t.notRegex(stdout, /lease-break-time/);
    t.is(readSysctl(KEY), A);
    t.like(await a.ask('restore'), { now: host });
  });

  test.serial('a value changed by someone else meanwhile is left alone at the end (with a warning)', (t) => {
    const o = setSysctl(KEY, A);
    try {
      writeFileSync(`/proc/sys/${KEY}`, B);
    } finally {
      o.restore();
    }
    t.is(readSysctl(KEY), B, 'the outside change stands');
    writeFileSync(`/proc/sys/${KEY}`, host); // this test's own change
    t.deepEqual(records(), []);
  });

  test.serial('a process may hold two overrides of one key; refused values change nothing', (t) => {
    const o1 = setSysctl(KEY, A);
    const o2 = setSysctl(KEY, B);
    t.is(o2.previous, host);
    o2.restore();
    t.is(readSysctl(KEY), A);
    o1.restore();
    o1.restore();
    t.is(readSysctl(KEY), host);
    t.throws(() => setSysctl(KEY, 0), { message: /refusing/ });
    t.deepEqual(records(), []);
  });
}
