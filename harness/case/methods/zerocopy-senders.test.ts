// The zero-copy senders on a loopback pair: a SEND_ZC flag the kernel does not know (REPORT_USAGE before 6.2) is retried
// without it and recorded, not a crash; with known flags nothing is recorded and COPIED is known. Sockets: run under the live lock.
import { testWithNeeds } from '../../../properties/helpers/requirements.ts';
import { native } from '../../native.ts';
import { openIoUringZc } from './io-uring-zc.ts';
import { openMsgZerocopy } from './msg-zerocopy.ts';
import { tcpPair } from '../../../test-support/tcp-pair.ts';


function readAll(fd: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let got = 0; got < n; ) {
    const k = native.read(fd, out, got, n - got);
    if (k === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

await testWithNeeds('io-uring-zc: a SEND_ZC flag the kernel refuses (EINVAL) is dropped, recorded, and every byte still arrives', ['ioUringSendZc'], (t) => {
  const [c, s] = tcpPair();
  const bytes = new Uint8Array(native.allocPages(8192)).fill(9);
  // Bit 15 of sqe->ioprio is no SEND_ZC flag any kernel knows: EINVAL, as REPORT_USAGE on 5.x/6.0/6.1.
  const sender = openIoUringZc(c, bytes, { zcFlags: native.uringSendZcReportUsage | 0x8000 });
  try {
    const r = sender.send();
    t.is(r.bytes, 8192);
    t.deepEqual(r.fallbacks, ['SEND_ZC flags 0x8008 refused (EINVAL): sent without them, so COPIED is unknown']);
    const zc = sender.zerocopy!.waitAll(2000);
    t.like(zc, { received: zc.expected, copiedKnown: false });
    t.true(zc.expected >= 1);
    t.deepEqual(readAll(s, 8192), bytes);
    // The flag stays off for later messages on the same sender; the record stays.
    t.deepEqual(sender.send().fallbacks, r.fallbacks);
    t.deepEqual(readAll(s, 8192), bytes);
  } finally {
    sender.close();
    native.close(c);
    native.close(s);
  }
});

await testWithNeeds('io-uring-zc: with the flags this kernel knows nothing is recorded and COPIED is known', ['ioUringSendZc'], (t) => {
  const [c, s] = tcpPair();
  const bytes = new Uint8Array(native.allocPages(8192)).fill(3);
  const sender = openIoUringZc(c, bytes);
  try {
    const r = sender.send();
    t.is(r.fallbacks, undefined);
    const zc = sender.zerocopy!.waitAll(2000);
    t.like(zc, { received: zc.expected, copiedKnown: true });
    t.deepEqual(readAll(s, 8192), bytes);
  } finally {
    sender.close();
    native.close(c);
    native.close(s);
  }
});

await testWithNeeds('msg-zerocopy: many messages on one sender, every completion counted once', ['soZerocopy'], (t) => {
  const [c, s] = tcpPair();
  const bytes = new Uint8Array(native.allocPages(65536)).fill(5);
  const sender = openMsgZerocopy(c, bytes);
  try {
    let calls = 0;
    for (let i = 0; i < 20; i++) {
      calls += sender.send().calls;
      t.deepEqual(readAll(s, bytes.length), bytes);
    }
    const zc = sender.zerocopy!.waitAll(2000);
    t.is(zc.expected, calls, 'one completion per accepted send() call');
    t.is(zc.received, zc.expected);
    t.true(zc.copiedKnown);
  } finally {
    sender.close();
    native.close(c);
    native.close(s);
  }
});
