// The line protocol between the harness and its connecting client process (JSON, one object per line).
// The client is zcprobe's slow reader when the program under test listens (serve, wrap): it connects,
// writes a request, sleeps, then reads to EOF.

export interface ClientCase {
  id: string;
  /** where the program under test listens (an address reachable from the client's namespace) */
  host: string;
  port: number;
  /** bytes written right after connect (base64), e.g. an HTTP request; absent: nothing is written */
  request?: string;
  /** sleep after the request is written, before the first read */
  delayMs: number;
  /** SO_RCVBUFFORCE before connect (so the window scale fits it); undefined = kernel default */
  rcvbuf?: number;
  /** where the bytes read go (a tmpfs file the parent reads and deletes) */
  outFile: string;
  /** bound on the whole case: connect, request, read to EOF */
  timeoutMs: number;
  /** stop with an error after this many bytes (default 1 GiB): a runaway peer cannot fill tmpfs */
  maxBytes?: number;
}

export type ToClient = { type: 'case' } & ClientCase;

export type FromClient =
  | { type: 'started'; pid: number }
  /** always sent once per case, before its result: with `error` when the connect never succeeded */
  | { type: 'connected'; id: string; connectedAt: number; local: { address: string; port: number }; error?: string }
  | ({ type: 'result' } & ClientResult)
  | { type: 'fatal'; message: string };

export interface ClientResult {
  id: string;
  /** bytes read in total */
  bytes: number;
  /** epoch ms timestamps (performance.timeOrigin + now); 0 / null when that step was not reached */
  connectedAt: number;
  firstReadAt: number | null;
  doneAt: number;
  /** effective SO_RCVBUF of the connected socket (the kernel doubles what was asked) */
  rcvbufEffective: number;
  /** the client's end of the connection (the capture's 4-tuple is this plus host:port) */
  local: { address: string; port: number };
  error?: string;
}
