// Disk use of evidence directories: bytes really allocated (st_blocks), not apparent sizes.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Allocated bytes under `path` (files and directories, symlinks not followed); 0 if absent. */
export function diskUsage(path: string): number {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  let total = st.blocks * 512;
  if (st.isDirectory()) for (const n of readdirSync(path)) total += diskUsage(join(path, n));
  return total;
}

export function formatBytes(n: number): string {
  if (n < 0) return `-${formatBytes(-n)}`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}
