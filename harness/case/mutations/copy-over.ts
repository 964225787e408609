// copy-over: what `cp new served` does to an existing file — open(O_WRONLY | O_TRUNC), then write
// the new bytes. The truncation drops the page cache pages first, the write fills fresh ones; what
// a response already in flight delivers is what the case shows. (Deploy tools, CMSs, `cp`.)
import { nowMs, patternB } from '../../model/patterns.ts';
import { FILE, native } from '../../native.ts';
import { applied, expectRange, pwriteAll } from './served.ts';
import type { MutationModule } from './types.ts';

export const copyOver: MutationModule = {
  target: 'file',
  expect: (_m, size) => expectRange(size, 0, size, 'new'),
  prepare(_m, size, target) {
    const next = patternB(size);
    return {
      apply() {
        const startedAt = nowMs();
        if (!target.path) throw new Error('copy-over needs a file source (a path to open), not memory');
        // Always a fresh open, even by the sender: O_TRUNC at open time is the point.
        const fd = native.open(target.path, FILE.O_WRONLY | FILE.O_TRUNC);
        const openedAt = nowMs();
        try {
          pwriteAll(fd, next, 0, size, 0);
          return applied(startedAt, { openStartedAt: startedAt, openedAt }, [
            { what: 'open(O_TRUNC)', at: openedAt },
            { what: `write ${size} B`, at: nowMs() },
          ]);
        } finally {
          native.close(fd);
        }
      },
      release() {},
    };
  },
};
