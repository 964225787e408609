// Each send method's documented contract: how long the kernel may still read the source after the
// call returns, the documented point after which it may be changed, and where that is written. The
// report's rules (harness/report/recommend.ts) read these: clean cases never overrule a contract.
import type { Method, Safeguard } from './experiment.ts';
import { SAFEGUARDS } from './experiment.ts';

export interface SendContract {
  /** copy: the kernel copied the source during the call; reference: it may keep reading the
   * caller's pages after the call returned; gift: the pages were handed to the kernel for good */
  holds: 'copy' | 'reference' | 'gift';
  /** until when the kernel may still read the source */
  mayReadUntil: string;
  /** the documented safe point, in words that follow "the API still requires " */
  safePoint: string;
  /** the safeguards whose signal means the safe point was reached (empty: there is none). 'copy'
   * replaces the method and is consistent with every contract, so it is not listed. */
  safeAfter: readonly Safeguard[];
  /** where it is documented, short enough for a rule: page and section */
  source: string;
  /** the document in full: the man page's package, or the kernel source path */
  document: string;
  /** the documented words, quoted (an ellipsis marks what was left out) */
  quote: string;
}

/** A copying send: msg_zerocopy.rst states the contrast every zero-copy contract is drawn against. */
const COPY: SendContract = {
  holds: 'copy',
  mayReadUntil: 'the call returns: the bytes were copied into socket buffers during it',
  safePoint: 'nothing after the call returns',
  safeAfter: SAFEGUARDS.filter((s) => s !== 'copy'),
  source: 'msg_zerocopy.rst, "Opportunity and Caveats", where a copying send is the contrast',
  document: 'Documentation/networking/msg_zerocopy.rst in the Linux source',
  quote: 'Unlike with copying, the process cannot immediately overwrite the buffer after system call return',
};

/** The receiving application has read everything: the safe point of the page-reference methods. */
const CONSUMED = 'the receiving application to have consumed the data (wait for its ack)';

export const CONTRACTS: Readonly<Record<Method, SendContract>> = {
  write: COPY,
  'mmap-write': { ...COPY, mayReadUntil: 'the call returns: write() copies from the mapping during the call' },
  sendfile: {
    holds: 'reference',
    mayReadUntil: "the receiver has consumed the data: the socket's buffers reference the file's page-cache pages",
    safePoint: CONSUMED,
    safeAfter: ['app-ack', 'lease'],
    source: 'sendfile(2), NOTES',
    document: 'sendfile(2), Linux man-pages 6.03',
    quote:
      'callers must ensure the transferred portions of the file referred to by in_fd remain unmodified ' +
      'until the reader on the other end of out_fd has consumed the transferred data',
  },
  splice: {
    holds: 'reference',
    mayReadUntil: "the receiver has consumed the data: the pipe's buffers, then the socket's, reference the file's page-cache pages",
    safePoint: CONSUMED,
    safeAfter: ['app-ack', 'lease'],
    // splice(2) states the references; sendfile(2) states the safe point of the same file → socket path.
    source: 'splice(2), NOTES; the safe point as sendfile(2), NOTES, states it for the same file-to-socket path',
    document: 'splice(2) and sendfile(2), Linux man-pages 6.03',
    quote:
      'only pointers are copied, not the pages of the buffer … remain unmodified until the reader on the ' +
      'other end of out_fd has consumed the transferred data',
  },
  vmsplice: {
    holds: 'reference',
    mayReadUntil: 'the receiver has consumed the data: the pipe, then the socket, reference the user pages',
    safePoint: CONSUMED,
    safeAfter: ['app-ack'],
    source: 'vmsplice(2), DESCRIPTION, and a comment by Linus Torvalds in its man page source',
    document: 'vmsplice(2), Linux man-pages 6.03 (the comment is in man2/vmsplice.2)',
    quote:
      'maps nr_segs ranges of user memory described by iov into a pipe … the user needs to be careful not ' +
      'to reuse the user-space buffer it spliced into the kernel-space one',
  },
  'vmsplice-gift': {
    holds: 'gift',
    mayReadUntil: 'for good: the gifted pages belong to the kernel',
    safePoint: 'the gifted memory never to be modified again (send a copy, or gift fresh memory)',
    safeAfter: [],
    source: 'vmsplice(2), SPLICE_F_GIFT',
    document: 'vmsplice(2), Linux man-pages 6.03',
    quote: 'The user pages are a gift to the kernel. The application may not modify this memory ever',
  },
  tee: {
    holds: 'reference',
    mayReadUntil: 'the receiver has consumed the data and the pipe it was teed from is drained: both pipes reference the same pages',
    safePoint: CONSUMED,
    safeAfter: ['app-ack'],
    source: 'tee(2), NOTES; the pages come from vmsplice(2), whose rule applies',
    document: 'tee(2) and vmsplice(2), Linux man-pages 6.03',
    quote: 'tee() assigns data to the output by merely grabbing a reference to the input',
  },
  'msg-zerocopy': {
    holds: 'reference',
    mayReadUntil: "the zero-copy completion: the socket's buffers pin the user pages until then",
    safePoint: 'the zero-copy completion (MSG_ERRQUEUE)',
    safeAfter: ['zc-completion'],
    source: 'msg_zerocopy.rst, "Opportunity and Caveats"',
    document: 'Documentation/networking/msg_zerocopy.rst in the Linux source',
    quote:
      'the process cannot immediately overwrite the buffer after system call return without possibly ' +
      'modifying the data in flight … The kernel returns a notification when it is safe to modify data.',
  },
  'io-uring-zc': {
    holds: 'reference',
    mayReadUntil: 'the notification CQE (IORING_CQE_F_NOTIF), which may come long after the result CQE (e.g. after the TCP ACK)',
    safePoint: 'the notification CQE (F_NOTIF)',
    safeAfter: ['zc-completion'],
    source: 'io_uring_enter(2), IORING_OP_SEND_ZC',
    document: 'io_uring_enter(2) of liburing 2.3; io_uring_prep_send_zc(3) refers there for the zero-copy rules',
    quote: 'The user must not modify the data buffer until the notification is posted.',
  },
};

/** The contract of a method this version knows; undefined for a name it does not. */
export function contractOf(method: string): SendContract | undefined {
  return Object.hasOwn(CONTRACTS, method) ? CONTRACTS[method as Method] : undefined;
}

/** The kernel may read the source after the call returned: clean cases cannot make reuse safe. */
export function sendsByReference(c: SendContract): boolean {
  return c.holds !== 'copy';
}

/** A safeguard after which the contract allows changing the source: its safe point, or sending a
 * copy instead (which replaces the by-reference send altogether). */
export function allowedBy(c: SendContract, safeguard: string): boolean {
  return safeguard === 'copy' || (c.safeAfter as readonly string[]).includes(safeguard);
}
