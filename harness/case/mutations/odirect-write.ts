// odirect-write[:OFFSET:LENGTH]: the new bytes written with O_DIRECT, from page-aligned memory, in
// whole 4 KiB blocks (the last one may extend the file past the message). The kernel writes back
// and invalidates the cached pages of the range first; pages an skb still holds may stay.
import { nowMs, patternB } from '../../model/patterns.ts';
import { FILE, native } from '../../native.ts';
import { applied, expectRange, probeOn, pwriteAll, servedFd } from './served.ts';
import type { MutationModule } from './types.ts';

const FLAGS = FILE.O_WRONLY | FILE.O_DIRECT;

export const odirectWrite: MutationModule = {
  target: 'file',
  expect: (m, size) => expectRange(size, m.offset, m.offset + m.length, 'new'),
  prepare(m, _size, target) {
    const buf = new Uint8Array(native.allocPages(m.length));
    buf.set(patternB(m.offset + m.length).subarray(m.offset));
    // The sender opens its O_DIRECT fd before the send; another process opens at apply, the open
    // a lease holds back.
    let early = target.source ? servedFd({ path: target.path, dir: target.dir }, FLAGS) : null;
    return {
      apply() {
        const startedAt = nowMs();
        const f = early ?? servedFd(target, FLAGS);
        try {
          pwriteAll(f.fd, buf, 0, m.length, m.offset);
          return applied(startedAt, early ? null : f, [{ what: `O_DIRECT pwrite ${m.length} B at ${m.offset}`, at: nowMs() }]);
        } finally {
          if (!early) native.close(f.fd);
        }
      },
      release() {
        if (early) native.close(early.fd);
        early = null;
      },
    };
  },
  unsupportedIn: (dir) =>
    probeOn(dir, 'odirect-write', (_fd, path) => {
      const fd = native.open(path, FLAGS);
      try {
        const block = new Uint8Array(native.allocPages(4096));
        pwriteAll(fd, block, 0, 4096, 0);
      } finally {
        native.close(fd);
      }
    }),
};
