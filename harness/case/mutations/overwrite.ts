// overwrite: one store of the new bytes into the sender's buffer, or into the file's shared
// mapping (the page cache itself). The sender only: another process has no access to our memory.
import { nowMs, patternB } from '../../model/patterns.ts';
import { applied, expectRange } from './served.ts';
import type { MutationModule } from './types.ts';

export const overwrite: MutationModule = {
  target: 'memory',
  expect: (m, size) => expectRange(size, m.offset, m.offset + m.length, 'new'),
  prepare(m, size, target) {
    const source = target.source;
    const memory = source?.kind === 'buffer' ? source.bytes : source?.mapping;
    if (!memory) throw new Error('overwrite needs the sender\'s buffer or a shared mapping of the file');
    // Built before the send: the store itself is then one memcpy.
    const next = patternB(size).subarray(m.offset, Math.min(m.offset + m.length, memory.length));
    return {
      apply() {
        const startedAt = nowMs();
        memory.set(next, m.offset);
        return applied(startedAt, null, [{ what: 'store', at: nowMs() }]);
      },
      release() {},
    };
  },
};
