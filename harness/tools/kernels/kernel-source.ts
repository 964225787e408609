// A --kernel argument as a bootable kernel: a Debian package (apt-get download + dpkg-deb -x into the cache; the host's /boot is
// never touched), a .deb, or a vmlinuz with its modules beside it or in /lib/modules/<release>. "host" is the running kernel.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { bzImageReleaseOf } from './bzimage.ts';
import { run } from './exec.ts';
import { cacheDir } from './paths.ts';

export interface GuestKernel {
  kind: 'guest';
  /** what the user asked for */
  spec: string;
  /** a short column title: the package or file name */
  label: string;
  release: string;
  vmlinuz: string;
  /** …/lib/modules/<release>, with modules.dep */
  modulesDir: string;
  /** the cache key of this kernel's derived files (initramfs, modules image) */
  id: string;
}

export interface HostKernel {
  kind: 'host';
  spec: 'host';
  label: string;
  release: string;
}

export type KernelTarget = GuestKernel | HostKernel;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** "Package: x\nVersion: 1\nDepends: a, b | c" → fields of the first stanza */
export function parseControl(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let last = '';
  for (const line of text.split('\n')) {
    if (!line.trim()) {
      if (Object.keys(fields).length) break;
      continue;
    }
    if (/^\s/.test(line) && last) fields[last] += ` ${line.trim()}`;
    else {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) fields[(last = m[1]!)] = m[2]!;
    }
  }
  return fields;
}

/** The versioned kernel image a (meta-)package leads to: a package that depends on a kernel image
 * is a meta-package ("linux-image-cloud-amd64", "linux-image-6.12-cloud-amd64" → its dependency);
 * a kernel image package that depends on none is the image itself. Debug packages never count. */
export function kernelImageDependency(fields: Record<string, string>): string | undefined {
  const pkg = fields.Package ?? '';
  const isImage = (name: string) => /^linux-image-/.test(name) && !/-dbg$/.test(name);
  for (const alt of (fields.Depends ?? '').split(/[,|]/)) {
    const name = alt.trim().split(/\s/)[0] ?? '';
    if (isImage(name)) return name;
  }
  return isImage(pkg) ? pkg : undefined;
}

let updated = false;

function aptShow(name: string): Record<string, string> {
  let text: string;
  try {
    text = run('apt-cache', ['show', '--no-all-versions', name], { timeoutMs: 60_000 });
  } catch (e) {
    // a fresh machine may have no package lists yet: update once, then ask again
    if (updated) throw e;
    updated = true;
    run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
    text = run('apt-cache', ['show', '--no-all-versions', name], { timeoutMs: 60_000 });
  }
  const fields = parseControl(text);
  if (!fields.Package) throw new Error(`apt-cache show ${name}: no package (is the name right? apt-cache search linux-image)`);
  return fields;
}

/** Follows meta-packages to the versioned image package (at most 3 levels). */
function resolvePackage(name: string): { pkg: string; version: string } {
  let fields = aptShow(name);
  for (let i = 0; i < 3; i++) {
    const next = kernelImageDependency(fields);
    if (!next) throw new Error(`${fields.Package} is not a kernel image package and depends on none`);
    if (next === fields.Package) return { pkg: next, version: fields.Version! };
    fields = aptShow(next);
  }
  throw new Error(`${name}: more than 3 levels of meta-packages`);
}

/** The kernel inside an unpacked package tree: its vmlinuz, release and modules. */
function readUnpacked(dir: string, what: string): { vmlinuz: string; modulesDir: string; release: string } {
  const tree = join(dir, 'tree');
  const boot = join(tree, 'boot');
  const image = existsSync(boot) ? readdirSync(boot).find((f) => /^vmlinu[xz]-/.test(f)) : undefined;
  if (!image) throw new Error(`${what} has no boot/vmlinuz-*: not a kernel image package`);
  const rel = image.replace(/^vmlinu[xz]-/, '');
  const modulesDir = join(tree, 'lib', 'modules', rel);
  if (!existsSync(modulesDir)) throw new Error(`${what} has no lib/modules/${rel}`);
  return { vmlinuz: join(boot, image), modulesDir, release: rel };
}

/** Unpacks a kernel .deb into `dir` once (a .complete marker) and runs depmod on its modules. */
function unpackDeb(deb: string, dir: string): { vmlinuz: string; modulesDir: string; release: string } {
  if (existsSync(join(dir, '.complete'))) return readUnpacked(dir, basename(deb));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, 'tree.partial');
  run('dpkg-deb', ['-x', deb, tmp], { timeoutMs: 300_000 });
  renameSync(tmp, join(dir, 'tree'));
  const k = readUnpacked(dir, basename(deb));
  // the package ships no modules.dep: depmod writes it into the unpacked tree (-b), not the host's
  run('depmod', ['-b', join(dir, 'tree'), k.release], { timeoutMs: 300_000 });
  writeFileSync(join(dir, '.complete'), `${new Date().toISOString()}\n`);
  return k;
}

async function fromPackage(spec: string): Promise<GuestKernel> {
  const { pkg, version } = resolvePackage(spec);
  const id = `${pkg}_${version}`.replace(/[^A-Za-z0-9._+-]/g, '_');
  const dir = join(cacheDir(), 'kernels', id);
  if (!existsSync(join(dir, '.complete'))) {
    const debs = join(cacheDir(), 'debs');
    mkdirSync(debs, { recursive: true });
    // apt's sandbox user cannot write into a root-owned cache: download as root
    run('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', `${pkg}=${version}`], { cwd: debs, timeoutMs: 600_000 });
    const deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg}=${version} left no .deb in ${debs}`);
    unpackDeb(join(debs, deb), dir);
    rmSync(join(debs, deb), { force: true });
  }
  const k = readUnpacked(dir, pkg);
  return { kind: 'guest', spec, label: pkg.replace(/^linux-image-/, ''), release: k.release, vmlinuz: k.vmlinuz, modulesDir: k.modulesDir, id };
}

async function fromDebFile(path: string): Promise<GuestKernel> {
  const id = `deb-${(await sha256File(path)).slice(0, 16)}`;
  const k = unpackDeb(path, join(cacheDir(), 'kernels', id));
  return { kind: 'guest', spec: path, label: basename(path).replace(/_.*$/, '').replace(/^linux-image-/, ''), release: k.release, vmlinuz: k.vmlinuz, modulesDir: k.modulesDir, id };
}

async function fromVmlinuz(path: string): Promise<GuestKernel> {
  const rel = bzImageReleaseOf(path);
  if (!rel) throw new Error(`${path} is not a bzImage with a version string (give a vmlinuz, a .deb or a package name)`);
  const candidates = [resolve(dirname(path), '..', 'lib', 'modules', rel), join('/lib/modules', rel)];
  const modulesDir = candidates.find((d) => existsSync(join(d, 'modules.dep')));
  if (!modulesDir) throw new Error(`no modules for ${rel}: looked for modules.dep in ${candidates.join(' and ')}`);
  const st = statSync(path);
  const id = `vmlinuz-${createHash('sha256').update(`${resolve(path)}:${st.size}:${st.mtimeMs}:${modulesDir}`).digest('hex').slice(0, 16)}`;
  return { kind: 'guest', spec: path, label: rel, release: rel, vmlinuz: resolve(path), modulesDir, id };
}

/** Resolves one --kernel value. */
export async function resolveKernel(spec: string): Promise<KernelTarget> {
  if (spec === 'host') return { kind: 'host', spec: 'host', label: `host ${release()}`, release: release() };
  if (existsSync(spec)) return spec.endsWith('.deb') ? fromDebFile(spec) : fromVmlinuz(spec);
  if (spec.includes('/')) throw new Error(`${spec}: no such file`);
  return fromPackage(spec);
}
