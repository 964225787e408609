// The line protocol between the harness and its receiver process (JSON, one object per line).

export interface ReceiverCase {
  id: string;
  /** bytes the sender will send; the receiver reads exactly this many, then to EOF */
  size: number;
  /** sleep after accept() before the first read */
  delayMs: number;
  /** SO_RCVBUFFORCE on the listening socket (inherited by the accepted one); undefined = default */
  rcvbuf?: number;
  /** after reading `size` bytes, send one byte back (the app-ack safeguard) */
  ack: boolean;
  /** where the received bytes are written (a tmpfs file the parent reads and deletes) */
  outFile: string;
  /** bound on the whole case: accept, read, EOF */
  timeoutMs: number;
}

export type ToReceiver = { type: 'case' } & ReceiverCase;

export type FromReceiver =
  | { type: 'listening'; address: string; port: number }
  | { type: 'ready'; id: string }
  | ({ type: 'result' } & ReceiverResult)
  | { type: 'fatal'; message: string };

export interface ReceiverResult {
  id: string;
  /** bytes read in total (including any beyond `size`) */
  bytes: number;
  /** epoch ms timestamps (performance.timeOrigin + now) */
  acceptedAt: number;
  firstReadAt: number | null;
  doneAt: number;
  /** effective SO_RCVBUF of the accepted socket (the kernel doubles what was asked) */
  rcvbufEffective: number;
  peer: { address: string; port: number };
  ackSentAt: number | null;
  error?: string;
}
