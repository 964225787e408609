// What each verdict means, in one sentence, and how it looks: shared by the HTML and Markdown
// renderings so both say the same thing.
import type { Verdict } from './types.ts';

export interface VerdictStyle {
  /** cell background */
  fill: string;
  /** text and bar colour with enough contrast on white */
  ink: string;
  /** for Markdown tables, where there is no colour */
  mark: string;
  meaning: string;
}

export const VERDICT_STYLE: Record<Verdict, VerdictStyle> = {
  clean: {
    fill: '#c9ecd1',
    ink: '#1e7b38',
    mark: '🟢',
    meaning: 'the packets on the wire and the bytes the receiver read were exactly the intended bytes in every case.',
  },
  'corrupted-on-wire': {
    fill: '#f6b9b3',
    ink: '#c0271d',
    mark: '🔴',
    meaning: 'the captured packets carried bytes other than the intended ones: the kernel read the source after the application changed it.',
  },
  'corrupted-on-retransmit': {
    fill: '#f7e7a1',
    ink: '#8a6400',
    mark: '🟡',
    meaning:
      'the first transmission carried the intended bytes and the receiver read them, but a TCP retransmission carried changed bytes: the kernel read the source after the application changed it, and on a lossy link that copy could have been the one delivered.',
  },
  'corrupted-after-wire': {
    fill: '#fcd5a0',
    ink: '#c46500',
    mark: '🟠',
    meaning:
      "the wire carried the intended bytes but the receiver read the mutated ones — on loopback/veth the receiver's queued skbs can still reference the sender's pages after the ACK.",
  },
  corrupted: {
    fill: '#e9c0e2',
    ink: '#8f2b80',
    mark: '🟣',
    meaning: 'no capture ran and the receiver read bytes other than the intended ones; where they changed is unknown.',
  },
  inconclusive: {
    fill: '#d9d9d9',
    ink: '#5a5a5a',
    mark: '⚪',
    meaning: 'the evidence is incomplete (dropped packets, a gap in the capture, a safeguard that timed out) and proves no corruption, so the cell is never called clean.',
  },
  skipped: {
    fill: '#f3f3f3',
    ink: '#8a8a8a',
    mark: '➖',
    meaning: 'this host cannot run the cell; the reason is given.',
  },
};

export const NOT_APPLICABLE = 'the safeguard does not apply to the method (zc-completion exists only for MSG_ZEROCOPY and io_uring SEND_ZC; lease and lease-early only for file-backed sends: sendfile, splice, mmap-write).';
