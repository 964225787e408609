// Byte patterns and the mutation itself. The new pattern is built before the send so the
// mutation is one memcpy (or one pwrite): a slow overwrite lets the reader win the race and
// hides the bug. Every byte of B differs from A and neither contains zero, so a mismatching
// byte can be classified as "the mutation", "zero" (truncation) or "other".
import { native } from './native.ts';
import type { Mutation } from './experiment.ts';

let cachedA = Buffer.alloc(0);
let cachedB = Buffer.alloc(0);

function grow(size: number): void {
  if (cachedA.length >= size) return;
  const n = Math.max(size, cachedA.length * 2, 1 << 20);
  const a = Buffer.allocUnsafe(n);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    const v = (i % 251) + 1;
    a[i] = v;
    b[i] = v ^ 0xff;
  }
  cachedA = a;
  cachedB = b;
}

/** A[i] = i % 251 + 1: what the application means to send. Read-only view: do not write. */
export function patternA(size: number): Buffer {
  grow(size);
  return cachedA.subarray(0, size);
}

/** B[i] = A[i] ^ 0xff: what the application writes over the source after the send. */
export function patternB(size: number): Buffer {
  grow(size);
  return cachedB.subarray(0, size);
}

/** The source of a case: user memory, or a file (optionally also mapped). */
export type Source =
  | { kind: 'buffer'; bytes: Uint8Array }
  | { kind: 'file'; fd: number; path: string; size: number; mapping?: Uint8Array };

export interface MutationRecord {
  mutation: Mutation;
  /** epoch ms (performance.timeOrigin + now), comparable across processes */
  startedAt: number;
  mutatedAt: number;
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Changes the first `length` bytes of the source to `next` in one step and records when. */
export function applyMutation(source: Source, mutation: Mutation, next: Uint8Array, length?: number): MutationRecord {
  const startedAt = nowMs();
  if (mutation === 'overwrite') {
    const target = source.kind === 'buffer' ? source.bytes : source.mapping;
    if (!target) throw new Error('overwrite of a file source needs its shared mapping');
    target.set(next.subarray(0, Math.min(length ?? target.length, target.length)));
  } else if (source.kind !== 'file') {
    throw new Error(`mutation ${mutation} needs a file source`);
  } else if (mutation === 'pwrite') {
    const end = Math.min(length ?? source.size, source.size);
    let done = 0;
    while (done < end) {
      const n = native.pwrite(source.fd, next, done, end - done, done);
      if (n <= 0) throw new Error(`pwrite wrote ${n} bytes at ${done}`);
      done += n;
    }
  } else {
    native.ftruncate(source.fd, 0);
  }
  return { mutation, startedAt, mutatedAt: nowMs() };
}

/** What the bytes of the source look like after the mutation (the "mutation pattern"). */
export function mutatedPattern(mutation: Mutation, size: number): Uint8Array {
  return mutation === 'ftruncate' ? new Uint8Array(size) : patternB(size);
}
