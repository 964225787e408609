// Child side of a JSON-lines helper process (receiver, mutator): blocking reads of stdin, one
// request at a time — the process has nothing else to do between requests. Replies are written
// synchronously so the parent sees each line even if the process is killed right after.
import { readSync, writeSync } from 'node:fs';

export function reply(msg: unknown): void {
  writeSync(1, JSON.stringify(msg) + '\n');
}

/** Calls `handle` for every JSON line on stdin until the parent closes it. A throw from
 * `handle` is answered with {type: 'fatal', message}. */
export function serveJsonLines<T>(handle: (msg: T) => void): void {
  const chunk = Buffer.allocUnsafe(65536);
  let pending = '';
  for (;;) {
    let n: number;
    try {
      n = readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) return; // parent closed stdin
    pending += chunk.toString('utf8', 0, n);
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      try {
        handle(JSON.parse(line) as T);
      } catch (e) {
        reply({ type: 'fatal', message: (e as Error).message });
      }
    }
  }
}
