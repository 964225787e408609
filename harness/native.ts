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

  readZerocopyCompletions(fd: number): ZerocopyCompletion[];

  uringCompiled: boolean;
  uringCreate(entries: number): Ring;
  uringClose(ring: Ring): void;
  uringProbeSendZc(): boolean;
  uringSendZc(ring: Ring, fd: number, buf: Bytes, off: number, len: number, flags: number): { res: number; more: boolean; id: number };
  uringWaitNotif(ring: Ring, timeoutMs: number): { id: number; res: number; copied: boolean } | null;

  open(path: string, flags: number, mode?: number): number;
  pwrite(fd: number, buf: Bytes, off: number, len: number, position: number): number;
  pread(fd: number, buf: Bytes, off: number, len: number, position: number): number;
  ftruncate(fd: number, len: number): void;
  fsync(fd: number): void;
  fcntlInt(fd: number, cmd: number, arg?: number): number;

  sockConstants: Record<
    | 'SOL_SOCKET' | 'IPPROTO_TCP' | 'SO_SNDBUF' | 'SO_RCVBUF' | 'SO_SNDBUFFORCE' | 'SO_RCVBUFFORCE'
    | 'SO_REUSEADDR' | 'SO_ZEROCOPY' | 'TCP_NODELAY' | 'TCP_CORK' | 'SIOCOUTQ' | 'SIOCOUTQNSD' | 'SIOCINQ'
    | 'POLLIN' | 'POLLOUT' | 'POLLERR' | 'POLLHUP' | 'MSG_ZEROCOPY' | 'MSG_DONTWAIT' | 'MSG_NOSIGNAL' | 'SO_ERROR',
    number
  >;
  spliceConstants: Record<'SPLICE_F_MOVE' | 'SPLICE_F_NONBLOCK' | 'SPLICE_F_MORE' | 'SPLICE_F_GIFT' | 'O_NONBLOCK', number>;
  fileConstants: Record<
    | 'O_RDONLY' | 'O_WRONLY' | 'O_RDWR' | 'O_CREAT' | 'O_TRUNC' | 'O_EXCL' | 'F_SETLEASE' | 'F_GETLEASE'
    | 'F_SETSIG' | 'F_GETSIG' | 'F_RDLCK' | 'F_WRLCK' | 'F_UNLCK' | 'F_SETPIPE_SZ' | 'F_GETPIPE_SZ'
    | 'F_GETFL' | 'F_SETFL',
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
