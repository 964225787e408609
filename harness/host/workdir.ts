// Work directories (sources, received bytes, the session capture): on tmpfs, named
// zcprobe-<pid>-<label>-XXXXXX so the owner is in the name, recorded in the run ledger, and removed
// on close, on Ctrl-C (cleanup registry) or, after a crash, by the sweep.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from './exit-hooks.ts';
import { claim } from './ledger.ts';

export interface WorkDir {
  path: string;
  /** removes the directory and its ledger entry; idempotent */
  remove(): void;
}

/** tmpfs when present: received bytes and sources never touch a disk. */
export function workDirBase(): string {
  return process.env.ZCPROBE_WORKDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
}

export function makeWorkDir(label: string, base = workDirBase()): WorkDir {
  if (!/^[a-z0-9-]+$/.test(label)) throw new Error(`work dir label "${label}": lower-case letters, digits and dashes only`);
  const path = mkdtempSync(join(base, `zcprobe-${process.pid}-${label}-`));
  // Recorded right after mkdtemp (its name is only known then); a crash in between leaves a
  // directory whose name still carries our pid, which the sweep's name rule removes.
  const release = claim({ kind: 'workdir', path });
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    rmSync(path, { recursive: true, force: true });
    release();
    unregister();
  };
  const unregister = registerCleanup(`workdir ${path}`, remove);
  return { path, remove };
}
