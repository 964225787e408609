// Where the kernels runner keeps what it builds: a git-ignored cache under the project (kernel
// packages, root images, initramfs) and the state files a cleanup reads after a crash.
import { resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** Kernel trees, base root filesystems and images; ZCPROBE_KERNELS_CACHE moves it. */
export function cacheDir(): string {
  return process.env.ZCPROBE_KERNELS_CACHE ?? resolve(PROJECT_ROOT, '.cache', 'zcprobe-kernels');
}

/** One state file per running qemu (owner pid, qemu pid, its temporary files), removed when the
 * guest is gone; scripts/kernels/cleanup.sh kills and removes what a dead owner left. */
export const STATE_DIR = process.env.ZCPROBE_STATE_DIR ?? '/run/zcprobe';
