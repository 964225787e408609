// The send loops' own logic, with the syscall replaced by a script of results: progress, F_MORE
// counting, the bounded retries (ENOBUFS, a flag an older kernel refuses) and the stop on a send
// that moves nothing. Pipes only touch /dev/null: no sockets, no lock needed.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE, native, type NativeError } from '../../native.ts';
import { CompletionCount } from './completions.ts';
import { uringSendAll, type SendZcCall, type UringState } from './io-uring-zc.ts';
import { sendZerocopyAll } from './msg-zerocopy.ts';
import { closePipe, openPipe } from './sources.ts';
import { spliceAll } from './splice.ts';

const EINVAL = 22;

function nativeError(code: string, errno: number): NativeError {
  return Object.assign(new Error(`send: ${code}`), { errno, code, syscall: 'send' });
}

/** A completion count whose take() records its timeouts and delivers `pending` completions. */
function fakeCount(): { count: CompletionCount; takes: number[]; deliver: (n: number) => void } {
  const takes: number[] = [];
  let pending = 0;
  const count = new CompletionCount((c, timeoutMs) => {
    takes.push(timeoutMs);
    if (!pending) return false;
    c.add(pending, true);
    pending = 0;
    return true;
  });
  return { count, takes, deliver: (n) => void (pending += n) };
}

function scripted(results: { res: number; more: boolean }[]): { call: SendZcCall; calls: { off: number; len: number; zcFlags: number }[] } {
  const calls: { off: number; len: number; zcFlags: number }[] = [];
  return {
    calls,
    call(off, len, zcFlags) {
      calls.push({ off, len, zcFlags });
      const r = results.shift();
      if (!r) throw new Error('the loop called SEND_ZC more often than scripted');
      return r;
    },
  };
}

test('io_uring loop: short sends continue at the right offset; a notification is expected only for F_MORE results', (t) => {
  const { count } = fakeCount();
  const s = scripted([{ res: 600, more: true }, { res: 300, more: false }, { res: 100, more: true }]);
  const state: UringState = { zcFlags: 8, fallbacks: [] };
  const r = uringSendAll(s.call, 1000, count, state);
  t.deepEqual(s.calls.map((c) => [c.off, c.len]), [[0, 1000], [600, 400], [900, 100]]);
  t.like(r, { bytes: 1000, calls: 3, shortCounts: 2 });
  t.is(r.fallbacks, undefined);
  t.is(count.expected, 2);
});

test('io_uring loop: a result of 0 bytes stops with an error instead of looping forever', (t) => {
  const { count } = fakeCount();
  const s = scripted([{ res: 400, more: true }, { res: 0, more: false }, { res: 0, more: false }]);
  t.throws(() => uringSendAll(s.call, 1000, count, { zcFlags: 8, fallbacks: [] }), { message: /sent 0 of 600 bytes at offset 400 of 1000: no progress/ });
  t.is(s.calls.length, 2);
});

test('io_uring loop: EINVAL with SEND_ZC flags set retries once without them and records it; EINVAL without flags is an error', (t) => {
  const { count } = fakeCount();
  const s = scripted([{ res: -EINVAL, more: false }, { res: 1000, more: true }]);
  const state: UringState = { zcFlags: 0x8008, fallbacks: [] };
  const r = uringSendAll(s.call, 1000, count, state);
  t.deepEqual(s.calls.map((c) => c.zcFlags), [0x8008, 0]);
  t.deepEqual(r.fallbacks, ['SEND_ZC flags 0x8008 refused (EINVAL): sent without them, so COPIED is unknown']);
  t.false(count.copiedKnown);
  t.is(count.expected, 1);
  // The next message starts without the flags; a second EINVAL is a real error, not a retry.
  const again = scripted([{ res: -EINVAL, more: false }]);
  t.throws(() => uringSendAll(again.call, 1000, count, state), { message: /SEND_ZC failed at offset 0 of 1000: EINVAL/ });
  t.is(again.calls.length, 1);
});

test('MSG_ZEROCOPY loop: ENOBUFS takes completions and retries; one completion expected per accepted call', (t) => {
  const { count, takes, deliver } = fakeCount();
  const script: (number | NativeError)[] = [nativeError('ENOBUFS', 105), nativeError('ENOBUFS', 105), 700, 300];
  const offs: number[] = [];
  const r = sendZerocopyAll((off) => {
    offs.push(off);
    const next = script.shift();
    if (next === undefined) throw new Error('more sends than scripted');
    if (typeof next !== 'number') {
      deliver(1);
      throw next;
    }
    return next;
  }, 1000, count, 1000);
  t.deepEqual(offs, [0, 0, 0, 700]);
  t.like(r, { bytes: 1000, calls: 2, shortCounts: 1 });
  t.is(count.expected, 2);
  t.deepEqual(takes.slice(0, 2), [10, 10], 'completions were taken between the retries');
  t.is(count.received, 2);
});

test('MSG_ZEROCOPY loop: ENOBUFS that persists ends with an error after enobufsTimeoutMs; other errors are thrown at once', (t) => {
  const { count } = fakeCount();
  const t0 = performance.now();
  t.throws(() => sendZerocopyAll(() => { throw nativeError('ENOBUFS', 105); }, 1000, count, 50), { message: /ENOBUFS for over 50 ms at offset 0 of 1000/ });
  t.true(performance.now() - t0 < 5000);
  let calls = 0;
  t.throws(() => sendZerocopyAll(() => { calls++; throw nativeError('EPIPE', 32); }, 1000, count, 50), { message: /EPIPE/ });
  t.is(calls, 1);
});

test('a pipe size the kernel refuses falls back to fs.pipe-max-size and the send result says so; tee (exact) refuses', (t) => {
  const max = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8').trim());
  const huge = 2 ** 31 + 4096; // past the kernel's own limit: EINVAL whatever the capabilities
  const pipe = openPipe(huge);
  t.teardown(() => closePipe(pipe));
  t.is(pipe.capacity, max);
  t.regex(pipe.fallback ?? '', new RegExp(`^pipe capacity ${huge} B refused \\((EINVAL|EPERM)\\): used ${max} B`));
  t.throws(() => openPipe(huge, true), { message: /fcntl: (EINVAL|EPERM)/ });
  t.is(openPipe(65536).fallback, undefined);

  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-loops-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'src');
  writeFileSync(path, Buffer.alloc(3 * max + 5, 1));
  const fileFd = native.open(path, FILE.O_RDONLY);
  const devNull = native.open('/dev/null', FILE.O_WRONLY);
  try {
    const r = spliceAll(devNull, fileFd, 3 * max + 5, pipe);
    t.is(r.bytes, 3 * max + 5);
    t.deepEqual(r.fallbacks, [pipe.fallback]);
  } finally {
    native.close(fileFd);
    native.close(devNull);
  }
});
