// The mutator: a separate process that changes the sender's source file on request, because a read lease holds back only *other*
// openers. Blocking, one request at a time over stdin/stdout; applies the sender's own mutation modules (case/mutations) by path.
import { dirname } from 'node:path';
import { reply as replyLine, serveJsonLines } from '../child/serve.ts';
import { mutationFor } from '../../case/mutations/index.ts';
import { resolveMutation } from '../../model/mutation-spec.ts';
import type { PreparedMutation } from '../../case/mutations/types.ts';
import { nowMs, patternB } from '../../model/patterns.ts';
import type { FromMutator, MutateRequest, ToMutator, WriterRecord } from './protocol.ts';

const reply = (msg: FromMutator): void => replyLine(msg);

// Build the pattern cache now, not on the first request: a slow first mutation would let the
// receiver read before it and hide a corruption.
patternB(16 << 20);
reply({ type: 'ready', pid: process.pid });

function mutate(m: MutateRequest): WriterRecord {
  const startedAt = nowMs();
  let prepared: PreparedMutation | undefined;
  let text = m.mutation;
  try {
    const r = resolveMutation(m.mutation, m.size, m.firstHalf);
    text = r.text;
    const module = mutationFor(r.kind);
    if (module.target !== 'file') throw new Error(`${r.text} changes the sender's memory: another process cannot do it`);
    prepared = module.prepare(r, m.size, { path: m.path, dir: m.dir ?? dirname(m.path) });
    const a = prepared.apply();
    return {
      pid: process.pid, mutation: text, openStartedAt: a.openStartedAt, openedAt: a.openedAt,
      blockedMs: a.openedAt - a.openStartedAt, mutatedAt: a.mutatedAt, steps: a.steps,
    };
  } catch (e) {
    const at = nowMs();
    return {
      pid: process.pid, mutation: text, openStartedAt: startedAt, openedAt: at,
      blockedMs: at - startedAt, mutatedAt: at, error: (e as Error).message,
    };
  } finally {
    prepared?.release();
  }
}

serveJsonLines<ToMutator>((msg) => {
  if (msg.type === 'mutate') reply({ type: 'mutated', id: msg.id, ...mutate(msg) });
});
