// The mutator: a separate process that changes the sender's source file on request. It must be
// another process because a read lease only holds back *other* openers: the kernel blocks this
// process's open(O_WRONLY) until the lease holder releases (or fs.lease-break-time runs out).
// Blocking and simple, like the receiver: one request at a time, driven over stdin/stdout.
import { reply as replyLine, serveJsonLines } from '../child/serve.ts';
import { mutatedPattern, nowMs, patternB } from '../mutation.ts';
import { FILE, native } from '../native.ts';
import type { FromMutator, MutateRequest, ToMutator, WriterRecord } from './protocol.ts';

const reply = (msg: FromMutator): void => replyLine(msg);

// Build the pattern cache now, not on the first request: a slow first mutation would let the
// receiver read before it and hide a corruption.
patternB(16 << 20);
reply({ type: 'ready', pid: process.pid });

function mutate(m: MutateRequest): WriterRecord {
  const next = mutatedPattern(m.mutation, m.size);
  const openStartedAt = nowMs();
  let openedAt = openStartedAt;
  let fd = -1;
  try {
    fd = native.open(m.path, FILE.O_WRONLY);
    openedAt = nowMs();
    if (m.mutation === 'ftruncate') native.ftruncate(fd, 0);
    else
      for (let done = 0; done < m.length; ) {
        const n = native.pwrite(fd, next, done, m.length - done, done);
        if (n <= 0) throw new Error(`pwrite wrote ${n} bytes at ${done}`);
        done += n;
      }
    const mutatedAt = nowMs();
    return { pid: process.pid, mutation: m.mutation, openStartedAt, openedAt, blockedMs: openedAt - openStartedAt, mutatedAt };
  } catch (e) {
    const at = nowMs();
    return { pid: process.pid, mutation: m.mutation, openStartedAt, openedAt, blockedMs: openedAt - openStartedAt, mutatedAt: at, error: (e as Error).message };
  } finally {
    if (fd >= 0) native.close(fd);
  }
}

serveJsonLines<ToMutator>((msg) => {
  if (msg.type === 'mutate') reply({ type: 'mutated', id: msg.id, ...mutate(msg) });
});
