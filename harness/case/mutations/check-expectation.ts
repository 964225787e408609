// For tests of the mutation modules: does a file (read by name) match a mutation's expectation? Bytes past a truncation are
// missing, not zero; past the original size only what the mutation itself wrote may be there.
import { readFileSync } from 'node:fs';
import { fileSource, releaseSource } from '../methods/sources.ts';
import { patternA } from '../../model/patterns.ts';
import { mutationFor, mutationUnsupported } from './index.ts';
import { resolveMutation, type ResolvedMutation } from '../../model/mutation-spec.ts';
import type { Expectation } from './types.ts';

export function expectationHolds(file: Uint8Array, e: Expectation, size: number, m: ResolvedMutation): string | null {
  const expectedLength = m.kind === 'truncate' ? m.offset
    : m.kind === 'copytruncate' ? 0
      : Math.max(size, m.kind === 'punch-hole' ? 0 : m.offset + m.length);
  if (m.kind !== 'rename-replace' && file.length !== expectedLength) return `file is ${file.length} bytes, expected ${expectedLength}`;
  const n = Math.min(size, file.length);
  for (let i = 0; i < n; i++) if (file[i] !== e.after[i]) return `byte ${i} is ${file[i]}, expected ${e.after[i]}`;
  return null;
}

/** Mutations that cover every module and the edge cases of the ranges (for a 20000-byte file). */
export const SAMPLE_MUTATIONS = [
  'pwrite:1000:3000', 'truncate:5000', 'truncate:0', 'truncate:99999', 'punch-hole:4000:9000', 'punch-hole:4100:10', 'odirect-write',
  'odirect-write:4096:4096', 'rename-replace', 'reflink-then-write', 'copy-over', 'copytruncate',
];

/** Applies each mutation as the sender would (its own fd) to a fresh file in `dir` and checks
 * the result; returns the problems and, per mutation the filesystem cannot do, the reason. */
export function applyEachAndCheck(dir: string, size = 20000): { problems: string[]; unsupported: string[] } {
  const problems: string[] = [];
  const unsupported: string[] = [];
  for (const text of SAMPLE_MUTATIONS) {
    const m = resolveMutation(text, size);
    const why = mutationUnsupported(m.kind, dir);
    if (why) {
      unsupported.push(`${text}: ${why}`);
      continue;
    }
    const source = fileSource(patternA(size), dir, false);
    if (source.kind !== 'file') throw new Error('file source expected');
    const module = mutationFor(m.kind);
    const prepared = module.prepare(m, size, { path: source.path, dir, source });
    try {
      const a = prepared.apply();
      if (!(a.mutatedAt >= a.startedAt && a.steps.length > 0)) problems.push(`${text}: no steps recorded`);
      const bad = expectationHolds(readFileSync(source.path), module.expect(m, size), size, m);
      if (bad) problems.push(`${text}: ${bad}`);
    } finally {
      prepared.release();
      releaseSource(source);
    }
  }
  return { problems, unsupported };
}
