// The shim's log → one connection's I (bytes at each call, stream order), the program's writes in flight
// mapped to stream offsets (also across a range split over several sends), findings, and the "mutated"
// view: a changed byte counts as written only if the program wrote that value there.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEndpoint, parseLog, readShimLogs } from './shim-log.ts';
import { findConnection, mutatedView } from './shim-streams.ts';

function fakeLog(events: object[], data: Buffer): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-shimlog-'));
  writeFileSync(join(dir, '100-1.log'), events.map((e) => JSON.stringify(e)).join('\n') + '\n{"ev":"torn');
  writeFileSync(join(dir, '100-1.data'), data);
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const start = { ev: 'start', pid: 100, ppid: 1, exe: '/bin/x', cap: 1 << 20, protect: 1, pg: 4096, uring: 0, t: 1 };
const conn = { ev: 'conn', conn: 1, fd: 5, local: '[0000:0000:0000:0000:0000:ffff:7f00:0001]:80', peer: '127.0.0.1:4000', t: 2 };

test('endpoints: IPv4-mapped becomes IPv4, IPv6 is written as the capture decoder writes it', (t) => {
  t.deepEqual(parseEndpoint('[0000:0000:0000:0000:0000:ffff:7f00:0001]:80'), { address: '127.0.0.1', port: 80 });
  t.deepEqual(parseEndpoint('[fd00:0000:0000:0000:0000:0000:0000:0002]:443'), { address: 'fd00::2', port: 443 });
  t.deepEqual(parseEndpoint('10.1.2.3:9'), { address: '10.1.2.3', port: 9 });
  t.is(parseLog('{"ev":"exit"}\nnot json\n').unreadable, 1);
});

test('I is the bytes at each call in order; a vmsplice range split over two splices maps writes to both', (t) => {
  // data file: 4 bytes of a copy, 6 bytes of the vmsplice range, then 3 bytes the program wrote into it
  const data = Buffer.from([1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 90, 91, 92]);
  const { dir, done } = fakeLog([
    start, conn,
    { ev: 'send', conn: 1, fd: 5, call: 'write', off: 0, len: 4, data: 0, t: 3 },
    { ev: 'range', range: 7, kind: 'vmsplice', addr: '0x1000', len: 6, protected: 1, t: 4 },
    { ev: 'send', conn: 1, fd: 5, call: 'splice', off: 4, len: 2, data: 4, range: 7, roff: 0, t: 5 },
    { ev: 'send', conn: 1, fd: 5, call: 'splice', off: 6, len: 4, data: 6, range: 7, roff: 2, t: 6 },
    { ev: 'site', ip: '0x55', exact: 1, bt: ['0x55'] },
    // the program writes range bytes 1..3: stream offsets 5 (first splice) and 6, 7 (second)
    { ev: 'write', range: 7, roff: 1, len: 3, data: 10, ip: '0x55', by: 'fault', t: 7 },
    { ev: 'finding', kind: 'free', range: 7, roff: 0, len: 6, ip: '0x55', t: 8 },
    { ev: 'send', conn: 2, fd: 6, call: 'write', off: 0, len: 1, data: 0, t: 9 },
    { ev: 'send', conn: 1, fd: 5, call: 'sendfile', off: 10, len: 2, data: -1, t: 9 },
  ], data);
  t.teardown(done);
  const logs = readShimLogs(dir);
  t.is(logs[0]!.unreadable, 1, 'the torn last line is counted, not guessed');
  const c = findConnection(logs, { address: '127.0.0.1', port: 80 }, { address: '127.0.0.1', port: 4000 })!;
  t.truthy(c);
  t.deepEqual([...c.intended], [1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 0, 0]);
  t.deepEqual(c.unrecorded, [{ start: 10, end: 12, why: 'the bytes came from a source the shim did not see' }]);
  t.deepEqual(c.patches.map((p) => [p.start, [...p.bytes]]), [[5, [90]], [6, [91, 92]]]);
  const found = c.findings.map((f) => [f.kind, f.start, f.end, f.changed]);
  t.deepEqual(found, [['write-in-flight', 5, 6, 1], ['write-in-flight', 6, 8, 2], ['free', 4, 6, 0], ['free', 6, 10, 0]]);
  t.deepEqual(c.sends.map((s) => s.source), ['copy', 'vmsplice', 'vmsplice', 'unknown']);
  t.is(findConnection(logs, { address: '127.0.0.1', port: 80 }, { address: '127.0.0.1', port: 4001 }), null);
});

test('mutatedView: each observation picks the version the program wrote that it equals; nothing else is "new"', (t) => {
  const I = new Uint8Array([1, 1, 1, 1]);
  const patches = [
    { start: 0, bytes: new Uint8Array([2, 2, 2, 2]), by: 'fault', t: 1 },
    { start: 0, bytes: new Uint8Array([3, 3, 3, 3]), by: 'fault', t: 2 },
  ];
  const view = mutatedView(I, patches, new Uint8Array([1, 2, 3, 9]));
  t.deepEqual([...view], [3, 2, 3, 3], 'I stays I (last version), 2 and 3 are kept, 9 is not a version');
  // a retransmission carrying an older version is recognised too
  const seen = [{ start: 0, bytes: new Uint8Array([1, 1, 1, 1]) }, { start: 2, bytes: new Uint8Array([2, 2]) }];
  t.deepEqual([...mutatedView(I, patches, seen)], [3, 3, 2, 2]);
});
