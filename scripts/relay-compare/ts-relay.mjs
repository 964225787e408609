// The relay loop written in JavaScript, for comparison with native/relay/zcrelay.c only (see
// measure.sh): zcrelay --exec creates both TUN devices and hands them over as fds 3 and 4; this
// copies each packet from one to the other. One libuv fs.read per packet (the threadpool blocks
// in read(2)), writeSync into the other device. No faults, no events: the cost of the loop itself.
import { read, writeSync } from 'node:fs';

function pump(from, to) {
  const buf = Buffer.allocUnsafe(65536);
  const next = () => read(from, buf, 0, buf.length, null, (err, n) => {
    if (err) { process.stderr.write(`ts-relay: read fd ${from}: ${err.message}\n`); process.exit(1); }
    try { writeSync(to, buf, 0, n); } catch { /* device down: drop, as zcrelay counts */ }
    next();
  });
  next();
}
pump(3, 4);
pump(4, 3);
process.stdout.write('{"type":"ready"}\n');
// Exit by SIGKILL: process.exit() would wait for the threadpool threads blocked in read(2).
process.stdin.on('end', () => process.kill(process.pid, 'SIGKILL')).resume();
