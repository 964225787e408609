// A connected loopback TCP pair for tests that exercise socket syscalls directly (no receiver
// process, no capture): [client, server]; the listener is already closed.
import { native } from '../harness/native.ts';

export function tcpPair(): [number, number] {
  const l = native.socket(4);
  try {
    native.bind(l, '127.0.0.1', 0);
    native.listen(l, 1);
    const c = native.socket(4);
    native.connect(c, '127.0.0.1', native.getsockname(l).port);
    return [c, native.accept(l)];
  } finally {
    native.close(l);
  }
}
