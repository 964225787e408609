// tmpfs (/dev/shm): the default, and where every source file lived before the filesystem
// dimension existed. A fresh directory per session, removed at close.
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { registerCleanup } from '../../host/exit-hooks.ts';
import { factsOf, TMPFS_MAGIC } from './facts.ts';
import { FS_PREFIX, type Filesystem, type FsSpec } from '../../model/fs-spec.ts';

/** A fresh directory under `parent`, removed by close() (and on Ctrl-C / exit). */
export function directoryFs(spec: FsSpec, parent: string): Filesystem {
  const workDir = mkdtempSync(join(parent, `${FS_PREFIX}${process.pid}-`));
  const unregister = registerCleanup(`source directory ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
  const facts = factsOf(spec, workDir);
  return {
    spec,
    workDir,
    facts: () => facts,
    async close() {
      rmSync(workDir, { recursive: true, force: true });
      unregister();
    },
  };
}

export function openTmpfs(parent = '/dev/shm'): Filesystem {
  const type = statfsSync(parent).type;
  if (type !== TMPFS_MAGIC) throw new Error(`${parent} is not tmpfs (statfs type 0x${type.toString(16)})`);
  return directoryFs('tmpfs', parent);
}
