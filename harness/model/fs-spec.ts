// The filesystem dimension of a case: where the source files of the file methods live. One module
// per value (tmpfs, loop-image ext4/xfs/btrfs, a directory the user names), each opened once per
// session and closed (unmounted, detached, removed) at its end.

/** Filesystems zcprobe creates itself on a loop-device image. */
export const LOOP_FILESYSTEMS = ['ext4', 'xfs', 'btrfs'] as const;
export type LoopFs = (typeof LOOP_FILESYSTEMS)[number];

/** 'tmpfs' (/dev/shm), a loop-image filesystem, or `dir:/abs/path` (a directory on the user's disk). */
export type FsSpec = 'tmpfs' | LoopFs | `dir:${string}`;

/** The values --fs accepts, for help and error texts. */
export const FS_SPECS_HELP = ['tmpfs', ...LOOP_FILESYSTEMS, 'dir:PATH'] as const;

/** Names and paths everything zcprobe's filesystems create carry (cleanup-fs.sh looks for it). */
export const FS_PREFIX = 'zcprobe-fs-';

export function parseFsSpec(text: string): FsSpec {
  if (text === 'tmpfs' || (LOOP_FILESYSTEMS as readonly string[]).includes(text)) return text as FsSpec;
  if (text.startsWith('dir:')) {
    const path = text.slice(4);
    if (!path.startsWith('/')) throw new Error(`dir:PATH needs an absolute path, got "${path}"`);
    return `dir:${path}`;
  }
  throw new Error(`"${text}" is not one of ${FS_SPECS_HELP.join(', ')}`);
}

/** What a case records about the filesystem its source file lived on. */
export interface FsFacts {
  /** the --fs value */
  fs: FsSpec;
  /** the mounted filesystem type (/proc/self/mountinfo), e.g. "ext4", "tmpfs" */
  type: string;
  mountPoint: string;
  /** the mount's source (/dev/loop3, tmpfs, /dev/vda1) */
  source: string;
  /** per-mount options (rw,relatime) */
  mountOptions: string;
  /** the filesystem's own options (e.g. xfs logbufs, tmpfs huge=, ext4 data=ordered) */
  superOptions: string;
  /** statfs f_bsize */
  blockSize: number;
  /** loop-image filesystems: the image zcprobe made */
  image?: { path: string; bytes: number; loopDevice: string };
}

/** An open filesystem: source files go into workDir; close() removes everything it made. */
export interface Filesystem {
  spec: FsSpec;
  workDir: string;
  facts(): FsFacts;
  close(): Promise<void>;
}
