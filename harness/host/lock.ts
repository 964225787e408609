// Host-wide mutual exclusion between zcprobe processes: flock(2) on a file under the state
// directory. The kernel drops the lock with the holder's last fd, so a crashed (SIGKILLed) holder
// never leaves it taken. Every wait is bounded.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FILE, native } from '../native.ts';

const POLL_MS = 5;
export const LOCK_TIMEOUT_MS = 10_000;
const pause = new Int32Array(new SharedArrayBuffer(4));

function openLock(path: string): number {
  mkdirSync(dirname(path), { recursive: true });
  return openSync(path, 'a');
}

const tryLock = (fd: number): boolean => native.flock(fd, FILE.LOCK_EX | FILE.LOCK_NB);
const timedOut = (path: string, ms: number) => new Error(`lock ${path}: still held by another zcprobe process after ${ms} ms`);

/** Runs `fn` holding the lock; blocks the thread while waiting (for exit-time restores). */
export function withLockSync<T>(path: string, fn: () => T, timeoutMs = LOCK_TIMEOUT_MS): T {
  const fd = openLock(path);
  try {
    const deadline = Date.now() + timeoutMs;
    while (!tryLock(fd)) {
      if (Date.now() >= deadline) throw timedOut(path, timeoutMs);
      Atomics.wait(pause, 0, 0, POLL_MS);
    }
    return fn();
  } finally {
    closeSync(fd); // releases the lock
  }
}

/** Runs `fn` holding the lock; waits asynchronously. */
export async function withLock<T>(path: string, fn: () => Promise<T>, timeoutMs = LOCK_TIMEOUT_MS): Promise<T> {
  const fd = openLock(path);
  try {
    const deadline = Date.now() + timeoutMs;
    while (!tryLock(fd)) {
      if (Date.now() >= deadline) throw timedOut(path, timeoutMs);
      await sleep(POLL_MS);
    }
    return await fn();
  } finally {
    closeSync(fd);
  }
}
