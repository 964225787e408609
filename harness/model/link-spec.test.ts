// The link-fault specs: what users type (--link-loss "2%", "#3,#10-12", --link-rate 100mbit), what
// is rejected with a message naming the accepted forms, and the relay's config line.
import test from 'ava';
import { describeEvent, describeFaults, parseLinkRate, parseSelector, relayConfigLine, validateLinkFaults } from './link-spec.ts';

test('probabilities: percent or fraction', (t) => {
  t.deepEqual(parseSelector('2%'), { kind: 'probability', p: 0.02 });
  t.deepEqual(parseSelector('0.02'), { kind: 'probability', p: 0.02 });
  t.deepEqual(parseSelector('1'), { kind: 'probability', p: 1 });
  t.deepEqual(parseSelector('0'), { kind: 'probability', p: 0 });
});

test('segment numbers: single, list, ranges', (t) => {
  t.deepEqual(parseSelector('#3'), { kind: 'segments', ranges: [[3, 3]] });
  t.deepEqual(parseSelector('#3, #10-12'), { kind: 'segments', ranges: [[3, 3], [10, 12]] });
  t.deepEqual(parseSelector('#10-#12'), { kind: 'segments', ranges: [[10, 12]] });
});

for (const bad of ['', '3', '#0', '#5-3', '150%', '1.5', '-0.1', 'two', '#3;#4', '#1e3']) {
  test(`"${bad}" is rejected with the accepted forms`, (t) => {
    t.throws(() => parseSelector(bad), { message: /probability|from 0 to 1/ });
  });
}

test('rates: units, bounds', (t) => {
  t.is(parseLinkRate('100mbit'), 1e8);
  t.is(parseLinkRate('1.5gbit'), 1.5e9);
  t.is(parseLinkRate('8kbit'), 8000);
  for (const bad of ['100', '7kbit', '100 mbit', '100mbps', 'fast']) t.throws(() => parseLinkRate(bad), { message: /rate/ }, bad);
});

test('validation names the field', (t) => {
  t.notThrows(() => validateLinkFaults({ delayMs: 20, jitterMs: 5, loss: '1%', reorder: '#4', rate: '1gbit', seed: 7 }));
  t.throws(() => validateLinkFaults({ delayMs: -1 }), { message: /delayMs/ });
  t.throws(() => validateLinkFaults({ jitterMs: 5 }), { message: /jitterMs needs a delayMs/ });
  t.throws(() => validateLinkFaults({ loss: '#0' }), { message: /^loss: / });
  t.throws(() => validateLinkFaults({ reorder: 'x' }), { message: /^reorder: / });
  t.throws(() => validateLinkFaults({ rate: '1' }), { message: /^rate: / });
  t.throws(() => validateLinkFaults({ seed: 1.5 }), { message: /seed/ });
});

test('the relay config line carries every fault in the relay units', (t) => {
  t.is(relayConfigLine(), 'config delay_us=0 jitter_us=0 rate_bps=0 seed=1 loss=none reorder=none');
  t.is(
    relayConfigLine({ delayMs: 20.5, jitterMs: 2, rate: '100mbit', seed: 9, loss: '2%', reorder: '#3,#10-12' }),
    'config delay_us=20500 jitter_us=2000 rate_bps=100000000 seed=9 loss=p:0.02 reorder=n:3,10-12',
  );
});

test('case.json records only what was set, and the seed when it matters', (t) => {
  t.deepEqual(describeFaults({}), {});
  t.deepEqual(describeFaults({ delayMs: 10 }), { delayMs: 10 });
  t.deepEqual(describeFaults({ loss: '#3' }), { loss: '#3', seed: 1 });
});

test('an event reads as a sentence', (t) => {
  const e = { kind: 'drop' as const, cause: 'loss' as const, dir: 's2r' as const, at: 0, src: 'a', srcPort: 1, dst: 'b', dstPort: 2, seq: 100, len: 1448, flags: 16, offset: 2896, segment: 3, retransmission: false };
  t.is(describeEvent(e), 'the link dropped data segment #3 at stream offset 2896, 1448 B (--link-loss)');
  t.is(describeEvent({ ...e, kind: 'reorder', cause: 'reorder', retransmission: true }), 'the link delivered data segment #3 (a retransmission) at stream offset 2896, 1448 B after the next packet (--link-reorder)');
});
