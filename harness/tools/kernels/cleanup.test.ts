// Bounds on qemu: runQemu kills a guest that does not stop by itself at its limit (and leaves no
// state file); scripts/kernels/cleanup.sh kills a dead owner's qemu and removes its files, leaves a
// live owner's run alone, and never kills a pid that is not a qemu process.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { STATE_DIR } from './paths.ts';
import { runQemu } from './qemu.ts';

const SCRIPT = resolve(import.meta.dirname, '..', '..', '..', 'scripts', 'kernels', 'cleanup.sh');
const hasQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { stdio: 'ignore' }).status === 0;

function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const waitGone = async (pid: number) => {
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
};

(hasQemu ? test : test.skip)(`cleanup.sh kills a dead owner's qemu, removes its files, keeps a live owner's${hasQemu ? '' : ' (needs qemu-system-x86_64)'}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-kernels-cleanup-'));
  const state = join(dir, 'state');
  const cache = join(dir, 'cache');
  mkdirSync(state);
  mkdirSync(join(cache, 'runs'), { recursive: true });
  // an idle qemu with no machine (-S: stopped before it runs anything): a real qemu-system process
  const qemu = spawn('qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-display', 'none', '-S'], { stdio: 'ignore' });
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const dead = deadPid();
    const leftFile = join(dir, 'job.ext4');
    const keptFile = join(dir, 'kept.ext4');
    writeFileSync(leftFile, 'x');
    writeFileSync(keptFile, 'x');
    writeFileSync(join(state, 'kernels-1-1.state'), `owner=${dead}\nqemu=${qemu.pid}\nfile=${leftFile}\n`);
    writeFileSync(join(state, 'kernels-2-1.state'), `owner=${dead}\nqemu=${sleeper.pid}\n`);
    writeFileSync(join(state, 'kernels-3-1.state'), `owner=${process.pid}\nqemu=${qemu.pid}\nfile=${keptFile}\n`);
    mkdirSync(join(cache, 'runs', `${dead}-1`));
    mkdirSync(join(cache, 'runs', `${process.pid}-1`));
    const r = spawnSync('bash', [SCRIPT, cache], { env: { ...process.env, ZCPROBE_STATE_DIR: state }, encoding: 'utf8', timeout: 30_000 });
    t.is(r.status, 0, r.stderr);
    t.true(await waitGone(qemu.pid!), 'the dead owner\'s qemu was killed');
    t.true(alive(sleeper.pid!), 'a pid that is not qemu is never killed');
    t.false(existsSync(leftFile));
    t.true(existsSync(keptFile), 'a live owner\'s files stay');
    t.false(existsSync(join(state, 'kernels-1-1.state')));
    t.true(existsSync(join(state, 'kernels-3-1.state')));
    t.false(existsSync(join(cache, 'runs', `${dead}-1`)));
    t.true(existsSync(join(cache, 'runs', `${process.pid}-1`)));
    t.regex(r.stdout, /killed qemu \d+ \(owner \d+ is gone\)/);
  } finally {
    qemu.kill('SIGKILL');
    sleeper.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

(hasQemu ? test : test.skip)(`runQemu: a qemu that never stops is killed at its limit and reported as a timeout${hasQemu ? '' : ' (needs qemu-system-x86_64)'}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-kernels-bound-'));
  try {
    // -S: a machine that never starts, the stand-in for a hung guest
    const idle = ['-machine', 'none', '-nodefaults', '-display', 'none', '-S'];
    const r = await runQemu(idle, { timeoutMs: 1500, tmpDir: dir, tempFiles: [] });
    t.is(r.end, 'timeout');
    t.is(r.signal, 'SIGKILL');
    t.true(r.ms >= 1500 && r.ms < 10_000, `${r.ms} ms`);
    const stopped = await runQemu(idle, { timeoutMs: 30_000, tmpDir: dir, tempFiles: [], until: () => true });
    t.is(stopped.end, 'stopped');
    const mine = existsSync(STATE_DIR) ? spawnSync('sh', ['-c', `ls ${STATE_DIR} | grep -c "^kernels-${process.pid}-" || true`], { encoding: 'utf8' }).stdout.trim() : '0';
    t.is(mine, '0', 'no state file left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
