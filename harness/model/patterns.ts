// Byte patterns (A[i] = i % 251 + 1, B = A ^ 0xff: every byte differs, neither has zero), sources and the record of a mutation.
// B is built before the send so the mutation is one memcpy or pwrite: a slow overwrite would let the reader win the race.
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
