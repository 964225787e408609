// Every wrapper in the addon turns a failing syscall into a JS error carrying errno, code and
// the syscall's name; argument mistakes are TypeErrors/RangeErrors, never crashes.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferSource } from './case/methods/sources.ts';
import { FILE, isNativeError, native, SOCK } from './native.ts';
import { testWithNeeds } from '../properties/helpers/requirements.ts';
import { tcpPair } from '../test-support/tcp-pair.ts';

const BAD = 987654; // an fd number this process does not have
const buf = new Uint8Array(16);

function expectErrno(t: import('ava').ExecutionContext, fn: () => unknown, code: string, syscall?: string): void {
  const e = t.throws(fn);
  t.true(isNativeError(e), `expected a native error, got ${String(e)}`);
  if (isNativeError(e)) {
    t.is(e.code, code);
    t.true(e.errno > 0);
    if (syscall) t.is(e.syscall, syscall);
  }
}

test('a bad fd gives EBADF with errno and code, for every fd-taking wrapper', (t) => {
  const calls: [string, () => unknown][] = [
    ['bind', () => native.bind(BAD, '127.0.0.1', 0)],
    ['connect', () => native.connect(BAD, '127.0.0.1', 1)],
    ['listen', () => native.listen(BAD, 1)],
    ['accept', () => native.accept(BAD)],
    ['close', () => native.close(BAD)],
    ['shutdown', () => native.shutdown(BAD, 1)],
    ['getsockname', () => native.getsockname(BAD)],
    ['getpeername', () => native.getpeername(BAD)],
    ['setsockopt', () => native.setsockoptInt(BAD, SOCK.SOL_SOCKET, SOCK.SO_SNDBUF, 1)],
    ['getsockopt', () => native.getsockoptInt(BAD, SOCK.SOL_SOCKET, SOCK.SO_SNDBUF)],
    ['ioctl', () => native.ioctlInt(BAD, SOCK.SIOCOUTQ)],
    ['getsockopt', () => native.tcpInfo(BAD)],
    ['write', () => native.write(BAD, buf, 0, 1)],
    ['read', () => native.read(BAD, buf, 0, 1)],
    ['send', () => native.send(BAD, buf, 0, 1, 0)],
    ['sendfile', () => native.sendfile(BAD, BAD, 0, 1)],
    ['splice', () => native.splice(BAD, null, BAD, null, 1, 0)],
    ['vmsplice', () => native.vmsplice(BAD, buf, 0, 1, 0)],
    ['tee', () => native.tee(BAD, BAD, 1, 0)],
    // returned, not thrown: the error comes next to any completions taken before it
    ['recvmsg', () => { const r = native.readZerocopyCompletions(BAD); t.deepEqual(r.completions, []); throw r.error ?? new Error('no error'); }],
    ['pwrite', () => native.pwrite(BAD, buf, 0, 1, 0)],
    ['pread', () => native.pread(BAD, buf, 0, 1, 0)],
    ['ftruncate', () => native.ftruncate(BAD, 0)],
    ['fsync', () => native.fsync(BAD)],
    ['fcntl', () => native.fcntlInt(BAD, FILE.F_GETLEASE)],
    ['fallocate', () => native.fallocate(BAD, FILE.FALLOC_FL_PUNCH_HOLE | FILE.FALLOC_FL_KEEP_SIZE, 0, 4096)],
    ['ioctl(FICLONE)', () => native.ficlone(BAD, BAD)],
    ['mmap', () => native.mapFile(BAD, 4096, false)],
  ];
  for (const [syscall, fn] of calls) expectErrno(t, fn, 'EBADF', syscall);
  // poll reports a bad fd in revents (POLLNVAL), not as an error: documented poll(2) behaviour.
  t.true(native.poll(BAD, SOCK.POLLIN, 0) !== 0);
});

test('other errno paths: ENOENT, EINVAL, ECONNREFUSED, ENOTSOCK, ESPIPE', (t) => {
  expectErrno(t, () => native.open('/nonexistent/zcprobe', FILE.O_RDONLY), 'ENOENT', 'open');
  expectErrno(t, () => native.allocPages(0), 'EINVAL', 'mmap');
  const [r, w] = native.pipe2(0);
  try {
    expectErrno(t, () => native.fcntlInt(w, FILE.F_SETPIPE_SZ, -1), 'EINVAL', 'fcntl');
    expectErrno(t, () => native.ioctlInt(r, SOCK.SIOCOUTQ), 'ENOTTY', 'ioctl');
    expectErrno(t, () => native.getsockname(r), 'ENOTSOCK', 'getsockname');
    expectErrno(t, () => native.splice(r, 0, w, null, 1, 0), 'ESPIPE', 'splice');
  } finally {
    native.close(r);
    native.close(w);
  }
  // Connect to a port nobody listens on: the listener is closed before connecting.
  const l = native.socket(4);
  native.bind(l, '127.0.0.1', 0);
  const port = native.getsockname(l).port;
  native.close(l);
  const s = native.socket(4);
  try {
    expectErrno(t, () => native.connect(s, '127.0.0.1', port), 'ECONNREFUSED', 'connect');
  } finally {
    native.close(s);
  }
});

test('io_uring wrappers: a closed ring is EBADF; without liburing every call is ENOSYS', (t) => {
  if (!native.uringCompiled) {
    expectErrno(t, () => native.uringCreate(4), 'ENOSYS');
    return;
  }
  const ring = native.uringCreate(4);
  native.uringClose(ring);
  expectErrno(t, () => native.uringWaitNotif(ring, 0), 'EBADF');
  t.throws(() => native.uringSendZc({} as never, 0, buf, 0, 1, 0), { instanceOf: TypeError });
  const ring2 = native.uringCreate(4);
  const res = native.uringSendZc(ring2, BAD, buf, 0, 1, 0);
  t.is(res.res, -9, 'SEND_ZC on a bad fd completes with -EBADF in the CQE (returned, not thrown)');
  native.uringClose(ring2);
});


const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

await testWithNeeds('readZerocopyCompletions returns the completions it drained before an error, with the error', ['soZerocopy'], (t) => {
  const [c, s] = tcpPair();
  try {
    native.setsockoptInt(c, SOCK.SOL_SOCKET, SOCK.SO_ZEROCOPY, 1);
    const page = new Uint8Array(native.allocPages(4096));
    t.is(native.send(c, page, 0, 100, SOCK.MSG_ZEROCOPY), 100);
    t.true(native.poll(c, 0, 2000) !== 0, 'the completion is queued (POLLERR)');
    // A software TX timestamp goes on the same error queue behind the completion, with
    // ee_errno ENOMSG: an error entry after a completion, which used to lose the completion.
    const SO_TIMESTAMPING = 37;
    const SOF_TIMESTAMPING_TX_SOFTWARE = 1 << 1;
    const SOF_TIMESTAMPING_SOFTWARE = 1 << 4;
    native.setsockoptInt(c, SOCK.SOL_SOCKET, SO_TIMESTAMPING, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
    t.is(native.write(c, page, 0, 1), 1);
    sleep(50);
    const first = native.readZerocopyCompletions(c);
    t.deepEqual(first.completions.map((x) => [x.lo, x.hi]), [[0, 0]], 'the completion of send 0');
    t.is(first.error?.code, 'ENOMSG');
    t.is(first.error?.syscall, 'recvmsg(MSG_ERRQUEUE)');
    t.deepEqual(native.readZerocopyCompletions(c), { completions: [], error: null }, 'the queue is empty afterwards');
  } finally {
    native.close(c);
    native.close(s);
  }
});

await testWithNeeds('uringSendZc waits for its result at most timeoutMs: ETIME, never forever', ['ioUringSendZc'], (t) => {
  const [c, s] = tcpPair();
  const ring = native.uringCreate(4);
  try {
    // Fill the connection (nobody reads) so the next send cannot make progress.
    const chunk = new Uint8Array(1 << 20);
    let full = false;
    for (let i = 0; i < 512 && !full; i++) {
      try {
        native.send(c, chunk, 0, chunk.length, SOCK.MSG_DONTWAIT);
      } catch (e) {
        if (!isNativeError(e) || e.code !== 'EAGAIN') throw e;
        full = true;
      }
    }
    t.true(full, 'the socket buffers filled up');
    const t0 = performance.now();
    const e = t.throws(() => native.uringSendZc(ring, c, chunk, 0, 65536, 0, undefined, 200));
    const waited = performance.now() - t0;
    t.true(isNativeError(e) && e.code === 'ETIME', String(e));
    t.regex(e?.message ?? '', /no SEND_ZC result within 200 ms/);
    t.true(waited >= 150 && waited < 5000, `waited ${waited} ms`);
  } finally {
    native.uringClose(ring); // cancels the send still queued
    native.close(c);
    native.close(s);
  }
});

test('argument mistakes are TypeError/RangeError, not crashes', (t) => {
  t.throws(() => native.write('x' as unknown as number, buf, 0, 1), { instanceOf: TypeError });
  t.throws(() => native.write(1, 'x' as unknown as Uint8Array, 0, 1), { instanceOf: TypeError });
  t.throws(() => native.write(1, buf, 10, 10), { instanceOf: RangeError });
  t.throws(() => native.write(1, buf, -1, 1), { instanceOf: RangeError });
  t.throws(() => native.bind(1, 'not-an-ip', 0), { instanceOf: TypeError });
  t.throws(() => native.open(42 as unknown as string, 0), { instanceOf: TypeError });
});

test('page buffers and file mappings are page aligned memory shared with the file', (t) => {
  const ps = native.pageSize();
  t.true(ps >= 4096 && (ps & (ps - 1)) === 0, `page size ${ps}`);
  const ab = native.allocPages(3 * ps);
  t.is(ab.byteLength, 3 * ps);
  t.is(native.pageOffset(ab), 0, 'allocPages starts on a page boundary');
  t.is(native.pageOffset(new Uint8Array(ab, 5)), 5, 'pageOffset sees the address (a misaligned view is not 0)');
  // A case's buffer source is such memory too, whatever the message size.
  const source = bufferSource(new Uint8Array(1000));
  t.is(source.kind === 'buffer' ? native.pageOffset(source.bytes) : -1, 0, 'a buffer source is page aligned');
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-native-'));
  try {
    const path = join(dir, 'f');
    writeFileSync(path, Buffer.alloc(8192, 1));
    const fd = native.open(path, FILE.O_RDWR);
    try {
      const map = new Uint8Array(native.mapFile(fd, 8192, true));
      t.is(native.pageOffset(map), 0, 'a file mapping starts on a page boundary');
      map[100] = 42;
      const back = new Uint8Array(1);
      native.pread(fd, back, 0, 1, 100);
      t.is(back[0], 42, 'a store through the shared mapping is visible to pread');
      native.pwrite(fd, new Uint8Array([7]), 0, 1, 5000);
      t.is(map[5000], 7, 'a pwrite to the file is visible through the mapping');
    } finally {
      native.close(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
