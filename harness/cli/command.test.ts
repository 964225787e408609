// defineCommand: --help, stray arguments, what follows `--`, and repeatable flags, as every
// subcommand (and `serve`, `wrap -- CMD ARGS...`) gets them. Serial: two tests share `seen`.
import test from 'ava';
import { UsageError } from './args.ts';
import { defineCommand } from './command.ts';

const seen: unknown[] = [];
const wrap = defineCommand({
  name: 'wrap',
  usage: ['[--set K=V ...] -- CMD ARGS...', 'other synopsis'],
  about: 'runs CMD',
  options: {
    set: { type: 'string', multiple: true, value: 'K=V', help: 'repeatable' },
    json: { type: 'boolean', help: 'json' },
  },
  rest: true,
  run(flags, positional, rest) {
    seen.push({ flags, positional, rest });
    return 7;
  },
});
const plain = defineCommand({ name: 'plain', usage: '[--json]', options: { json: { type: 'boolean', help: 'json' } }, run: () => 0 });

test.serial('--help: synopses, the text under them, each flag with --help last; run() is not called', async (t) => {
  t.is(wrap.help(), [
    'usage: zcprobe wrap [--set K=V ...] -- CMD ARGS...',
    '       zcprobe wrap other synopsis',
    '',
    'runs CMD',
    '',
    '  --set K=V                       repeatable',
    '  --json                          json',
    '  --help                          this help',
    '',
  ].join('\n'));
  const out: string[] = [];
  const stdout = { write: (s: string) => out.push(s) };
  seen.length = 0;
  t.is(await wrap.main(['-h', '--', 'curl'], stdout), 0);
  t.is(await plain.main(['--help', 'stray'], stdout), 0, '--help wins over a stray argument, as before');
  t.deepEqual(out, [wrap.help(), plain.help()]);
  t.deepEqual(seen, []);
});

test.serial('rest: repeatable flags before --, everything after it unparsed', async (t) => {
  seen.length = 0;
  t.is(await wrap.main(['--set', 'a=1', '--set=b=2', '--json', '--', 'curl', '-o', 'x', '--set', 'c=3']), 7);
  t.deepEqual(seen, [{ flags: { set: ['a=1', 'b=2'], json: true }, positional: [], rest: ['curl', '-o', 'x', '--set', 'c=3'] }]);
  t.deepEqual(wrap.parse(['--set', 'a=1']), { flags: { set: ['a=1'] }, positional: [] }, 'no --: rest absent');
  t.throws(() => wrap.parse(['curl']), { instanceOf: UsageError, message: 'unexpected argument "curl"' });
});

test('without rest or positionals: any argument, also after --, is a usage error; bad flags name the flag', (t) => {
  t.deepEqual(plain.parse(['--']), { flags: {}, positional: [] });
  t.throws(() => plain.parse(['x']), { instanceOf: UsageError, message: 'unexpected argument "x"' });
  t.throws(() => plain.parse(['--', 'x']), { instanceOf: UsageError, message: 'unexpected argument "x"' });
  t.throws(() => plain.parse(['--bogus']), { instanceOf: UsageError, message: 'unknown flag --bogus (allowed: --json, --help)' });
  t.throws(() => plain.parse(['--json=1']), { instanceOf: UsageError, message: '--json takes no value' });
});
