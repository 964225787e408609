// copytruncate: logrotate's way of rotating a file another program keeps open — copy it to a new
// file, then truncate the original to 0. The name ends up empty; the copy holds the old bytes.
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { nowMs } from '../../model/patterns.ts';
import { FILE, native } from '../../native.ts';
import { applied, expectRange, pwriteAll } from './served.ts';
import type { MutationModule } from './types.ts';

let counter = 0;

export const copytruncate: MutationModule = {
  target: 'file',
  expect: (_m, size) => expectRange(size, 0, size, 'zero'),
  prepare(_m, size, target) {
    const copy = join(target.dir, `.${basename(target.path)}.1-${process.pid}-${++counter}`);
    const buf = Buffer.allocUnsafe(size);
    return {
      apply() {
        const startedAt = nowMs();
        if (!target.path) throw new Error('copytruncate needs a file source (a path to open), not memory');
        const fd = native.open(target.path, FILE.O_RDWR);
        const openedAt = nowMs();
        try {
          let got = 0;
          for (let n = -1; got < size && n !== 0; got += n) n = native.pread(fd, buf, got, size - got, got);
          const out = native.open(copy, FILE.O_WRONLY | FILE.O_CREAT | FILE.O_EXCL, 0o644);
          try {
            pwriteAll(out, buf, 0, got, 0);
          } finally {
            native.close(out);
          }
          const copied = nowMs();
          native.ftruncate(fd, 0);
          return applied(startedAt, { openStartedAt: startedAt, openedAt }, [
            { what: `copied ${got} B to ${basename(copy)}`, at: copied },
            { what: 'ftruncate to 0', at: nowMs() },
          ]);
        } finally {
          native.close(fd);
        }
      },
      release() {
        rmSync(copy, { force: true });
      },
    };
  },
};
