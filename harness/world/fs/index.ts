// The filesystem registry: --fs value → an open Filesystem (types.ts).
import { existsSync, statSync } from 'node:fs';
import { openLoopFs } from './loop-image.ts';
import { directoryFs, openTmpfs } from './tmpfs.ts';
import type { Filesystem, FsSpec } from '../../model/fs-spec.ts';

export async function openFilesystem(spec: FsSpec): Promise<Filesystem> {
  if (spec === 'tmpfs') return openTmpfs();
  if (spec.startsWith('dir:')) {
    const path = spec.slice(4);
    if (!existsSync(path) || !statSync(path).isDirectory()) throw new Error(`--fs ${spec}: ${path} is not a directory`);
    return directoryFs(spec, path);
  }
  return openLoopFs(spec as Exclude<FsSpec, 'tmpfs' | `dir:${string}`>);
}
