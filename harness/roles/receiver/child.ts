// The receiving application, in its own process so the sender's pages are never shared with it
// through fork. It is deliberately blocking and simple: one listener per case on a fixed port,
// accept, sleep the configured delay, read everything, report. Driven over stdin/stdout.
import { writeFileSync } from 'node:fs';
import { reply as replyLine, serveJsonLines } from '../child/serve.ts';
import { native, SOCK } from '../../native.ts';
import type { FromReceiver, ReceiverCase, ToReceiver } from './protocol.ts';

const host = process.argv[2] ?? '127.0.0.1';
const family: 4 | 6 = host.includes(':') ? 6 : 4;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const now = (): number => performance.timeOrigin + performance.now();

const reply = (msg: FromReceiver): void => replyLine(msg);

function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

function openListener(port: number, rcvbuf?: number): number {
  const fd = native.socket(family);
  try {
    native.setsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_REUSEADDR, 1);
    if (rcvbuf !== undefined) native.setsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_RCVBUFFORCE, rcvbuf);
    native.bind(fd, host, port);
    native.listen(fd, 4);
    return fd;
  } catch (e) {
    native.close(fd);
    throw e;
  }
}

/** Waits for `fd` to become readable before `deadline`, or throws. */
function waitReadable(fd: number, deadline: number, what: string): void {
  const left = Math.max(0, Math.ceil(deadline - now()));
  if (native.poll(fd, SOCK.POLLIN, left) === 0) throw new Error(`timed out waiting for ${what}`);
}

// A fixed port for the whole run, so one capture filter covers every case (argv[3]: a port the
// caller chose, e.g. one a firewall lets through; 0 or absent: the kernel picks one).
const probeFd = openListener(Number(process.argv[3] ?? 0));
const port = native.getsockname(probeFd).port;
native.close(probeFd);
reply({ type: 'listening', address: host, port });

function runCase(c: ReceiverCase): void {
  const deadline = now() + c.timeoutMs;
  // Each fd is closed exactly once and then set to -1: closing a number twice could close an fd
  // opened in between (the same number is handed out again), so no close error is swallowed.
  let listener = openListener(port, c.rcvbuf);
  reply({ type: 'ready', id: c.id });
  let conn = -1;
  const buf = Buffer.allocUnsafe(c.size + 65536);
  let got = 0;
  let acceptedAt = 0;
  let firstReadAt: number | null = null;
  let ackSentAt: number | null = null;
  let peer = { address: '', port: 0 };
  let rcvbufEffective = 0;
  let error: string | undefined;
  try {
    waitReadable(listener, deadline, 'the sender to connect');
    conn = native.accept(listener);
    acceptedAt = now();
    const l = listener;
    listener = -1; // before close: a failed close(2) frees the number too
    native.close(l);
    peer = native.getpeername(conn);
    rcvbufEffective = native.getsockoptInt(conn, SOCK.SOL_SOCKET, SOCK.SO_RCVBUF);
    sleepMs(c.delayMs);
    for (;;) {
      if (got === buf.length) throw new Error(`sender sent more than ${buf.length} bytes`);
      const want = got < c.size ? Math.min(c.size - got, 1 << 20) : buf.length - got;
      waitReadable(conn, deadline, got < c.size ? `data (${got}/${c.size} bytes read)` : 'EOF');
      const n = native.read(conn, buf, got, want);
      if (n === 0) break;
      firstReadAt ??= now();
      got += n;
      if (c.ack && got >= c.size && ackSentAt === null) {
        native.write(conn, Buffer.from('A'), 0, 1);
        ackSentAt = now();
      }
    }
  } catch (e) {
    error = (e as Error).message;
  } finally {
    if (conn >= 0) native.close(conn);
    if (listener >= 0) native.close(listener);
  }
  // The reply comes last: when the parent hears the result, the case's fds are already closed.
  const doneAt = now();
  try {
    writeFileSync(c.outFile, buf.subarray(0, got));
  } catch (e) {
    error ??= `writing ${c.outFile}: ${(e as Error).message}`;
  }
  reply({ type: 'result', id: c.id, bytes: got, acceptedAt, firstReadAt, doneAt, rcvbufEffective, peer, ackSentAt, ...(error === undefined ? {} : { error }) });
}

serveJsonLines<ToReceiver>((msg) => {
  if (msg.type === 'case') runCase(msg);
});
