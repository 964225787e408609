// The guest's root disk: a Debian minbase with the runtime packages, the host's node and the project tree, cached at two levels
// (base, image) each keyed by a hash of its inputs; guests boot it as a qemu snapshot, so it is never written (docs/kernels.md).
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from './exec.ts';
import { cacheDir, PROJECT_ROOT } from './paths.ts';

/** What the suites need at run time inside the guest (kmod: modprobe for veth, tbf; busybox-static:
 * the initramfs's shell and insmod). */
export const GUEST_PACKAGES = ['busybox-static', 'ethtool', 'iproute2', 'kmod', 'liburing2', 'procps', 'tcpdump'];
const MIRROR = 'http://deb.debian.org/debian';
/** The addon and the C bench binary, built on the host (npm ci). */
const BUILT = ['build/Release/zcprobe_native.node', 'build/Release/zcbench'];

export interface RootImage {
  path: string;
  key: string;
  bytes: number;
  /** null when it came from the cache */
  built: { baseMs: number | null; imageMs: number } | null;
  /** the base root filesystem (its /bin/busybox goes into every initramfs) */
  baseDir: string;
}

const sha = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
};

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function hostRelease(): string {
  const m = /^VERSION_CODENAME=(\S+)$/m.exec(readFileSync('/etc/os-release', 'utf8'));
  if (!m) throw new Error('/etc/os-release names no VERSION_CODENAME: the guest image needs a Debian release to debootstrap');
  return m[1]!;
}

/** Project files that go into the image: tracked and untracked-but-not-ignored, as they are now. */
export function projectFiles(root = PROJECT_ROOT): string[] {
  const out = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, timeoutMs: 60_000 });
  return out.split('\0').filter((f) => f && existsSync(join(root, f)) && statSync(join(root, f)).isFile()).sort();
}

/** The image key: base key, node binary, project files (path + content, incl. the lockfile),
 * built binaries. node_modules is represented by package-lock.json. */
export async function imageKey(baseKey: string, node: string, root = PROJECT_ROOT): Promise<string> {
  const parts: string[] = [baseKey, await sha256File(node)];
  const built = BUILT.filter((b) => existsSync(join(root, b)));
  for (const f of [...projectFiles(root), ...built]) parts.push(f, await sha256File(join(root, f)));
  return sha(...parts).slice(0, 20);
}

export function baseKey(release: string, packages = GUEST_PACKAGES): string {
  return sha('minbase', release, MIRROR, ...[...packages].sort()).slice(0, 20);
}

function ensureBase(key: string, release: string, log: (l: string) => void): { dir: string; ms: number | null } {
  const dir = join(cacheDir(), `base-${key}`);
  if (existsSync(join(dir, 'rootfs', 'bin', 'busybox'))) return { dir: join(dir, 'rootfs'), ms: null };
  const t0 = performance.now();
  log(`kernels: debootstrap --variant=minbase ${release} (${GUEST_PACKAGES.join(', ')})`);
  const tmp = join(cacheDir(), `base-${key}.partial-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  run('debootstrap', ['--variant=minbase', `--include=${GUEST_PACKAGES.join(',')}`, release, join(tmp, 'rootfs'), MIRROR], { timeoutMs: 900_000 });
  // downloaded .debs are not needed in the guest
  const archives = join(tmp, 'rootfs', 'var', 'cache', 'apt', 'archives');
  for (const f of existsSync(archives) ? readdirSync(archives) : []) if (f.endsWith('.deb')) unlinkSync(join(archives, f));
  // another run may have finished the same base meanwhile: keep theirs
  if (existsSync(join(dir, 'rootfs', 'bin', 'busybox'))) rmSync(tmp, { recursive: true, force: true });
  else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  return { dir: join(dir, 'rootfs'), ms: performance.now() - t0 };
}

/** Copies to a new path; an existing one is unlinked first, since it may be a hard link into the base. */
function copyInto(src: string, dst: string): void {
  mkdirSync(dirname(dst), { recursive: true });
  rmSync(dst, { force: true });
  copyFileSync(src, dst);
}

/** Bytes under `dir` as du sees them. */
function duBytes(dir: string): number {
  return Number(run('du', ['-sb', dir], { timeoutMs: 120_000 }).split(/\s/)[0]);
}

/** An ext4 image of `dir`: used space + 25 % + `extraMiB` (the guest writes into a snapshot of it). */
export function ext4FromDir(dir: string, image: string, label: string, extraMiB: number): number {
  const bytes = Math.ceil((duBytes(dir) * 1.25) / (1 << 20)) + extraMiB;
  rmSync(image, { force: true });
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', label, '-d', dir, image, `${bytes}M`], { timeoutMs: 600_000 });
  return statSync(image).size;
}

/** Builds (or finds) the root image for the current project tree. */
export async function ensureRootImage(log: (l: string) => void): Promise<RootImage> {
  const release = hostRelease();
  const bk = baseKey(release);
  const base = ensureBase(bk, release, log);
  const key = await imageKey(bk, process.execPath);
  const images = join(cacheDir(), 'images');
  const path = join(images, `root-${key}.ext4`);
  if (existsSync(path)) return { path, key, bytes: statSync(path).size, built: null, baseDir: base.dir };
  const t0 = performance.now();
  log(`kernels: building the root image ${path}`);
  mkdirSync(images, { recursive: true });
  const staging = join(cacheDir(), `staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    // hard links: the base is not copied, and nothing below writes through them (only new paths)
    run('cp', ['-al', base.dir, staging], { timeoutMs: 300_000 });
    const opt = join(staging, 'opt', 'zcprobe');
    for (const f of projectFiles()) copyInto(join(PROJECT_ROOT, f), join(opt, f));
    for (const b of BUILT) if (existsSync(join(PROJECT_ROOT, b))) copyInto(join(PROJECT_ROOT, b), join(opt, b));
    run('cp', ['-a', join(PROJECT_ROOT, 'node_modules'), join(opt, 'node_modules')], { timeoutMs: 300_000 });
    copyInto(process.execPath, join(staging, 'usr', 'bin', 'node'));
    const tmp = `${path}.partial-${process.pid}`;
    ext4FromDir(staging, tmp, 'zcprobe-root', 512);
    renameSync(tmp, path);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  // keep this image and the one before it; older ones only take space
  const old = readdirSync(images).filter((f) => /^root-.*\.ext4$/.test(f) && f !== `root-${key}.ext4`)
    .map((f) => ({ f, t: statSync(join(images, f)).mtimeMs })).sort((a, b) => b.t - a.t).slice(1);
  for (const { f } of old) rmSync(join(images, f), { force: true });
  return { path, key, bytes: statSync(path).size, built: { baseMs: base.ms, imageMs: performance.now() - t0 }, baseDir: base.dir };
}
