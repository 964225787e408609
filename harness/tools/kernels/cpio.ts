// A minimal writer of the "newc" cpio format, the one the kernel unpacks as an initramfs.
// Enough for what the guest's initramfs holds: directories, regular files, symlinks.

export interface CpioEntry {
  /** path inside the archive, without a leading slash: "bin/busybox" */
  name: string;
  type: 'dir' | 'file' | 'symlink';
  /** permission bits, e.g. 0o755 */
  mode: number;
  /** file contents, or the symlink's target */
  data?: Buffer | string;
}

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000 } as const;

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

function header(ino: number, mode: number, nlink: number, size: number, nameSize: number): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return '070701' + [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, nameSize, 0].map(hex8).join('');
}

function record(ino: number, mode: number, nlink: number, name: string, data: Buffer): Buffer {
  const nameBuf = Buffer.from(name + '\0');
  const head = Buffer.from(header(ino, mode, nlink, data.length, nameBuf.length), 'ascii');
  // header + name are padded to 4 bytes together, then the data is padded to 4 bytes
  return Buffer.concat([head, nameBuf, pad4(head.length + nameBuf.length), data, pad4(data.length)]);
}

/** The archive: every entry in order (parents before children), then the trailer. */
export function buildCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    if (e.name.startsWith('/')) throw new Error(`cpio entry "${e.name}" must be relative`);
    const data = e.type === 'dir' ? Buffer.alloc(0) : Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '');
    parts.push(record(i + 1, TYPE_BITS[e.type] | (e.mode & 0o7777), e.type === 'dir' ? 2 : 1, e.name, data));
  });
  parts.push(record(0, 0, 1, 'TRAILER!!!', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** Reads back a newc archive (for tests): name → {mode, data}. */
export function readCpio(buf: Buffer): { name: string; mode: number; data: Buffer }[] {
  const out: { name: string; mode: number; data: Buffer }[] = [];
  let off = 0;
  const align = (n: number) => n + ((4 - (n % 4)) % 4);
  for (;;) {
    const magic = buf.toString('ascii', off, off + 6);
    if (magic !== '070701') throw new Error(`bad cpio magic at ${off}: ${magic}`);
    const field = (i: number) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('utf8', off + 110, off + 110 + nameSize - 1);
    const dataStart = align(off + 110 + nameSize);
    if (name === 'TRAILER!!!') return out;
    out.push({ name, mode, data: buf.subarray(dataStart, dataStart + size) });
    off = align(dataStart + size);
  }
}
