// Driver of the mmap+write truncation experiment (the Linux Journal hazard): a child process
// (properties/fixtures/mmap-sender.ts) write()s a large shared read-only mapping of a file to a
// reader in this process that starts reading late, so the write blocks; meanwhile the mutator
// (another process) truncates the file. What the kernel does is recorded, not assumed.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from '../../harness/host/exit-hooks.ts';
import { nowMs, patternA } from '../../harness/model/patterns.ts';
import type { MutatorProcess } from '../../harness/roles/mutator/client.ts';
import type { WriterRecord } from '../../harness/roles/mutator/protocol.ts';
import type { SenderConfig, SenderEvent } from '../fixtures/mmap-sender.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/mmap-sender.ts', import.meta.url));

export const CATEGORIES = ['killed inside write()', 'short count', 'error from the first write()', 'write() completed'] as const;
export type Category = (typeof CATEGORIES)[number] | 'unclassified';

export interface TruncateObservation {
  lease: boolean;
  size: number;
  events: SenderEvent[];
  exit: { code: number | null; signal: NodeJS.Signals | null };
  writer: WriterRecord;
  /** no write() had returned when the truncation was asked for: the sender was blocked in it */
  blockedWhenTruncated: boolean;
  truncateAskedAt: number;
  /** what the reader got, and whether it is exactly the file's original prefix */
  received: { bytes: number; intact: boolean };
  category: Category;
  /** one line: the first write's outcome, the next call's, what touching the mapping did */
  description: string;
}

export interface TruncateOptions {
  workDir: string;
  size: number;
  lease: boolean;
  touch: boolean;
  readerDelayMs: number;
  truncateAfterMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (n: number) => `${(n / 1048576).toFixed(2)} MiB`;

export function classify(size: number, events: SenderEvent[], signal: string | null): { category: Category; description: string } {
  const writes = events.filter((e): e is Extract<SenderEvent, { ev: 'write' }> => e.ev === 'write');
  const what = (w: (typeof writes)[number]) => ('errno' in w ? `failed with ${w.errno}` : `returned ${w.n} B`);
  const parts: string[] = [];
  let category: Category = 'unclassified';
  const first = writes[0];
  if (!first) {
    category = signal ? 'killed inside write()' : 'unclassified';
    parts.push(signal ? `killed by ${signal} inside the first write()` : 'no write() returned and no signal');
  } else if ('errno' in first) {
    category = 'error from the first write()';
    parts.push(`the first write() failed with ${first.errno}`);
  } else if (first.n === size) {
    category = 'write() completed';
    parts.push(`write() sent all ${mib(size)}`);
  } else {
    category = 'short count';
    parts.push(`write() returned a short count: ${first.n} B (${mib(first.n)}) of ${mib(size)}`);
    parts.push(...writes.slice(1).map((w, i) => `call ${i + 2} ${what(w)}`));
  }
  if (events.some((e) => e.ev === 'touching')) {
    const touched = events.find((e) => e.ev === 'touched');
    parts.push(touched ? 'reading the mapping afterwards worked' : `reading the mapping afterwards: killed by ${signal ?? 'nothing?'}`);
  } else if (first && signal) parts.push(`killed by ${signal} afterwards`);
  return { category, description: parts.join('; ') };
}

/** Runs one truncation experiment; bounded (the child is killed after 60 s). */
export async function truncateWhileWriting(mutator: MutatorProcess, o: TruncateOptions): Promise<TruncateObservation> {
  const path = join(o.workDir, `mmap-truncate-${process.pid}-${o.lease ? 'lease' : 'plain'}.bin`);
  writeFileSync(path, patternA(o.size));
  const chunks: Buffer[] = [];
  let bytes = 0;
  const server = createServer();
  // The reader: paused until readerDelayMs, so the kernel's buffers fill and write() blocks.
  const readerDone = new Promise<void>((resolve) =>
    server.once('connection', (s) => {
      s.pause();
      setTimeout(() => s.resume(), o.readerDelayMs);
      s.on('data', (d: Buffer) => void (chunks.push(d), (bytes += d.length)));
      s.on('close', () => resolve());
      s.on('error', () => undefined);
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cfg: SenderConfig = { path, size: o.size, host: '127.0.0.1', port: (server.address() as AddressInfo).port, lease: o.lease, touch: o.touch };
  const child = spawn(process.execPath, ['--import=tsx', FIXTURE, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const unregister = registerCleanup(`mmap sender ${child.pid}`, () => void child.kill('SIGKILL'));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
  const events: SenderEvent[] = [];
  let stderr = '';
  let onEvent = (): void => undefined;
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      if (buf.slice(0, nl).trim()) events.push(JSON.parse(buf.slice(0, nl)) as SenderEvent);
      buf = buf.slice(nl + 1);
      onEvent();
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr = (stderr + d).slice(-2000)));
  const exited = new Promise<TruncateObservation['exit']>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  try {
    // Wait until it is about to write (or has died trying to get there).
    await Promise.race([exited, new Promise<void>((r) => (onEvent = () => events.some((e) => e.ev === 'writing') && r()))]);
    if (!events.some((e) => e.ev === 'writing')) throw new Error(`the sender did not get to write: ${JSON.stringify(events)} ${stderr}`);
    await sleep(o.truncateAfterMs);
    const blockedWhenTruncated = !events.some((e) => e.ev === 'write');
    const truncateAskedAt = nowMs();
    const writer = await mutator.mutate({ id: `truncate-${truncateAskedAt}`, path, mutation: 'truncate:0', size: o.size });
    const exit = await exited;
    await Promise.race([readerDone, sleep(5000)]);
    const got = Buffer.concat(chunks);
    const intact = got.equals(patternA(o.size).subarray(0, got.length));
    return {
      lease: o.lease, size: o.size, events, exit, writer, blockedWhenTruncated, truncateAskedAt,
      received: { bytes, intact }, ...classify(o.size, events, exit.signal),
    };
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
    await exited;
    unregister();
    server.close();
    rmSync(path, { force: true });
  }
}
