import test from 'ava';
import { ExperimentError, formatSize, makeExperiment, parseDurationMs, parseSize } from './experiment.ts';

test('sizes parse with binary and decimal units', (t) => {
  t.is(parseSize('4096'), 4096);
  t.is(parseSize('64KiB'), 65536);
  t.is(parseSize('1MiB'), 1 << 20);
  t.is(parseSize('1mb'), 1_000_000);
  t.is(parseSize('1.5k'), 1536);
  t.throws(() => parseSize('12QB'), { message: /not a size/ });
  t.throws(() => parseSize(''), { message: /not a size/ });
  t.is(formatSize(1 << 20), '1MiB');
  t.is(formatSize(1000), '1000B');
});

test('durations parse', (t) => {
  t.is(parseDurationMs('50'), 50);
  t.is(parseDurationMs('50ms'), 50);
  t.is(parseDurationMs('1s'), 1000);
  t.throws(() => parseDurationMs('soon'));
});

test('defaults: file methods mutate with pwrite, buffer methods overwrite', (t) => {
  t.is(makeExperiment({ method: 'sendfile', size: 1 }).mutation, 'pwrite');
  t.is(makeExperiment({ method: 'vmsplice', size: 1 }).mutation, 'overwrite');
  t.is(makeExperiment({ method: 'mmap-write', size: 1 }).mutation, 'overwrite');
});

test('impossible combinations are rejected naming the field', (t) => {
  const cases: [Parameters<typeof makeExperiment>[0], string][] = [
    [{ method: 'write', size: 1, mutation: 'pwrite' }, 'mutation'],
    [{ method: 'sendfile', size: 1, mutation: 'overwrite' }, 'mutation'],
    [{ method: 'write', size: 1, safeguard: 'zc-completion' }, 'safeguard'],
    [{ method: 'write', size: 0 }, 'size'],
    [{ method: 'write', size: 1, receiverDelayMs: -1 }, 'receiverDelayMs'],
    [{ method: 'write', size: 1, rcvbuf: 10 }, 'rcvbuf'],
    [{ method: 'nope' as 'write', size: 1 }, 'method'],
  ];
  for (const [partial, field] of cases) {
    const e = t.throws(() => makeExperiment(partial), { instanceOf: ExperimentError });
    t.is(e?.field, field);
  }
});
