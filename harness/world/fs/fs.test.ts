// The filesystem dimension leaves nothing behind (mount, loop device, image, directory) after close, Ctrl-C, an error, an exit
// without close, and after SIGKILL once scripts/cleanup-fs.sh ran (leaving a live run alone). Live: run under the live lock.
import type { CaseReport } from '../../verdict/case-report.ts';
import test, { type TestFn } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { claimedByMe } from '../../host/ledger.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testWithNeeds } from '../../../properties/helpers/requirements.ts';
import { applyEachAndCheck } from '../../case/mutations/check-expectation.ts';
import { parseMountInfo, mountOf } from './facts.ts';
import { openFilesystem } from './index.ts';
import { fsLeftovers, isClean } from './leftovers.ts';
import { LOOP_FILESYSTEMS, parseFsSpec, type FsFacts, type FsSpec } from '../../model/fs-spec.ts';

const BIN = fileURLToPath(new URL('../../../bin/zcprobe.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../../test-support/fixtures/open-fs-child.ts', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../../scripts/cleanup-fs.sh', import.meta.url));
const NEED: Record<string, 'fsExt4' | 'fsXfs' | 'fsBtrfs'> = { ext4: 'fsExt4', xfs: 'fsXfs', btrfs: 'fsBtrfs' };
// Serial: each test checks this process's leftovers, which a concurrent test's open fs would be.
const serial = test.serial as unknown as TestFn;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

serial('--fs dir:PATH: its source directory is in the run\'s ledger while open, not after close', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'fs-dir-ledger-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  const fs = await openFilesystem(`dir:${parent}`);
  t.true(fs.workDir.startsWith(`${parent}/zcprobe-fs-${process.pid}-`));
  t.true(claimedByMe().some((r) => r.kind === 'workdir' && r.path === fs.workDir), 'recorded');
  await fs.close();
  t.false(existsSync(fs.workDir));
  t.false(claimedByMe().some((r) => r.kind === 'workdir' && r.path === fs.workDir), 'released');
});

test('--fs values parse; anything else names the accepted ones', (t) => {
  for (const v of ['tmpfs', 'ext4', 'xfs', 'btrfs', 'dir:/var/tmp']) t.is(parseFsSpec(v), v as FsSpec);
  t.throws(() => parseFsSpec('zfs'), { message: /not one of tmpfs, ext4, xfs, btrfs, dir:PATH/ });
  t.throws(() => parseFsSpec('dir:relative'), { message: /absolute path/ });
});

test('mountinfo: the longest mount point holding a path wins; escapes are decoded', (t) => {
  const text = [
    '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
    '30 22 0:5 / /dev/shm rw,nosuid - tmpfs tmpfs rw,size=100k',
    '31 22 7:0 / /var/tmp/a\\040b rw - xfs /dev/loop0 rw,inode64',
  ].join('\n');
  const mounts = parseMountInfo(text);
  t.is(mounts[2]!.mountPoint, '/var/tmp/a b');
  t.is(mountOf('/dev/shm', mounts).type, 'tmpfs');
  t.is(mountOf('/', mounts).superOptions, 'rw');
});

/** Waits (bounded) for the leftovers of `pid` to go: a lazy unmount finishes when its last user exits. */
async function settled(pid: number, ms = 3000) {
  const end = Date.now() + ms;
  let l = fsLeftovers([pid]);
  while (!isClean(l) && Date.now() < end) {
    await sleep(100);
    l = fsLeftovers([pid]);
  }
  return l;
}

for (const spec of ['tmpfs', 'dir:/var/tmp', ...LOOP_FILESYSTEMS] as FsSpec[]) {
  const needs = NEED[spec] ? ['root' as const, NEED[spec]] : [];
  await testWithNeeds(serial, `${spec}: open records type, options and block size; close() leaves nothing`, needs, async (t) => {
    const fs = await openFilesystem(spec);
    let f: FsFacts;
    try {
      f = fs.facts();
      writeFileSync(join(fs.workDir, 'x'), 'x');
    } finally {
      await fs.close();
    }
    t.is(f.fs, spec);
    t.is(f.type, spec.startsWith('dir:') ? mountOf('/var/tmp').type : spec);
    t.true(f.blockSize >= 512, `block size ${f.blockSize}`);
    t.regex(f.mountOptions, /^r[ow]/);
    if (NEED[spec]) t.regex(f.image?.loopDevice ?? '', /^\/dev\/loop\d+$/);
    t.false(existsSync(fs.workDir), 'work directory removed');
    t.deepEqual(fsLeftovers([process.pid]), { mounts: [], loopDevices: [], dirs: [] });
    t.log(`${spec}: ${f.type} on ${f.source}, ${f.mountOptions} | ${f.superOptions}, block ${f.blockSize}`);
  });
}

for (const spec of LOOP_FILESYSTEMS) {
  await testWithNeeds(serial, `${spec}: each mutation applied to a file there leaves its name holding the mutation's expectation`, ['root', NEED[spec]!], async (t) => {
    const fs = await openFilesystem(spec);
    try {
      const { problems, unsupported } = applyEachAndCheck(fs.workDir);
      t.deepEqual(problems, []);
      for (const u of unsupported) t.log(`unsupported on ${spec}: ${u}`);
    } finally {
      await fs.close();
    }
  });
}

interface Child {
  pid: number;
  ready: { facts: FsFacts };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(sig: NodeJS.Signals): void;
}

/** The fixture with `spec` and `mode`, once it has its filesystem open (bounded: 60 s). */
async function child(spec: FsSpec, mode: 'wait' | 'throw' | 'exit'): Promise<Child> {
  const p = spawn(process.execPath, ['--import=tsx', FIXTURE, spec, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.once('exit', (code, signal) => r({ code, signal })));
  let out = '';
  let err = '';
  p.stderr.setEncoding('utf8').on('data', (d: string) => void (err += d));
  const ready = await new Promise<Child['ready']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fixture not ready in 60 s: ${err}`)), 60_000);
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)) as Child['ready']);
      }
    });
    void exited.then(() => reject(new Error(`fixture exited before ready: ${err}`)));
  });
  return { pid: p.pid!, ready, exited, kill: (sig) => void p.kill(sig) };
}

for (const spec of ['tmpfs', 'ext4'] as FsSpec[]) {
  const needs = spec === 'ext4' ? ['root' as const, 'fsExt4' as const] : [];
  await testWithNeeds(serial, `${spec}: Ctrl-C (SIGINT) — the cleanup registry unmounts, detaches and removes, with a file still open`, needs, async (t) => {
    const c = await child(spec, 'wait');
    t.false(isClean(fsLeftovers([c.pid])), 'the child has its filesystem');
    c.kill('SIGINT');
    const how = await c.exited;
    t.is(how.signal ?? String(how.code), 'SIGINT', 're-raised SIGINT after cleaning up');
    t.deepEqual(await settled(c.pid), { mounts: [], loopDevices: [], dirs: [] });
  });
  for (const mode of ['throw', 'exit'] as const) {
    await testWithNeeds(serial, `${spec}: ${mode === 'throw' ? 'an uncaught error' : 'exit without close()'} — the exit pass removes everything`, needs, async (t) => {
      const c = await child(spec, mode);
      const how = await c.exited;
      t.is(how.code, mode === 'throw' ? 1 : 0);
      t.deepEqual(await settled(c.pid), { mounts: [], loopDevices: [], dirs: [] });
    });
  }
}

await testWithNeeds(serial, 'SIGKILL leaves a mount, a loop device and an image; cleanup-fs.sh removes them and spares a live run', ['root', 'fsExt4', 'fsXfs'], async (t) => {
  const c = await child('ext4', 'wait');
  const live = await openFilesystem('xfs'); // this process is alive: the script must not touch it
  try {
    c.kill('SIGKILL');
    await c.exited;
    const left = fsLeftovers([c.pid]);
    t.true(left.mounts.length === 1 && left.loopDevices.length === 1 && left.dirs.length === 1, `SIGKILL left ${JSON.stringify(left)}`);
    const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 60_000 });
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /unmounted .*zcprobe-fs-/);
    t.regex(r.stdout, /detached \/dev\/loop\d+/);
    t.regex(r.stdout, /removed .*zcprobe-fs-/);
    t.deepEqual(await settled(c.pid), { mounts: [], loopDevices: [], dirs: [] });
    const mine = fsLeftovers([process.pid]);
    t.is(mine.mounts.length, 1, 'the live run\'s mount is still there');
    t.true(existsSync(live.workDir));
  } finally {
    await live.close();
  }
  t.deepEqual(fsLeftovers([process.pid]), { mounts: [], loopDevices: [], dirs: [] });
});

/** `zcprobe run ... --json` as a child; its pid, to check its leftovers after it exited. */
function zcprobeRun(...args: string[]): {
  status: number | null; lines: (CaseReport & { skipped?: string })[]; stderr: string; pid: number;
} {
  const r = spawnSync(process.execPath, [BIN, 'run', ...args, '--json'], { encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, lines: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as CaseReport & { skipped?: string }), stderr: r.stderr, pid: r.pid };
}

await testWithNeeds(serial, 'zcprobe run --fs ext4: every JSON line records the filesystem, its options and block size, and where the bytes are old/zero; nothing is left after the run', ['root', 'tcpdump', 'fsExt4'], async (t) => {
  const r = zcprobeRun('--method', 'sendfile', '--fs', 'ext4', '--mutation', 'truncate:600000', '--size', '1MiB', '--receiver-delay-ms', '50', '--repeat', '2');
  t.is(r.status, 0, r.stderr);
  t.is(r.lines.length, 2);
  for (const c of r.lines) {
    t.is(c.fs, 'ext4');
    t.is(c.filesystem?.type, 'ext4');
    t.regex(c.filesystem?.mountOptions ?? '', /^r[ow]/);
    t.true((c.filesystem?.blockSize ?? 0) >= 1024);
    t.regex(c.filesystem?.image?.loopDevice ?? '', /^\/dev\/loop\d+$/);
    t.is(c.mutation, 'truncate:600000');
    t.deepEqual(c.mutationChanges.changes, [{ start: 600000, end: 1048576, to: 'zero' }]);
    const classes = c.received.classes as { ranges: { start: number; end: number; class: string }[]; bytes: Record<string, number> };
    t.is(Object.values(classes.bytes).reduce((a, b) => a + b, 0), 1048576, 'the classes cover every byte');
    t.is(classes.bytes.other, 0, 'no byte the truncation cannot explain');
    t.true(classes.ranges.every((x) => x.class === 'old' || x.start >= 600000), `only bytes past the new end differ: ${JSON.stringify(classes.ranges)}`);
    t.not(c.verdict, 'inconclusive', c.reasons.join('; '));
    t.log(`${c.verdict}: received ${classes.ranges.map((x) => `${x.class} [${x.start},${x.end})`).join(' ')}; file afterwards ${JSON.stringify(c.fileAfter?.ranges)}`);
  }
  t.deepEqual(await settled(r.pid), { mounts: [], loopDevices: [], dirs: [] }, 'the run removed its loop image');
  const skip = zcprobeRun('--method', 'sendfile', '--fs', 'ext4', '--mutation', 'reflink-then-write', '--size', '4KiB');
  t.is(skip.status, 0, skip.stderr);
  t.regex(skip.lines[0]?.skipped ?? '', /FICLONE/, 'reflink on ext4 is skipped with the probed reason');
});
