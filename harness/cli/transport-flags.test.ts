// The transport flags of `zcprobe run` / matrix / report: link faults only with tun, the nic pair
// only with nic (and nic only with a pair), and bad values named by their flag.
import test from 'ava';
import { parseFlags, UsageError } from './args.ts';
import { command, experimentFromFlags } from './run.ts';
import { replayCommand } from '../report/types.ts';
import { NIC_FLAG, transportsFromFlags } from './transport-flags.ts';

const run = (...argv: string[]) => experimentFromFlags(command.parse(['--method', 'write', ...argv]).flags);

test('tun link faults become the experiment\'s link, the MTU a session option', (t) => {
  const r = run('--transport', 'tun', '--link-loss', '2%', '--link-seed', '5', '--link-delay-ms', '10', '--link-jitter-ms', '2', '--link-reorder', '#3', '--link-rate', '1gbit', '--link-mtu', '1500');
  t.deepEqual(r.exp.link, { delayMs: 10, jitterMs: 2, seed: 5, loss: '2%', reorder: '#3', rate: '1gbit' });
  t.is(r.mtu, 1500);
  t.is(run('--transport', 'tun').exp.link, undefined);
});

for (const [what, argv, msg] of [
  ['link faults without tun', ['--transport', 'veth', '--link-loss', '#3'], /--link: link faults need the tun transport/],
  ['a bad loss spec', ['--transport', 'tun', '--link-loss', '3'], /--link: loss: "3": want a probability/],
  ['jitter without delay', ['--transport', 'tun', '--link-jitter-ms', '5'], /jitterMs needs a delayMs/],
  ['an MTU without tun', ['--link-mtu', '1500'], /--link-mtu needs --transport tun/],
  ['nic without a pair', ['--transport', 'nic'], /--transport nic and --nic-pair IF1,IF2 go together/],
  ['a pair without nic', ['--nic-pair', 'a,b'], /go together/],
  ['a pair of one', ['--transport', 'nic', '--nic-pair', 'a'], /--nic-pair: the nic transport needs --nic-pair IF1,IF2/],
] as const) {
  test(`run: ${what} is a usage error`, (t) => {
    t.throws(() => run(...argv), { instanceOf: UsageError, message: msg });
  });
}

test('matrix/report: nic joins the default transports only with --nic-pair', (t) => {
  const spec = { transport: { type: 'string', multiple: true, help: '' }, ...NIC_FLAG } as const;
  const flags = (...argv: string[]) => parseFlags(argv, spec).flags;
  t.deepEqual(transportsFromFlags(flags()).transports, ['loopback', 'veth', 'tun']);
  t.deepEqual(transportsFromFlags(flags('--nic-pair', 'p1,p2')), { transports: ['loopback', 'veth', 'tun', 'nic'], nicPair: 'p1,p2' });
  t.throws(() => transportsFromFlags(flags('--transport', 'nic')), { message: /needs --nic-pair/ });
  t.throws(() => transportsFromFlags(flags('--transport', 'tun', '--nic-pair', 'p1,p2')), { message: /--nic-pair needs --transport nic/ });
});

test('--sender-capture: off by default for zero-copy methods over nic and remote only; off needs a capture that can serve as W', (t) => {
  const zc = (...argv: string[]) => experimentFromFlags(command.parse(['--method', 'msg-zerocopy', ...argv]).flags);
  t.is(zc('--transport', 'veth').senderCapture, 'on');
  t.is(zc('--transport', 'loopback').senderCapture, 'on');
  t.is(zc('--transport', 'nic', '--nic-pair', 'a,b').senderCapture, 'off');
  const uring = command.parse(['--method', 'io-uring-zc', '--transport', 'nic', '--nic-pair', 'a,b']).flags;
  t.is(experimentFromFlags(uring).senderCapture, 'off');
  t.is(run('--transport', 'nic', '--nic-pair', 'a,b').senderCapture, 'on', 'write: the capture cannot change a copy');
  t.is(zc('--transport', 'nic', '--nic-pair', 'a,b', '--sender-capture', 'on').senderCapture, 'on');
  t.is(zc('--transport', 'veth', '--sender-capture', 'off').senderCapture, 'off');
  const noW = /loopback has no other capture that can serve as W/;
  t.throws(() => zc('--transport', 'loopback', '--sender-capture', 'off'), { instanceOf: UsageError, message: noW });
  t.throws(() => zc('--transport', 'tun', '--sender-capture', 'off'), { instanceOf: UsageError, message: /tun has no other capture/ });
  t.throws(() => zc('--sender-capture', 'off', '--no-capture'), { instanceOf: UsageError, message: /with --no-capture/ });
  t.throws(() => zc('--sender-capture', 'maybe'), { instanceOf: UsageError, message: /--sender-capture/ });
});

/** argv as a POSIX shell would split the report's replay command (single quotes only, as replayCommand writes them). */
function shellSplit(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!);
  return words;
}

test('a tun counterexample\'s replay command carries its link, send buffer and capture placement; it parses back to the same case', (t) => {
  const cx: Parameters<typeof replayCommand>[0] = {
    method: 'sendfile', safeguard: 'siocoutqnsd', transport: 'tun', size: 100_000, receiverDelayMs: 0, rcvbuf: null, sndbuf: 4 << 20,
    link: { mtu: 1500, delayMs: 5, loss: '#11,#20-22', seed: 7 }, senderCapture: 'on',
  };
  const line = replayCommand(cx);
  t.regex(line, /--link-loss '#11,#20-22'/, 'quoted: "#" would start a shell comment');
  const argv = shellSplit(line);
  t.deepEqual(argv.slice(0, 3), ['npx', 'zcprobe', 'run']);
  const r = experimentFromFlags(command.parse(argv.slice(3)).flags);
  t.like(r.exp, { method: 'sendfile', safeguard: 'siocoutqnsd', transport: 'tun', size: 100_000, receiverDelayMs: 0, sndbuf: 4 << 20 });
  t.deepEqual(r.exp.link, { delayMs: 5, loss: '#11,#20-22', seed: 7 });
  t.is(r.mtu, 1500);
  t.is(r.senderCapture, 'on');
  // A property's counterexample: the claim defines the faults; the MTU (a session option) still has to come along.
  const claimed = replayCommand({ ...cx, claim: 'tun-loss-siocoutqnsd', seed: 3, path: '0:1' });
  t.is(claimed, 'npx zcprobe run --replay tun-loss-siocoutqnsd:3:0:1 --transport tun --link-mtu 1500 --sender-capture on');
});
