// The control channel's framing and validation, without sockets: frames split anywhere
// reassemble; an oversized header is refused before its body is kept; bad JSON and invalid
// messages are errors that name the problem.
import test from 'ava';
import { parseHostPort } from './address.ts';
import { CLIENT_FRAME_LIMITS, encodeFrame, FrameError, FrameReader, MAX_CASE_BYTES, MessageError, parseClientMessage, type Frame } from './protocol.ts';

const frames = (out: (Frame | FrameError)[]): Frame[] => out.filter((f): f is Frame => !(f instanceof FrameError));

test('frames split at every byte boundary reassemble in order, with their attachments', (t) => {
  const a = encodeFrame({ type: 'time', t1: 1.5 });
  const b = encodeFrame({ type: 'x' }, Buffer.from([1, 2, 3]));
  const stream = Buffer.concat([a, b]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const r = new FrameReader({ json: 1024, binary: 16 });
    const got = frames([...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))]);
    t.deepEqual(got.map((f) => f.msg), [{ type: 'time', t1: 1.5 }, { type: 'x' }], `cut at ${cut}`);
    t.deepEqual([...got[1]!.binary], [1, 2, 3]);
  }
});

test('a header announcing more than the limit is a fatal error before any body arrives', (t) => {
  const r = new FrameReader(CLIENT_FRAME_LIMITS);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(CLIENT_FRAME_LIMITS.json + 1, 0);
  const e = t.throws(() => r.push(header), { instanceOf: FrameError });
  t.true(e.fatal);
  t.regex(e.message, /exceeds the limit/);
  const withBinary = Buffer.alloc(8);
  withBinary.writeUInt32BE(2, 0);
  withBinary.writeUInt32BE(1, 4); // clients may not attach anything
  t.true(t.throws(() => new FrameReader(CLIENT_FRAME_LIMITS).push(withBinary), { instanceOf: FrameError }).fatal);
});

test('JSON that does not parse is a non-fatal error in its place; the next frame still reads', (t) => {
  const bad = Buffer.from('{nope');
  const header = Buffer.alloc(8);
  header.writeUInt32BE(bad.length, 0);
  const out = new FrameReader(CLIENT_FRAME_LIMITS).push(Buffer.concat([header, bad, encodeFrame({ type: 'bye' })]));
  t.is(out.length, 2);
  t.true(out[0] instanceof FrameError && !out[0].fatal);
  t.deepEqual((out[1] as Frame).msg, { type: 'bye' });
});

test('client messages are checked field by field', (t) => {
  t.deepEqual(parseClientMessage({ type: 'case', id: 'case-1-2', size: 1024, delayMs: 50, ack: false, timeoutMs: 1000 }), { type: 'case', id: 'case-1-2', size: 1024, delayMs: 50, ack: false, timeoutMs: 1000 });
  const bad: [unknown, RegExp][] = [
    [[1, 2], /JSON object/],
    [{ type: 'exec', cmd: 'sh' }, /unknown message type "exec"/],
    [{ type: 'case', id: '../etc/passwd', size: 1, delayMs: 0, ack: false, timeoutMs: 1 }, /case\.id/],
    [{ type: 'case', id: 'a', size: MAX_CASE_BYTES + 1, delayMs: 0, ack: false, timeoutMs: 1 }, /case\.size/],
    [{ type: 'case', id: 'a', size: 1, delayMs: -1, ack: false, timeoutMs: 1 }, /case\.delayMs/],
    [{ type: 'case', id: 'a', size: 1, delayMs: 0, ack: 'yes', timeoutMs: 1 }, /case\.ack/],
    [{ type: 'case', id: 'a', size: 1, delayMs: 0, ack: false, timeoutMs: 1, outFile: '/tmp/x' }, /unknown field\(s\) outFile/],
    [{ type: 'open', version: 1 }, /open\.capture/],
    [{ type: 'time', t1: 'now' }, /time\.t1/],
  ];
  for (const [m, re] of bad) t.throws(() => parseClientMessage(m), { instanceOf: MessageError, message: re });
});

test('ADDR:PORT takes IP literals only, never a wildcard', (t) => {
  t.deepEqual(parseHostPort('10.0.0.2:7070'), { host: '10.0.0.2', port: 7070 });
  t.deepEqual(parseHostPort('[fd00::2]:7070'), { host: 'fd00::2', port: 7070 });
  for (const bad of ['0.0.0.0:1', '[::]:1', 'example.com:80', '10.0.0.2', '10.0.0.2:0', '10.0.0.2:70000', 'fd00::2:7070']) t.throws(() => parseHostPort(bad), undefined, bad);
});
