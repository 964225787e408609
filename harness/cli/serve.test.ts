// zcprobe serve answers bad input before anything starts: one line naming the flag and the
// choices, exit 2 (an unknown server or setting, a value a setting does not take, a memory mutation).
import test from 'ava';
import { spawnSync } from 'node:child_process';

const BIN = new URL('../../bin/zcprobe.js', import.meta.url).pathname;

const BAD: [string, string[], RegExp][] = [
  ['no server', [], /--server is required \(allowed: nginx, apache2, lighttpd\)/],
  ['unknown server', ['--server', 'caddy'], /--server: "caddy" is not one of nginx, apache2, lighttpd/],
  [
    'unknown setting',
    ['--server', 'apache2', '--set', 'aio=threads'],
    /--set: apache2 has no setting "aio" \(settings: sendfile=on\|off, mmap=on\|off\)/,
  ],
  ['bad value', ['--server', 'nginx', '--set', 'sendfile=yes'], /--set: nginx sendfile: "yes" is not one of on, off/],
  ['not KEY=VALUE', ['--server', 'lighttpd', '--set', 'sendfile'], /--set: lighttpd has no setting "sendfile"/],
  ['memory mutation', ['--server', 'nginx', '--mutation', 'overwrite'], /--mutation: overwrite changes a sender's memory/],
  ['bad transport', ['--server', 'nginx', '--transport', 'nic'], /--transport: "nic" is not one of loopback, veth, tun/],
  ['bad size', ['--server', 'nginx', '--size', 'lots'], /--size: not a size/],
];

for (const [title, args, message] of BAD) {
  test(`serve: bad input exits 2 with one line — ${title}`, (t) => {
    const r = spawnSync(process.execPath, [BIN, 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1, 'exactly one line');
  });
}
