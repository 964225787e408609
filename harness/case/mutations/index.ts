// The mutation registry: kind → module, and whether a filesystem supports it (probed once per
// kind and directory, by trying it on a scratch file).
import { copyOver } from './copy-over.ts';
import { copytruncate } from './copytruncate.ts';
import { overwrite } from './overwrite.ts';
import { odirectWrite } from './odirect-write.ts';
import { punchHole } from './punch-hole.ts';
import { pwrite } from './pwrite.ts';
import { reflinkThenWrite } from './reflink-then-write.ts';
import { renameReplace } from './rename-replace.ts';
import type { MutationKind } from '../../model/mutation-spec.ts';
import { truncate } from './truncate.ts';
import type { MutationModule } from './types.ts';

const MODULES: Record<MutationKind, MutationModule> = {
  overwrite,
  pwrite,
  truncate,
  'punch-hole': punchHole,
  'odirect-write': odirectWrite,
  'rename-replace': renameReplace,
  'reflink-then-write': reflinkThenWrite,
  'copy-over': copyOver,
  copytruncate,
};

export function mutationFor(kind: MutationKind): MutationModule {
  return MODULES[kind];
}

const support = new Map<string, string | null>();

/** Why the filesystem holding `dir` cannot do `kind` (null: it can). Memoized per kind and dir. */
export function mutationUnsupported(kind: MutationKind, dir: string): string | null {
  const probe = MODULES[kind].unsupportedIn;
  if (!probe) return null;
  const key = `${kind}\0${dir}`;
  if (!support.has(key)) support.set(key, probe(dir));
  return support.get(key)!;
}
