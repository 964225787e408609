// The kernel release a bzImage was built as, read from its setup header: a vmlinuz given by path
// names its own release (which /lib/modules/<release> its modules live in) without booting it.
import { readFileSync } from 'node:fs';

/** "6.1.0-57-cloud-amd64" from the bzImage's kernel_version string, or undefined when the file is
 * not a bzImage (boot protocol ≥ 2.00, "HdrS" at 0x202) or carries no version string. */
export function bzImageRelease(image: Buffer): string | undefined {
  if (image.length < 0x210 || image.toString('ascii', 0x202, 0x206) !== 'HdrS') return undefined;
  const ptr = image.readUInt16LE(0x20e);
  if (ptr === 0) return undefined;
  const start = ptr + 0x200;
  const end = image.indexOf(0, start);
  if (start >= image.length || end < 0) return undefined;
  // "6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP ..." → the first word
  return image.toString('ascii', start, end).split(' ')[0] || undefined;
}

export function bzImageReleaseOf(path: string): string | undefined {
  return bzImageRelease(readFileSync(path));
}
