// zcprobe wrap's flags: the command after `--` (or without it), --request escapes, bounds on values.
import test from 'ava';
import { UsageError } from './args.ts';
import { command, unescapeRequest } from './wrap.ts';

test('--request takes \\r \\n \\t \\\\ \\xHH; anything else after a backslash is a usage error', (t) => {
  t.deepEqual([...unescapeRequest('GET / HTTP/1.0\\r\\n\\r\\n')].slice(-4), [13, 10, 13, 10]);
  t.deepEqual([...unescapeRequest('a\\tb\\\\c\\x00\\x7f')], [97, 9, 98, 92, 99, 0, 127]);
  t.throws(() => unescapeRequest('bad\\q'), { instanceOf: UsageError, message: /unknown escape \\q/ });
});

test('the command is what follows --; flags before it are checked', (t) => {
  const p = command.parse(['--port', '8080', '--connections', '3', '--', './server', '--port', '8080']);
  t.deepEqual(p.rest, ['./server', '--port', '8080']);
  t.is(p.flags.port, '8080');
  t.throws(() => command.parse(['--bogus', '--', 'x']), { instanceOf: UsageError, message: /unknown flag --bogus/ });
});

test('no command, a port out of range, zero connections: usage errors (exit 2)', async (t) => {
  await t.throwsAsync(command.main([]), { instanceOf: UsageError, message: /no command/ });
  await t.throwsAsync(command.main(['--port', '70000', '--', 'x']), { instanceOf: UsageError, message: /not a TCP port/ });
  await t.throwsAsync(command.main(['--connections', '0', '--', 'x']), { instanceOf: UsageError, message: /at least 1/ });
  await t.throwsAsync(command.main(['--transport', 'nic', '--', 'x']), { instanceOf: UsageError, message: /--transport/ });
});
