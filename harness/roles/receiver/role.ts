// The receiver role as run-case sees it: where to connect, and per case a promise of what the
// receiving application read. Two values fill it: the local receiver process (client.ts) and a
// remote agent (harness/roles/agent/remote-receiver.ts); run-case names neither.
import type { ReceivedCase } from './client.ts';
import type { ReceiverCase } from './protocol.ts';

export interface ReceiverRole {
  /** the address and port the case's connection goes to */
  readonly host: string;
  readonly port: number;
  /** Announces a case; resolves once its listener is up, with the promise of its result. */
  prepare(c: ReceiverCase): Promise<{ result: Promise<ReceivedCase> }>;
  close(): Promise<void>;
}
