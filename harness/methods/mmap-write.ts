// mmap + write(2): the file is mapped shared and write() copies from the mapping (the Linux
// Journal article's second path). Mutations go to the mapping (page cache) or the file.
import { fileSource } from './sources.ts';
import { sourceBytes, writeAll } from './write.ts';
import type { SendMethod } from './types.ts';

export const mmapWriteMethod: SendMethod = {
  prepare: (_exp, intended, workDir) => fileSource(intended, workDir, true),
  send: (fd, source) => writeAll(fd, sourceBytes(source)),
};
