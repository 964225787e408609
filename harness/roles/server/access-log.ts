// Follows a server's access log from a mark: the lines written after it, as soon as they land
// (inotify wakes the wait; a 2 ms poll covers a missed event). The first line that matches ends
// the wait, with the time it was seen — the moment zcprobe serve changes the served file.
import { closeSync, existsSync, fstatSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';
import { nowMs } from '../../model/patterns.ts';

export interface SeenLine {
  line: string;
  /** epoch ms when this process read it */
  seenAt: number;
}

const POLL_MS = 2;

export class AccessLogTail {
  private offset = 0;
  private pending = '';

  constructor(readonly path: string) {
    if (!existsSync(path)) throw new Error(`access log ${path} does not exist`);
  }

  /** From now on only lines written after this call count. */
  mark(): void {
    this.offset = this.size();
    this.pending = '';
  }

  private size(): number {
    const fd = openSync(this.path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  }

  /** Complete lines appended since the last read. */
  private readLines(): string[] {
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) throw new Error(`access log ${this.path} shrank from ${this.offset} to ${size} bytes`);
      if (size === this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      this.offset += got;
      const text = this.pending + buf.toString('utf8', 0, got);
      const lines = text.split('\n');
      this.pending = lines.pop()!;
      return lines.filter((l) => l.length > 0);
    } finally {
      closeSync(fd);
    }
  }

  /** The first new line for which `match` holds; null when `timeoutMs` passed or `stop` settled
   * first (the caller says why). Lines that do not match are skipped. */
  async waitFor(match: (line: string) => boolean, timeoutMs: number, stop?: Promise<unknown>): Promise<SeenLine | null> {
    const deadline = performance.now() + timeoutMs;
    let wake: (() => void) | null = null;
    let stopped = false;
    void stop?.then(() => {
      stopped = true;
      wake?.();
    }, () => {
      stopped = true;
      wake?.();
    });
    let watcher: FSWatcher | null = null;
    try {
      watcher = watch(this.path, () => wake?.());
      for (;;) {
        for (const line of this.readLines()) if (match(line)) return { line, seenAt: nowMs() };
        const left = deadline - performance.now();
        if (stopped || left <= 0) return null;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(POLL_MS, left));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
    } finally {
      watcher?.close();
    }
  }
}
