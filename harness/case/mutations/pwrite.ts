// pwrite / pwrite:OFFSET:LENGTH: write(2) of the new bytes over (part of) the file. Buffered: the
// bytes land in the page cache pages an earlier sendfile/splice may still reference.
import { nowMs, patternB } from '../../model/patterns.ts';
import { applied, closeUnlessOwn, expectRange, pwriteAll, servedFd } from './served.ts';
import type { MutationModule } from './types.ts';

export const pwrite: MutationModule = {
  target: 'file',
  expect: (m, size) => expectRange(size, m.offset, m.offset + m.length, 'new'),
  prepare(m, size, target) {
    const next = patternB(Math.max(size, m.offset + m.length));
    return {
      apply() {
        const startedAt = nowMs();
        const f = servedFd(target);
        try {
          pwriteAll(f.fd, next, m.offset, m.length, m.offset);
          return applied(startedAt, f, [{ what: `pwrite ${m.length} B at ${m.offset}`, at: nowMs() }]);
        } finally {
          closeUnlessOwn(f);
        }
      },
      release() {},
    };
  },
};
