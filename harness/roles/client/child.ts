// The connecting client, in its own process (spawned before any buffer of the case exists, so no
// fork shares pages with it): connect with a bounded wait, write the request, sleep, read to EOF.
// Blocking and simple like the receiver; every wait is bounded by the case's deadline.
import { closeSync, openSync, writeSync } from 'node:fs';
import { reply as replyLine, serveJsonLines } from '../child/serve.ts';
import { FILE, isNativeError, native, SOCK, SPLICE } from '../../native.ts';
import type { ClientCase, FromClient, ToClient } from './protocol.ts';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const now = (): number => performance.timeOrigin + performance.now();
const reply = (msg: FromClient): void => replyLine(msg);
const DEFAULT_MAX = 1 << 30;

function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

/** Waits for `events` on `fd` before `deadline`, or throws naming what it waited for. */
function waitFor(fd: number, events: number, deadline: number, what: string): void {
  const left = Math.max(0, Math.ceil(deadline - now()));
  if (native.poll(fd, events, left) === 0) throw new Error(`timed out waiting for ${what}`);
}

const isAgain = (e: unknown): boolean => isNativeError(e) && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK');

/** A non-blocking connect, so an unanswered SYN costs the case's deadline, not the kernel's ~2 min. */
function connectBounded(fd: number, host: string, port: number, deadline: number): void {
  native.fcntlInt(fd, FILE.F_SETFL, native.fcntlInt(fd, FILE.F_GETFL) | SPLICE.O_NONBLOCK);
  try {
    native.connect(fd, host, port);
    return;
  } catch (e) {
    if (!isNativeError(e) || e.code !== 'EINPROGRESS') throw e;
  }
  waitFor(fd, SOCK.POLLOUT, deadline, `the connection to ${host}:${port}`);
  const err = native.getsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_ERROR);
  if (err !== 0) throw new Error(`connect to ${host}:${port} failed (errno ${err}${err === 111 ? ', ECONNREFUSED' : ''})`);
}

function runCase(c: ClientCase): void {
  const deadline = now() + c.timeoutMs;
  const max = c.maxBytes ?? DEFAULT_MAX;
  const family: 4 | 6 = c.host.includes(':') ? 6 : 4;
  const buf = Buffer.allocUnsafe(1 << 20);
  let fd = -1;
  let out = -1;
  let got = 0;
  let connectedAt = 0;
  let firstReadAt: number | null = null;
  let rcvbufEffective = 0;
  let local = { address: '', port: 0 };
  let error: string | undefined;
  let announced = false;
  try {
    out = openSync(c.outFile, 'w', 0o600);
    fd = native.socket(family);
    if (c.rcvbuf !== undefined) native.setsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_RCVBUFFORCE, c.rcvbuf);
    connectBounded(fd, c.host, c.port, deadline);
    connectedAt = now();
    const name = native.getsockname(fd);
    local = { address: name.address, port: name.port };
    rcvbufEffective = native.getsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_RCVBUF);
    reply({ type: 'connected', id: c.id, connectedAt, local });
    announced = true;
    const request = c.request ? Buffer.from(c.request, 'base64') : Buffer.alloc(0);
    for (let off = 0; off < request.length; ) {
      waitFor(fd, SOCK.POLLOUT, deadline, `room to write the request (${off}/${request.length} bytes written)`);
      try {
        off += native.write(fd, request, off, request.length - off);
      } catch (e) {
        if (!isAgain(e)) throw e;
      }
    }
    sleepMs(c.delayMs);
    for (;;) {
      waitFor(fd, SOCK.POLLIN, deadline, `data or EOF (${got} bytes read)`);
      let n: number;
      try {
        n = native.read(fd, buf, 0, buf.length);
      } catch (e) {
        if (isAgain(e)) continue;
        throw e;
      }
      if (n === 0) break;
      firstReadAt ??= now();
      for (let w = 0; w < n; ) w += writeSync(out, buf, w, n - w);
      got += n;
      if (got > max) throw new Error(`the peer sent more than ${max} bytes`);
    }
  } catch (e) {
    error = (e as Error).message;
  } finally {
    if (fd >= 0) native.close(fd);
    if (out >= 0) closeSync(out);
  }
  // The parent waits for 'connected' and 'result' apart: it gets both, in this order, every time.
  if (!announced) reply({ type: 'connected', id: c.id, connectedAt: 0, local, error: error ?? 'the case ended before connecting' });
  const result = { id: c.id, bytes: got, connectedAt, firstReadAt, doneAt: now(), rcvbufEffective, local };
  reply({ type: 'result', ...result, ...(error !== undefined ? { error } : {}) });
}

reply({ type: 'started', pid: process.pid });
serveJsonLines<ToClient>((msg) => {
  if (msg.type === 'case') runCase(msg);
});
