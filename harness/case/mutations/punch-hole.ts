// punch-hole:OFFSET:LENGTH: fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE). The range reads
// as zeros afterwards (whole blocks are freed, partial ones zeroed); the size stays.
import { nowMs } from '../../model/patterns.ts';
import { FILE, native } from '../../native.ts';
import { applied, closeUnlessOwn, expectRange, probeOn, servedFd } from './served.ts';
import type { MutationModule } from './types.ts';

const MODE = FILE.FALLOC_FL_PUNCH_HOLE | FILE.FALLOC_FL_KEEP_SIZE;

export const punchHole: MutationModule = {
  target: 'file',
  expect: (m, size) => expectRange(size, m.offset, m.offset + m.length, 'zero'),
  prepare(m, _size, target) {
    return {
      apply() {
        const startedAt = nowMs();
        const f = servedFd(target);
        try {
          native.fallocate(f.fd, MODE, m.offset, m.length);
          return applied(startedAt, f, [{ what: `punch hole ${m.length} B at ${m.offset}`, at: nowMs() }]);
        } finally {
          closeUnlessOwn(f);
        }
      },
      release() {},
    };
  },
  unsupportedIn: (dir) => probeOn(dir, 'punch-hole', (fd) => native.fallocate(fd, MODE, 0, 4096)),
};
