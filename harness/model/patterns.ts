// Byte patterns, sources and the record of a mutation (the mutations themselves live in
// harness/mutations/, one module per kind). The new pattern is built before the send so the
// mutation is one memcpy (or one pwrite): a slow overwrite lets the reader win the race and
// hides the bug. Every byte of B differs from A and neither contains zero, so a mismatching
// byte can be classified as "the mutation", "zero" (truncation, holes) or "other".
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
  /** each step and when it returned (e.g. FICLONE, then pwrite; or the rename) */
  steps?: { what: string; at: number }[];
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
