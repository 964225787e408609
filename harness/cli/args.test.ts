// parseFlags (node:util parseArgs underneath): every accepted spelling, and one-line usage errors
// that name the flag and what is allowed.
import test from 'ava';
import { flagValue, listFlag, oneOf, parseFlags, UsageError, type FlagSpec } from './args.ts';

const SPEC: Record<string, FlagSpec> = {
  size: { type: 'string', value: '<size>', help: 'bytes' },
  method: { type: 'string', multiple: true, value: '<name>', help: 'method' },
  json: { type: 'boolean', help: 'json' },
  help: { type: 'boolean', help: 'help' },
};

test('values: --flag value, --flag=value, booleans, repeatable flags, -h, positionals, and what follows --', (t) => {
  const { flags, positional, rest } = parseFlags(['a', '--size', '1MiB', '--method=write', '--json', '--method', 'tee', '-h', '--', '--b', '--', 'c'], SPEC);
  t.deepEqual(flags, { size: '1MiB', method: ['write', 'tee'], json: true, help: true });
  t.deepEqual(positional, ['a']);
  t.deepEqual(rest, ['--b', '--', 'c'], 'after the first --, every argument as given');
  t.is(parseFlags(['a'], SPEC).rest, undefined, 'no --: no rest');
  t.deepEqual(parseFlags(['--'], SPEC).rest, [], 'a trailing --: an empty rest');
  t.deepEqual(parseFlags(['--size='], SPEC).flags, { size: '' }, 'an explicit empty value is a value (the parser of the flag judges it)');
  t.deepEqual(parseFlags(['--size', '-5'], SPEC).flags, { size: '-5' }, 'a negative number is a value');
});

const BAD: [string[], string][] = [
  [['--bogus'], 'unknown flag --bogus (allowed: --size, --method, --json, --help)'],
  [['--bogus=1'], 'unknown flag --bogus (allowed: --size, --method, --json, --help)'],
  [['-x'], 'unknown flag -x (allowed: --size, --method, --json, --help)'],
  [['--size'], '--size needs a value <size>'],
  [['--size', '--json'], '--size needs a value <size>'],
  [['--json=yes'], '--json takes no value'],
  [['--toString'], 'unknown flag --toString (allowed: --size, --method, --json, --help)'],
];

for (const [argv, message] of BAD) {
  test(`usage error: ${argv.join(' ')}`, (t) => {
    const e = t.throws(() => parseFlags(argv, SPEC), { instanceOf: UsageError });
    t.is(e?.message, message);
  });
}

test('flagValue and listFlag name the flag and the allowed values', (t) => {
  const { flags } = parseFlags(['--size', 'x', '--method', 'write', '--method', 'bogus'], SPEC);
  t.throws(() => flagValue(flags, 'size', oneOf(['a', 'b'])), { instanceOf: UsageError, message: '--size: "x" is not one of a, b' });
  t.throws(() => listFlag(flags, 'method', ['write', 'tee']), { instanceOf: UsageError, message: '--method: "bogus" is not one of write, tee' });
  t.deepEqual(listFlag(parseFlags([], SPEC).flags, 'method', ['write', 'tee']), ['write', 'tee']);
});
