// tmpfs (/dev/shm), the default, and `--fs dir:PATH`: a fresh directory per session for the source
// files, removed at close (and by the sweep after a crash: it is in the run's ledger).
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { registerCleanup } from '../../host/exit-hooks.ts';
import { claim } from '../../host/ledger.ts';
import { factsOf, TMPFS_MAGIC } from './facts.ts';
import { FS_PREFIX, type Filesystem, type FsSpec } from '../../model/fs-spec.ts';

/** A fresh directory under `parent`, removed by close() (and on Ctrl-C / exit); recorded in the run's ledger, so
 * after a SIGKILL the sweep (scripts/cleanup.sh) finds it even under a `--fs dir:PATH` nobody else scans. */
export function directoryFs(spec: FsSpec, parent: string): Filesystem {
  const workDir = mkdtempSync(join(parent, `${FS_PREFIX}${process.pid}-`));
  const release = claim({ kind: 'workdir', path: workDir });
  const unregister = registerCleanup(`source directory ${workDir}`, () => {
    rmSync(workDir, { recursive: true, force: true });
    release();
  });
  const facts = factsOf(spec, workDir);
  return {
    spec,
    workDir,
    facts: () => facts,
    async close() {
      rmSync(workDir, { recursive: true, force: true });
      release();
      unregister();
    },
  };
}

export function openTmpfs(parent = '/dev/shm'): Filesystem {
  const type = statfsSync(parent).type;
  if (type !== TMPFS_MAGIC) throw new Error(`${parent} is not tmpfs (statfs type 0x${type.toString(16)})`);
  return directoryFs('tmpfs', parent);
}
