// ext4, XFS and btrfs on a loop device: a sparse image under /var/tmp (not /dev/shm: that is RAM) in zcprobe-fs-<pid>-<random>,
// formatted, attached and mounted; close and the exit hooks unmount (lazily if busy), detach and remove (docs/filesystems.md).
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync, ftruncateSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { registerCleanup } from '../../host/exit-hooks.ts';
import { parseSize } from '../../model/experiment.ts';
import { run, runSync } from './commands.ts';
import { factsOf, parseMountInfo } from './facts.ts';
import { FS_PREFIX, type Filesystem, type LoopFs } from '../../model/fs-spec.ts';

/** Bound on each mkfs/losetup/mount; teardown steps get their own bound. */
const SETUP_TIMEOUT_MS = 60_000;
const TEARDOWN_TIMEOUT_MS = 20_000;

/** Sparse: only what mkfs and the cases write takes disk space. XFS needs at least 300 MB. */
export const DEFAULT_IMAGE_BYTES = 512 * 1024 * 1024;

export function imageDir(): string {
  return process.env.ZCPROBE_FS_IMAGE_DIR ?? '/var/tmp';
}

export function imageBytes(): number {
  const v = process.env.ZCPROBE_FS_IMAGE_SIZE;
  return v ? parseSize(v) : DEFAULT_IMAGE_BYTES;
}

/** mkfs arguments: quiet, overwrite; ext4 initialises its inode tables and journal now, so no
 * background ext4lazyinit writes disturb the cases' timing. */
const MKFS: Record<LoopFs, string[]> = {
  ext4: ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0'],
  xfs: ['-q', '-f'],
  btrfs: ['-q', '-f'],
};

function isMounted(mountPoint: string): boolean {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).some((m) => m.mountPoint === mountPoint);
}

interface State {
  base: string;
  image: string;
  mnt: string;
  loop: string | null;
  mounted: boolean;
}

/** Undoes whatever of the setup happened, synchronously (also usable in the exit pass). Returns
 * what could not be undone; a lazy unmount counts as done (the kernel finishes it when the last
 * user lets go, and the loop device, detached with autoclear, goes with it). */
function teardown(s: State): string[] {
  const problems: string[] = [];
  if (s.mounted || isMounted(s.mnt)) {
    if (!runSync('umount', [s.mnt], TEARDOWN_TIMEOUT_MS).ok) {
      const lazy = runSync('umount', ['-l', s.mnt], TEARDOWN_TIMEOUT_MS);
      if (!lazy.ok) problems.push(`umount ${s.mnt}: ${lazy.output}`);
    }
    s.mounted = false;
  }
  if (s.loop) {
    const d = runSync('losetup', ['-d', s.loop], TEARDOWN_TIMEOUT_MS);
    if (!d.ok) problems.push(`losetup -d ${s.loop}: ${d.output}`);
    s.loop = null;
  }
  rmSync(s.base, { recursive: true, force: true });
  return problems;
}

export interface LoopFsOptions {
  /** image size in bytes (default ZCPROBE_FS_IMAGE_SIZE or 512 MiB) */
  bytes?: number;
  /** where the image directory goes (default ZCPROBE_FS_IMAGE_DIR or /var/tmp) */
  dir?: string;
  /** a word in the directory name (probes say "probe") */
  tag?: string;
}

export async function openLoopFs(kind: LoopFs, opts: LoopFsOptions = {}): Promise<Filesystem> {
  const bytes = opts.bytes ?? imageBytes();
  const base = join(opts.dir ?? imageDir(), `${FS_PREFIX}${process.pid}-${opts.tag ? opts.tag + '-' : ''}${kind}-${randomBytes(4).toString('hex')}`);
  const s: State = { base, image: join(base, `${kind}.img`), mnt: join(base, 'mnt'), loop: null, mounted: false };
  mkdirSync(s.mnt, { recursive: true });
  const unregister = registerCleanup(`${kind} image ${base}`, () => void teardown(s));
  try {
    const fd = openSync(s.image, 'wx', 0o600);
    try {
      ftruncateSync(fd, bytes);
    } finally {
      closeSync(fd);
    }
    await run(`mkfs.${kind}`, [...MKFS[kind], s.image], SETUP_TIMEOUT_MS);
    s.loop = (await run('losetup', ['--find', '--show', s.image], SETUP_TIMEOUT_MS)).trim();
    if (!s.loop.startsWith('/dev/')) throw new Error(`losetup --find --show printed "${s.loop}"`);
    await run('mount', ['-t', kind, s.loop, s.mnt], SETUP_TIMEOUT_MS);
    s.mounted = true;
  } catch (e) {
    teardown(s);
    unregister();
    throw e;
  }
  const image = { path: s.image, bytes, loopDevice: s.loop };
  const facts = factsOf(kind, s.mnt, image);
  if (facts.type !== kind) {
    teardown(s);
    unregister();
    throw new Error(`mounted ${s.loop} on ${s.mnt} but mountinfo says ${facts.type}, not ${kind}`);
  }
  let closed = false;
  return {
    spec: kind,
    workDir: s.mnt,
    facts: () => facts,
    async close() {
      if (closed) return;
      closed = true;
      const problems = teardown(s);
      unregister();
      if (problems.length) throw new Error(`${kind} image ${base} not fully removed: ${problems.join('; ')}`);
    },
  };
}
