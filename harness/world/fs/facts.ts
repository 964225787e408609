// Facts about the filesystem a directory lives on: the mount (type, options) from
// /proc/self/mountinfo and the block size from statfs.
import { readFileSync, realpathSync, statfsSync } from 'node:fs';
import type { FsFacts, FsSpec } from '../../model/fs-spec.ts';

export interface MountInfo {
  mountPoint: string;
  type: string;
  source: string;
  mountOptions: string;
  superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parses /proc/self/mountinfo text (man 5 proc): fields, optional fields, "-", type, source, super options. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0 || f.length < dash + 3) continue;
    out.push({ mountPoint: unescape(f[4]!), mountOptions: f[5]!, type: f[dash + 1]!, source: unescape(f[dash + 2]!), superOptions: f[dash + 3] ?? '' });
  }
  return out;
}

/** The mount holding `path`: the longest mount point that is a prefix of its real path (the last
 * one listed wins when mounts are stacked on the same point). */
export function mountOf(path: string, mounts: MountInfo[] = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))): MountInfo {
  const real = realpathSync(path);
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || real === m.mountPoint || real.startsWith(m.mountPoint + '/');
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  if (!best) throw new Error(`no mount in /proc/self/mountinfo holds ${real}`);
  return best;
}

export function factsOf(spec: FsSpec, dir: string, image?: FsFacts['image']): FsFacts {
  const m = mountOf(dir);
  const { type, mountPoint, source, mountOptions, superOptions } = m;
  return { fs: spec, type, mountPoint, source, mountOptions, superOptions, blockSize: statfsSync(dir).bsize, ...(image ? { image } : {}) };
}

/** statfs f_type of tmpfs (linux/magic.h TMPFS_MAGIC). */
export const TMPFS_MAGIC = 0x01021994;
