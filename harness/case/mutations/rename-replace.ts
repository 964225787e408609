// rename-replace: the new version is written and fsynced before the send, and the mutation is the rename() over the old name;
// the sender's fd and the skbs keep the old inode. Another process does all three steps at once (docs/filesystems.md).
import { renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { nowMs, patternB } from '../../model/patterns.ts';
import { FILE, native } from '../../native.ts';
import { applied, expectRange, pwriteAll } from './served.ts';
import type { AppliedMutation, MutationModule } from './types.ts';

let counter = 0;

export const renameReplace: MutationModule = {
  target: 'file',
  expect: (_m, size) => ({ ...expectRange(size, 0, size, 'new'), note: 'the name now holds the new bytes; the sender\'s fd still reads the old inode, which nobody changed' }),
  prepare(_m, size, target) {
    const next = join(target.dir, `.${basename(target.path)}.new-${process.pid}-${++counter}`);
    const steps: AppliedMutation['steps'] = [];
    const writeNew = () => {
      const fd = native.open(next, FILE.O_WRONLY | FILE.O_CREAT | FILE.O_EXCL, 0o644);
      try {
        pwriteAll(fd, patternB(size), 0, size, 0);
        steps.push({ what: `wrote ${size} B to a new file`, at: nowMs() });
        native.fsync(fd);
        steps.push({ what: 'fsync new file', at: nowMs() });
      } finally {
        native.close(fd);
      }
    };
    const prepared = !!target.source;
    if (prepared) writeNew();
    let renamed = false;
    return {
      apply() {
        const startedAt = nowMs();
        if (!prepared) writeNew();
        renameSync(next, target.path);
        renamed = true;
        steps.push({ what: 'rename over the old name', at: nowMs() });
        return applied(startedAt, null, steps);
      },
      release() {
        if (!renamed) rmSync(next, { force: true });
      },
    };
  },
};
