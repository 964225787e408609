// A safeguard is what the sender does between "the send returned" and "I reuse the buffer".
import type { Experiment } from '../experiment.ts';
import type { SendResult } from '../methods/types.ts';

export interface SafeguardContext {
  fd: number;
  exp: Experiment;
  send: SendResult;
}

export interface SafeguardResult {
  /** time spent waiting, ms */
  waitedMs: number;
  /** what ended the wait, in words ("SIOCOUTQ=0 after 12 polls", "returned at once") */
  signal: string;
  /** false: the bounded wait ran out before the safe condition was seen */
  reached: boolean;
}

export type SafeguardWait = (ctx: SafeguardContext) => SafeguardResult;
