// truncate:LENGTH (ftruncate = truncate:0): the file becomes LENGTH bytes long. Bytes from LENGTH
// on may legitimately read as zero (a partial page or folio is zeroed past the new end) or be
// missing; bytes before it keep their old values. LENGTH past the message changes nothing of it.
import { nowMs } from '../../model/patterns.ts';
import { native } from '../../native.ts';
import { applied, closeUnlessOwn, expectRange, servedFd } from './served.ts';
import type { MutationModule } from './types.ts';

export const truncate: MutationModule = {
  target: 'file',
  expect: (m, size) => expectRange(size, m.offset, size, 'zero'),
  prepare(m, _size, target) {
    return {
      apply() {
        const startedAt = nowMs();
        const f = servedFd(target);
        try {
          native.ftruncate(f.fd, m.offset);
          return applied(startedAt, f, [{ what: `ftruncate to ${m.offset}`, at: nowMs() }]);
        } finally {
          closeUnlessOwn(f);
        }
      },
      release() {},
    };
  },
};
