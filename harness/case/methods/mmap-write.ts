// mmap + write(2): the file is mapped shared and write() copies from the mapping (the Linux
// Journal article's second path). Mutations go to the mapping (page cache) or the file.
import { sendMethod } from './one-message.ts';
import { fileSource } from './sources.ts';
import { sourceBytes, writeAll } from './write.ts';

export function mmapWriteMethod() {
  return sendMethod(
    (_exp, intended, workDir) => fileSource(intended, workDir, true),
    (fd, source) => {
      const bytes = sourceBytes(source);
      return { send: () => writeAll(fd, bytes), close() {} };
    },
  );
}
