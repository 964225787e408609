// zcprobe agent and --remote on the command line: a missing or unsafe token, a wildcard or a
// host name instead of an address, and flags that contradict the agent are usage errors (one
// line, exit 2) before anything listens or connects.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../bin/zcprobe.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'zcprobe-agent-cli-'));
const token = join(dir, 'token');
writeFileSync(token, 'sixteen-bytes-or-more-of-token\n', { mode: 0o600 });
const loose = join(dir, 'loose');
writeFileSync(loose, 'sixteen-bytes-or-more-of-token\n');
chmodSync(loose, 0o644);
const short = join(dir, 'short');
writeFileSync(short, 'short\n', { mode: 0o600 });
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function zcprobe(...args: string[]): { status: number | null; stderr: string } {
  const env = { ...process.env, ZCPROBE_REMOTE: '', ZCPROBE_TOKEN_FILE: '' };
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env });
  return { status: r.status, stderr: r.stderr };
}

const BAD: [string, string[], RegExp][] = [
  ['agent: no --listen', ['agent', '--token-file', token], /--listen ADDR:PORT is required/],
  ['agent: no --token-file', ['agent', '--listen', '127.0.0.1:7070'], /--token-file FILE is required/],
  ['agent: wildcard address', ['agent', '--listen', '0.0.0.0:7070', '--token-file', token], /is a wildcard/],
  ['agent: host name', ['agent', '--listen', 'localhost:7070', '--token-file', token], /is not an IP address/],
  ['agent: token readable by others', ['agent', '--listen', '127.0.0.1:7070', '--token-file', loose], /accessible by group or others .* chmod 600/],
  ['agent: short token', ['agent', '--listen', '127.0.0.1:7070', '--token-file', short], /at least 16 bytes/],
  ['agent: missing token file', ['agent', '--listen', '127.0.0.1:7070', '--token-file', join(dir, 'none')], /ENOENT/],
  ['agent: bad data port', ['agent', '--listen', '127.0.0.1:7070', '--token-file', token, '--data-port', '0'], /--data-port: "0" is not a port/],
  ['run: --remote without a token', ['run', '--method', 'write', '--remote', '127.0.0.1:7070'], /--remote needs --token-file/],
  ['run: --token-file without --remote', ['run', '--method', 'write', '--token-file', token], /--token-file needs --remote/],
  ['run: --remote and --transport veth', ['run', '--method', 'write', '--remote', '127.0.0.1:7070', '--token-file', token, '--transport', 'veth'], /cannot be combined with --remote/],
  ['run: --remote and --rate', ['run', '--method', 'write', '--remote', '127.0.0.1:7070', '--token-file', token, '--rate', '1mbit'], /--rate needs --transport veth, not --remote/],
  ['run: --remote host name', ['run', '--method', 'write', '--remote', 'example.org:7070', '--token-file', token], /--remote: "example.org" is not an IP address/],
  ['run: --transport remote without an agent', ['run', '--method', 'write', '--transport', 'remote'], /--transport remote needs --remote/],
  ['report: --remote and --transport', ['report', '--remote', '127.0.0.1:7070', '--token-file', token, '--transport', 'veth'], /--transport cannot be combined with --remote/],
  ['matrix: --remote without a token', ['matrix', '--remote', '127.0.0.1:7070'], /--remote needs --token-file/],
];

for (const [title, args, message] of BAD) {
  test(`bad arguments exit 2 with one line — ${title}`, (t) => {
    const r = zcprobe(...args);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1, 'exactly one line');
  });
}
