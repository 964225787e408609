// What a process's filesystems left behind: mounts, loop devices and directories whose name carries
// zcprobe-fs-<pid>- (harness/world/fs/loop-image.ts, tmpfs.ts). For tests and the doctor's leftovers check.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountInfo } from './facts.ts';
import { imageDir } from './loop-image.ts';
import { FS_PREFIX } from '../../model/fs-spec.ts';

const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };

export interface FsLeftovers {
  mounts: string[];
  loopDevices: string[];
  dirs: string[];
}

/** Leftovers of the given pids (all zcprobe runs when omitted). */
export function fsLeftovers(pids?: number[]): FsLeftovers {
  const mark = (s: string) => (pids ? pids.some((p) => s.includes(`${FS_PREFIX}${p}-`)) : new RegExp(`${FS_PREFIX}\\d+-`).test(s));
  const mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).map((m) => m.mountPoint).filter(mark);
  const list = spawnSync('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'], { env: ENV, encoding: 'utf8', timeout: 10_000 });
  const loopDevices = (list.stdout ?? '').split('\n').filter((l) => l.trim() && mark(l)).map((l) => l.trim());
  const dirs = [imageDir(), '/dev/shm'].filter(existsSync).flatMap((d) => readdirSync(d).map((f) => join(d, f))).filter(mark);
  return { mounts, loopDevices, dirs };
}

export function isClean(l: FsLeftovers): boolean {
  return !l.mounts.length && !l.loopDevices.length && !l.dirs.length;
}
