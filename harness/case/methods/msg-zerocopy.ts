// send(MSG_ZEROCOPY) (kernel Documentation/networking/msg_zerocopy.rst): send() returns once the
// skbs reference the user pages; the pages may be reused only after the error-queue completion
// covering that send. On loopback the kernel copies at delivery and says so (COPIED flag).
import { isNativeError, native, SOCK } from '../../native.ts';
import { nowMs } from '../../model/patterns.ts';
import { CompletionCount } from './completions.ts';
import { sendMethod } from './one-message.ts';
import { bufferSource } from './sources.ts';
import { DEFAULT_SEND_LIMITS, type MessageSender, type SendResult } from './types.ts';

/** Takes the socket's queued completions into `count`, polling up to timeoutMs for one. Ranges
 * [lo, hi] count accepted sends from 0 on this socket. An error part-way is raised after the
 * completions taken before it are counted. */
function takeCompletions(fd: number, count: CompletionCount, timeoutMs: number): boolean {
  // POLLERR means a non-empty error queue (it is always polled for; POLLHUP also ends the wait).
  if (timeoutMs > 0) native.poll(fd, 0, timeoutMs);
  const { completions, error } = native.readZerocopyCompletions(fd);
  for (const c of completions) count.add(c.hi - c.lo + 1, c.copied);
  if (error) throw error;
  return completions.length > 0;
}

/** SO_ZEROCOPY=1, without which MSG_ZEROCOPY is silently a copy: a kernel that refuses it cannot
 * run this method at all (the soZerocopy probe skips it), so this is a clear error, not a retry. */
function enableZerocopy(fd: number): void {
  try {
    native.setsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_ZEROCOPY, 1);
  } catch (e) {
    const code = isNativeError(e) ? e.code : String(e);
    throw new Error(`msg-zerocopy: setsockopt SO_ZEROCOPY refused (${code}): this kernel or socket has no MSG_ZEROCOPY`);
  }
}

/** One send(MSG_ZEROCOPY) of bytes[off, off + len): the count it queued (throws on error). */
export type ZerocopySendCall = (off: number, len: number) => number;

/** The send loop: `len` bytes with send(MSG_ZEROCOPY), one completion expected per accepted
 * call. ENOBUFS means optmem is full of unread completions: they are taken and the call retried,
 * for at most enobufsTimeoutMs. */
export function sendZerocopyAll(sendCall: ZerocopySendCall, len: number, count: CompletionCount, enobufsTimeoutMs: number): SendResult {
  const startedAt = nowMs();
  let off = 0;
  let calls = 0;
  let shortCounts = 0;
  let enobufsSince: number | null = null;
  while (off < len) {
    let n: number;
    try {
      n = sendCall(off, len - off);
    } catch (e) {
      if (!isNativeError(e) || e.code !== 'ENOBUFS') throw e;
      enobufsSince ??= nowMs();
      if (nowMs() - enobufsSince > enobufsTimeoutMs)
        throw new Error(`send(MSG_ZEROCOPY): ENOBUFS for over ${enobufsTimeoutMs} ms at offset ${off} of ${len} while draining completions (net.core.optmem_max too small?)`);
      count.take(10);
      continue;
    }
    enobufsSince = null;
    if (n <= 0) throw new Error(`send(MSG_ZEROCOPY) returned ${n} at offset ${off} of ${len}`);
    calls++;
    count.expected++;
    if (n < len - off) shortCounts++;
    off += n;
  }
  const returnedAt = nowMs();
  // Drained after every message so unread completions never fill optmem across messages.
  count.take(0);
  return { bytes: off, calls, shortCounts, startedAt, returnedAt, zerocopy: count };
}

export function openMsgZerocopy(fd: number, bytes: Uint8Array, limits = DEFAULT_SEND_LIMITS): MessageSender {
  enableZerocopy(fd);
  const count = new CompletionCount((c, timeoutMs) => takeCompletions(fd, c, timeoutMs));
  const sendCall: ZerocopySendCall = (off, len) => native.send(fd, bytes, off, len, SOCK.MSG_ZEROCOPY);
  return { zerocopy: count, send: () => sendZerocopyAll(sendCall, bytes.length, count, limits.enobufsTimeoutMs), close() {} };
}

export function msgZerocopyMethod() {
  return sendMethod(
    (_exp, intended) => bufferSource(intended),
    (fd, source, _exp, limits) => {
      if (source.kind !== 'buffer') throw new Error('msg-zerocopy needs a buffer source');
      return openMsgZerocopy(fd, source.bytes, limits);
    },
  );
}
