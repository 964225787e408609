// --fs for the suite commands (report, matrix): repeatable; "none" skips the filesystem section.
import { LOOP_FILESYSTEMS, type FsSpec } from '../model/fs-spec.ts';
import { listFlag, UsageError, type Flags } from './args.ts';

const SUITE_FILESYSTEMS: readonly FsSpec[] = ['tmpfs', ...LOOP_FILESYSTEMS];

export function filesystemsFlag(flags: Flags): FsSpec[] {
  const given = flags.fs as string[] | undefined;
  if (given?.includes('none')) {
    if (given.length > 1) throw new UsageError('--fs none cannot be combined with filesystems');
    return [];
  }
  return listFlag(flags, 'fs', SUITE_FILESYSTEMS);
}
