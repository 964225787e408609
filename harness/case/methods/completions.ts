// The zero-copy completion count of one connection (a MSG_ZEROCOPY socket or an io_uring ring),
// cumulative over every message sent on it: a case reads it after one message, the bench after
// many. `take` collects what is there (waiting up to timeoutMs) and returns false when nothing came.
import { nowMs } from '../../model/patterns.ts';
import type { ZerocopyCompletionSummary, ZerocopyPending } from './types.ts';

/** Longest single wait inside waitAll, so the deadline is honoured even if `take` overshoots. */
const SLICE_MS = 50;

export class CompletionCount implements ZerocopyPending {
  expected = 0;
  received = 0;
  copied = 0;
  copiedKnown = true;
  private completeAt: number | null = null;
  private readonly takeFn: (count: CompletionCount, timeoutMs: number) => boolean;

  constructor(take: (count: CompletionCount, timeoutMs: number) => boolean) {
    this.takeFn = take;
  }

  take(timeoutMs: number): boolean {
    return this.takeFn(this, timeoutMs);
  }

  add(n: number, copied: boolean): void {
    const before = this.received;
    this.received += n;
    if (copied) this.copied += n;
    if (before < this.expected && this.received >= this.expected) this.completeAt = nowMs();
  }

  // Nothing is collected once every send is accounted for: an empty take(0) still costs a
  // syscall, which the bench would charge to the safeguard though no completion was owed.
  summary(): ZerocopyCompletionSummary {
    while (this.received < this.expected && this.take(0));
    return {
      expected: this.expected,
      received: this.received,
      copied: this.copied,
      copiedKnown: this.copiedKnown,
      completeAt: this.completeAt,
    };
  }

  waitAll(timeoutMs: number): ZerocopyCompletionSummary {
    const deadline = nowMs() + timeoutMs;
    while (this.received < this.expected && this.take(0));
    while (this.received < this.expected) {
      const left = Math.ceil(deadline - nowMs());
      if (left <= 0) break;
      this.take(Math.min(left, SLICE_MS));
    }
    return this.summary();
  }
}
