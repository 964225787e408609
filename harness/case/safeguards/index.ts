// The safeguard registry: Experiment.safeguard → its module (types.ts: the hooks). The waits
// that poll the socket live here; 'copy' replaces the send; the leases live in lease.ts.
import type { Experiment, Safeguard } from '../../model/experiment.ts';
import type { SendResult } from '../methods/types.ts';
import { sourceBytes, writeAll } from '../methods/write.ts';
import { native, SOCK } from '../../native.ts';
import { nowMs, type Source } from '../../model/patterns.ts';
import { leaseEarly, leaseUntilAck } from './lease.ts';
import type { SafeguardContext, SafeguardModule, SafeguardResult, SafeguardWait } from './types.ts';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const sleepMs = (ms: number): void => void Atomics.wait(sleepCell, 0, 0, ms);

const none: SafeguardWait = () => ({ waitedMs: 0, signal: 'returned at once', reached: true });

/** Polls an ioctl queue counter until it reads 0 (bounded). */
function drainQueue(request: number, name: string): SafeguardWait {
  return ({ fd, exp }: SafeguardContext): SafeguardResult => {
    const start = nowMs();
    const deadline = start + exp.safeguardTimeoutMs;
    let polls = 0;
    let left = native.ioctlInt(fd, request);
    while (left > 0 && nowMs() < deadline) {
      sleepMs(exp.pollIntervalMs);
      polls++;
      left = native.ioctlInt(fd, request);
    }
    const waitedMs = nowMs() - start;
    return left === 0
      ? { waitedMs, signal: `${name}=0 after ${polls} polls`, reached: true }
      : { waitedMs, signal: `${name} still ${left} bytes after ${exp.safeguardTimeoutMs} ms`, reached: false };
  };
}

/** Waits for the completion of every zero-copy send (error queue, or io_uring F_NOTIF CQEs). */
const zcCompletion: SafeguardWait = ({ exp, send }) => {
  if (!send.zerocopy) throw new Error(`zc-completion: method ${exp.method} reports no completions`);
  const start = nowMs();
  const s = send.zerocopy.waitAll(exp.safeguardTimeoutMs);
  const waitedMs = nowMs() - start;
  const reached = s.received >= s.expected;
  return {
    waitedMs,
    signal: `${s.received}/${s.expected} completions (${s.copied} COPIED)`,
    reached,
  };
};

/** Waits for the receiving application's one-byte ack: it has read every byte. */
const appAck: SafeguardWait = ({ fd, exp }) => {
  const start = nowMs();
  const deadline = start + exp.safeguardTimeoutMs;
  const waitedMs = () => nowMs() - start;
  // POLLERR alone is a MSG_ZEROCOPY completion waiting in the error queue, not the ack: keep
  // waiting for POLLIN (sleeping briefly, since poll would return POLLERR at once again).
  for (;;) {
    const left = Math.ceil(deadline - nowMs());
    if (left <= 0) return { waitedMs: waitedMs(), signal: `no ack within ${exp.safeguardTimeoutMs} ms`, reached: false };
    const revents = native.poll(fd, SOCK.POLLIN, left);
    if (revents & SOCK.POLLIN) break;
    if (revents & SOCK.POLLERR) sleepMs(1);
    else if (revents & SOCK.POLLHUP) return { waitedMs: waitedMs(), signal: 'connection closed before the ack', reached: false };
  }
  const b = Buffer.alloc(1);
  const n = native.read(fd, b, 0, 1);
  if (n !== 1 || b[0] !== 0x41) return { waitedMs: waitedMs(), signal: `unexpected ack (${n} bytes)`, reached: false };
  return { waitedMs: waitedMs(), signal: 'application ack received', reached: true };
};

/** 'copy' sends the same source with write(2), from a private copy when the source is a file. */
function sendByCopy(fd: number, source: Source, _exp: Experiment): SendResult {
  if (source.kind === 'buffer') return writeAll(fd, source.bytes);
  if (source.mapping) return writeAll(fd, sourceBytes(source));
  const copy = new Uint8Array(source.size);
  for (let got = 0; got < source.size; ) {
    const n = native.pread(source.fd, copy, got, source.size - got, got);
    if (n <= 0) throw new Error(`copy: pread of the source returned ${n} at ${got} of ${source.size} bytes`);
    got += n;
  }
  return writeAll(fd, copy);
}

const copy: SafeguardModule = {
  wait: () => ({ waitedMs: 0, signal: 'sent by copy (write)', reached: true }),
  send: sendByCopy,
};

const waitOnly = (wait: SafeguardWait): SafeguardModule => ({ wait });

export function safeguardFor(s: Safeguard): SafeguardModule {
  switch (s) {
    case 'none':
      return waitOnly(none);
    case 'siocoutq':
      return waitOnly(drainQueue(SOCK.SIOCOUTQ, 'SIOCOUTQ'));
    case 'siocoutqnsd':
      return waitOnly(drainQueue(SOCK.SIOCOUTQNSD, 'SIOCOUTQNSD'));
    case 'zc-completion':
      return waitOnly(zcCompletion);
    case 'app-ack':
      return waitOnly(appAck);
    case 'copy':
      return copy;
    case 'lease':
      return leaseUntilAck;
    case 'lease-early':
      return leaseEarly;
  }
}
