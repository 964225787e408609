// The parent side of a JSON-lines child survives what children do in practice: stray stdout lines
// (logged, skipped), a child that cannot be spawned ('error' event), and a child that dies while
// the parent writes to it (EPIPE on stdin). Each of these used to be an uncaught exception.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { JsonLineChild } from './parent.ts';

const NOISY = fileURLToPath(new URL('../../../test-support/fixtures/noisy-child.ts', import.meta.url));
type Msg = { type: string; n?: number; message?: string };

test('stray stdout lines are reported and skipped; the protocol goes on', async (t) => {
  const strays: string[] = [];
  const child = new JsonLineChild<Msg>('noisy', NOISY, [], { onStray: (l) => strays.push(l) });
  t.teardown(() => child.close());
  // The "hello" line arrived in two writes after two bad lines: it must still be dispatched.
  await child.next((m) => m.type === 'hello', 10_000, 'hello');
  const echo = child.next((m) => m.type === 'echo' && m.n === 1, 10_000, 'echo 1');
  child.send({ type: 'garbage', n: 1 });
  t.is((await echo).n, 1);
  const again = child.next((m) => m.type === 'echo' && m.n === 2, 10_000, 'echo 2');
  child.send({ type: 'plain', n: 2 });
  t.is((await again).n, 2);
  t.deepEqual(strays, ['a stray line that is not JSON', '[1, 2, 3]', 'more garbage after request 1']);
});

test('a child that cannot be spawned rejects waiters with the reason instead of crashing', async (t) => {
  // With no PATH, `ip` (used for a namespace) is not found: spawn reports ENOENT as an 'error' event.
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  let child: JsonLineChild<Msg>;
  try {
    child = new JsonLineChild<Msg>('unspawnable', NOISY, [], { netns: 'zcprobe-none' });
  } finally {
    process.env.PATH = path;
  }
  await t.throwsAsync(child.next((m) => m.type === 'hello', 10_000), { message: /unspawnable: .*ENOENT/ });
  t.throws(() => child.send({ type: 'plain', n: 1 }), { message: /ENOENT/ });
  await child.close(); // returns at once: there is no process
});

test('writing to a child that just died fails the waiters, not the parent', async (t) => {
  const child = new JsonLineChild<Msg>('doomed', NOISY, [], { onStray: () => undefined });
  t.teardown(() => child.close());
  await child.next((m) => m.type === 'hello', 10_000, 'hello');
  const echo = child.next((m) => m.type === 'echo', 10_000, 'echo');
  child.kill();
  // The write races the death: it may land in the pipe or fail with EPIPE; neither may throw
  // out of the event loop. The waiter learns that the child is gone.
  child.send({ type: 'plain', n: 1 });
  await t.throwsAsync(echo, { message: /doomed (exited|: cannot write to its stdin)/ });
  t.throws(() => child.send({ type: 'plain', n: 2 }), { message: /doomed/ });
  await t.throwsAsync(child.next(() => true, 1000), { message: /doomed/ });
});
