// The receiver process closes every fd of a case exactly once, on the success path and on the
// error path: its fd table is the same after cases as before, and no case ends in a 'fatal'
// reply (a second close of the listener would now throw EBADF instead of being swallowed).
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../../native.ts';
import { ReceiverProcess } from './client.ts';
import { caseFds } from '../../../test-support/proc-fds.ts';

test('a receiver case leaves its fd table as it found it, whether the sender came or not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-receiver-'));
  const rx = await ReceiverProcess.spawn({ host: '127.0.0.1' });
  t.teardown(async () => {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const before = caseFds(rx.pid);
  const payload = Buffer.alloc(100_000, 7);
  const sendCase = async (id: string) => {
    const { result } = await rx.prepare({ id, size: payload.length, delayMs: 0, ack: false, outFile: join(dir, id), timeoutMs: 5000 });
    const fd = native.socket(4);
    try {
      native.connect(fd, rx.host, rx.port);
      for (let off = 0; off < payload.length; ) off += native.write(fd, payload, off, payload.length - off);
      native.shutdown(fd, 1);
      return await result;
    } finally {
      native.close(fd);
    }
  };
  const first = await sendCase('ok-1');
  t.is(first.error, undefined);
  t.is(first.bytes, payload.length);
  t.true(first.data.equals(payload));
  // Nobody connects: the case ends with the receiver's bounded wait, listener closed on that path.
  const { result } = await rx.prepare({ id: 'no-sender', size: 10, delayMs: 0, ack: false, outFile: join(dir, 'no-sender'), timeoutMs: 200 });
  t.regex((await result).error ?? '', /timed out waiting for the sender to connect/);
  const second = await sendCase('ok-2');
  t.is(second.error, undefined, 'the receiver is still in step');
  t.deepEqual(caseFds(rx.pid), before);
});
