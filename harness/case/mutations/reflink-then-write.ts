// reflink-then-write: FICLONE a snapshot of the served file (sharing its extents), then pwrite the new bytes over it;
// whether the page-cache pages an skb holds change is what the case shows (docs/filesystems.md).
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { nowMs, patternB } from '../../model/patterns.ts';
import { FILE, native } from '../../native.ts';
import { applied, closeUnlessOwn, expectRange, probeOn, pwriteAll, servedFd } from './served.ts';
import type { MutationModule } from './types.ts';

let counter = 0;

export const reflinkThenWrite: MutationModule = {
  target: 'file',
  expect: (m, size) => expectRange(size, m.offset, m.offset + m.length, 'new'),
  prepare(m, size, target) {
    const snapshot = join(target.dir, `.${basename(target.path)}.snapshot-${process.pid}-${++counter}`);
    const next = patternB(Math.max(size, m.offset + m.length));
    let snapFd: number | null = native.open(snapshot, FILE.O_WRONLY | FILE.O_CREAT | FILE.O_EXCL, 0o644);
    return {
      apply() {
        const startedAt = nowMs();
        // FICLONE reads the source: the served fd must be readable too.
        const f = servedFd(target, target.source ? FILE.O_WRONLY : FILE.O_RDWR);
        try {
          native.ficlone(snapFd!, f.fd);
          const cloned = nowMs();
          pwriteAll(f.fd, next, m.offset, m.length, m.offset);
          return applied(startedAt, f.own ? null : f, [
            { what: 'FICLONE into a snapshot', at: cloned },
            { what: `pwrite ${m.length} B at ${m.offset}`, at: nowMs() },
          ]);
        } finally {
          closeUnlessOwn(f);
        }
      },
      release() {
        if (snapFd !== null) native.close(snapFd);
        snapFd = null;
        rmSync(snapshot, { force: true });
      },
    };
  },
  unsupportedIn: (dir) => probeOn(dir, 'reflink-then-write', (fd, _path, other) => native.ficlone(other(), fd)),
};
