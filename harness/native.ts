// Typed view of the C++ addon (native/src): thin syscall wrappers that throw errors carrying
// `errno`, `code` and `syscall`. No logic lives there; it all lives in harness/.
import { createRequire } from 'node:module';

export type Bytes = ArrayBuffer | ArrayBufferView;

export interface NativeError extends Error {
  errno: number;
  code: string;
  syscall: string;
}

export interface ZerocopyCompletion {
  lo: number;
  hi: number;
  copied: boolean;
}

export interface TcpInfo {
  state: number;
  unacked: number;
  retransmits: number;
  bytesAcked: number;
  bytesSent: number;
  notsentBytes: number;
  rttUs: number;
}

export type Ring = { readonly __ring: unique symbol };

export interface Native {
  allocPages(size: number): ArrayBuffer;
  mapFile(fd: number, size: number, writable: boolean): ArrayBuffer;
  pageSize(): number;
  /** offset of the view's first byte within its page: 0 when page aligned */
  pageOffset(buf: Bytes): number;

  /** a TCP (or UDP: type 'dgram') socket, created in the network namespace at `netns` when given */
  socket(family: 4 | 6, opts?: { type?: 'stream' | 'dgram'; netns?: string }): number;
  sendto(fd: number, buf: Bytes, off: number, len: number, host: string, port: number): number;
  bind(fd: number, host: string, port: number): void;
  connect(fd: number, host: string, port: number): void;
  listen(fd: number, backlog: number): void;
  accept(fd: number): number;
  close(fd: number): void;
  shutdown(fd: number, how: 0 | 1 | 2): void;
  getsockname(fd: number): { address: string; port: number; family: 'IPv4' | 'IPv6' };
  getpeername(fd: number): { address: string; port: number; family: 'IPv4' | 'IPv6' };
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  getsockoptInt(fd: number, level: number, name: number): number;
  ioctlInt(fd: number, request: number): number;
  tcpInfo(fd: number): TcpInfo;
  poll(fd: number, events: number, timeoutMs: number): number;

  write(fd: number, buf: Bytes, off: number, len: number): number;
  read(fd: number, buf: Bytes, off: number, len: number): number;
  send(fd: number, buf: Bytes, off: number, len: number, flags: number): number;
  sendfile(outFd: number, inFd: number, offset: number, count: number): { bytes: number; offset: number };
  pipe2(flags: number): [number, number];
  splice(fdIn: number, offIn: number | null, fdOut: number, offOut: number | null, len: number, flags: number): number;
  vmsplice(fd: number, buf: Bytes, off: number, len: number, flags: number): number;
  tee(fdIn: number, fdOut: number, len: number, flags: number): number;

  /** Drains the error queue; an error part-way comes back next to the completions taken before it. */
  readZerocopyCompletions(fd: number): { completions: ZerocopyCompletion[]; error: NativeError | null };

  uringCompiled: boolean;
  uringCreate(entries: number): Ring;
  uringClose(ring: Ring): void;
  uringProbeSendZc(): boolean;
  /** IORING_SEND_ZC_REPORT_USAGE (kernel 6.2+): the notification says whether the kernel copied. */
  uringSendZcReportUsage: number;
  /** One SEND_ZC; zcFlags defaults to REPORT_USAGE, timeoutMs (bound on the result CQE; ETIME) to 30000. */
  uringSendZc(
    ring: Ring, fd: number, buf: Bytes, off: number, len: number, flags: number, zcFlags?: number, timeoutMs?: number,
  ): { res: number; more: boolean; id: number };
  uringWaitNotif(ring: Ring, timeoutMs: number): { id: number; res: number; copied: boolean } | null;

  open(path: string, flags: number, mode?: number): number;
  pwrite(fd: number, buf: Bytes, off: number, len: number, position: number): number;
  pread(fd: number, buf: Bytes, off: number, len: number, position: number): number;
  ftruncate(fd: number, len: number): void;
  fsync(fd: number): void;
  fcntlInt(fd: number, cmd: number, arg?: number): number;
  fallocate(fd: number, mode: number, offset: number, length: number): void;
  /** false only with LOCK_NB when another open file holds the lock */
  flock(fd: number, op: number): boolean;
  /** ioctl(destFd, FICLONE, srcFd): dest shares src's extents (reflink) */
  ficlone(destFd: number, srcFd: number): void;

  sockConstants: Record<
    | 'SOL_SOCKET' | 'IPPROTO_TCP' | 'SO_SNDBUF' | 'SO_RCVBUF' | 'SO_SNDBUFFORCE' | 'SO_RCVBUFFORCE'
    | 'SO_REUSEADDR' | 'SO_ZEROCOPY' | 'TCP_NODELAY' | 'TCP_CORK' | 'SIOCOUTQ' | 'SIOCOUTQNSD' | 'SIOCINQ'
    | 'POLLIN' | 'POLLOUT' | 'POLLERR' | 'POLLHUP' | 'MSG_ZEROCOPY' | 'MSG_DONTWAIT' | 'MSG_NOSIGNAL' | 'SO_ERROR',
    number
  >;
  spliceConstants: Record<'SPLICE_F_MOVE' | 'SPLICE_F_NONBLOCK' | 'SPLICE_F_MORE' | 'SPLICE_F_GIFT' | 'O_NONBLOCK', number>;
  fileConstants: Record<
    | 'O_RDONLY' | 'O_WRONLY' | 'O_RDWR' | 'O_CREAT' | 'O_TRUNC' | 'O_EXCL' | 'O_DIRECT' | 'F_SETLEASE' | 'F_GETLEASE'
    | 'FALLOC_FL_KEEP_SIZE' | 'FALLOC_FL_PUNCH_HOLE'
    | 'F_SETSIG' | 'F_GETSIG' | 'F_RDLCK' | 'F_WRLCK' | 'F_UNLCK' | 'F_SETPIPE_SZ' | 'F_GETPIPE_SZ'
    | 'F_GETFL' | 'F_SETFL'
    | 'LOCK_SH' | 'LOCK_EX' | 'LOCK_NB' | 'LOCK_UN',
    number
  >;
}

const require = createRequire(import.meta.url);

function load(): Native {
  try {
    return require('../build/Release/zcprobe_native.node') as Native;
  } catch (err) {
    const e = err as Error;
    throw new Error(`zcprobe native addon not built (${e.message.split('\n')[0]}): run \`npm ci\` (needs g++ and make)`);
  }
}

export const native: Native = load();
export const { sockConstants: SOCK, spliceConstants: SPLICE, fileConstants: FILE } = native;

export function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && typeof (e as NativeError).errno === 'number' && typeof (e as NativeError).code === 'string';
}
