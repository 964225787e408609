// Probes of the filesystem dimension, each done for real: attach a loop device; mkfs, mount, write,
// fsync and read back a file on each loop-image filesystem, then remove everything. Used by
// harness/world/probes.ts (doctor, test skip reasons).
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './commands.ts';
import { imageDir, openLoopFs } from './loop-image.ts';
import { FS_PREFIX, type LoopFs } from '../../model/fs-spec.ts';

export interface FsProbeOutcome {
  ok: boolean;
  detail: string;
  fix?: string;
}

const TIMEOUT_MS = 30_000;

/** Smallest images each mkfs accepts (sparse: they cost only what mkfs writes). */
const PROBE_BYTES: Record<LoopFs, number> = { ext4: 16 << 20, xfs: 300 << 20, btrfs: 128 << 20 };
const PACKAGE: Record<LoopFs, string> = { ext4: 'e2fsprogs', xfs: 'xfsprogs', btrfs: 'btrfs-progs' };

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

export async function probeLoopDevice(): Promise<FsProbeOutcome> {
  if (process.geteuid?.() !== 0) return { ok: false, detail: 'loop devices need root', fix: 'run as root' };
  const base = join(imageDir(), `${FS_PREFIX}${process.pid}-probe-loop-${randomBytes(4).toString('hex')}`);
  const image = join(base, 'probe.img');
  let loop = '';
  try {
    mkdirSync(base, { recursive: true });
    const fd = openSync(image, 'wx', 0o600);
    ftruncateSync(fd, 1 << 20);
    closeSync(fd);
    loop = (await run('losetup', ['--find', '--show', image], TIMEOUT_MS)).trim();
    return { ok: true, detail: `attached ${loop} to a 1 MiB image in ${imageDir()} and detached it` };
  } catch (e) {
    const why = firstLine(e);
    const fix = /not found/.test(why) ? 'apt-get install mount (losetup)' : 'modprobe loop; in a container: --privileged or pass /dev/loop-control and /dev/loop*';
    return { ok: false, detail: why, fix };
  } finally {
    if (loop) await run('losetup', ['-d', loop], TIMEOUT_MS).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
}

/** mkfs + mount + write/fsync/read back + unmount + detach + remove, on a tiny image. */
export async function probeLoopFs(kind: LoopFs): Promise<FsProbeOutcome> {
  if (process.geteuid?.() !== 0) return { ok: false, detail: `mounting ${kind} needs root`, fix: 'run as root' };
  let fs;
  try {
    fs = await openLoopFs(kind, { bytes: PROBE_BYTES[kind], tag: 'probe' });
  } catch (e) {
    const why = firstLine(e);
    const fix = /mkfs\.\S+ .*not found/.test(why) ? `apt-get install ${PACKAGE[kind]}` : /unknown filesystem type|wrong fs type/.test(why) ? `modprobe ${kind}` : /losetup/.test(why) ? 'see loopDevice' : undefined;
    return fix ? { ok: false, detail: why, fix } : { ok: false, detail: why };
  }
  try {
    const f = fs.facts();
    const path = join(fs.workDir, 'probe');
    const bytes = randomBytes(4096);
    writeFileSync(path, bytes, { flush: true });
    if (!readFileSync(path).equals(bytes)) return { ok: false, detail: `a file written on ${kind} read back different` };
    return { ok: true, detail: `mkfs.${kind} + mount on ${f.image?.loopDevice}: block size ${f.blockSize}, options ${f.mountOptions} | ${f.superOptions}; removed` };
  } catch (e) {
    return { ok: false, detail: `${kind} mounted but a file could not be written: ${firstLine(e)}` };
  } finally {
    await fs.close().catch(() => undefined);
  }
}
