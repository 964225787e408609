// Each server module's config keeps the server to its own site (port, docroot, logs, foreground, no
// keep-alive, the setting's directives) and it reads its own log line; the log tail sees new lines at once;
// a started server is one process group that stop() ends and the sweep finds after its master was killed.
import test from 'ava';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseServerSettings } from '../../model/serve-spec.ts';
import { groupOf, startTicksOf } from '../../host/owner.ts';
import { removeResource } from '../../host/sweep.ts';
import { native } from '../../native.ts';
import { AccessLogTail } from './access-log.ts';
import { serverModule, serverUnavailable } from './index.ts';
import { RunningServer } from './instance.ts';
import type { ServerSite } from './types.ts';

const site = (settings: Record<string, string>): ServerSite => ({
  dir: '/w', logsDir: '/w/logs', docroot: '/d', host: '127.0.0.1', port: 4242, family: 4, settings, user: 'www-data',
});

test('nginx: foreground, own files only, the settings as directives', (t) => {
  const c = serverModule('nginx').configure(site(parseServerSettings('nginx', ['sendfile=off', 'directio=4MiB', 'aio=threads']).resolved));
  const text = c.files[0]!.text;
  for (const want of [
    'daemon off;',
    'listen 127.0.0.1:4242;',
    'root /d;',
    'keepalive_timeout 0;',
    'sendfile off;',
    `directio ${4 << 20};`,
    'aio threads;',
    'access_log /w/logs/access.log zcprobe;',
  ])
    t.true(text.includes(want), want);
  t.deepEqual(c.argv, ['/usr/sbin/nginx', '-p', '/w', '-c', '/w/nginx.conf', '-e', '/w/logs/error.log']);
  t.notRegex(text, /\/etc\/|\/var\/log/, 'nothing of the system-wide installation');
});

test('apache2 and lighttpd: the same site, their directives', (t) => {
  const a = serverModule('apache2').configure(site(parseServerSettings('apache2', ['sendfile=on', 'mmap=off']).resolved)).files[0]!.text;
  for (const want of [
    'Listen 127.0.0.1:4242',
    'KeepAlive Off',
    'EnableSendfile On',
    'EnableMMAP Off',
    'DocumentRoot /d',
    'CustomLog /w/logs/access.log zcprobe',
  ])
    t.true(a.includes(want), want);
  t.notRegex(a, /Include|\/etc\/apache2/);
  const l = serverModule('lighttpd').configure(site(parseServerSettings('lighttpd', ['sendfile=off']).resolved));
  t.true(l.files[0]!.text.includes('server.network-backend = "writev"'));
  t.true(l.files[0]!.text.includes('server.max-keep-alive-requests = 0'));
  t.deepEqual(l.argv.slice(1), ['-D', '-f', '/w/lighttpd.conf']);
  t.regex(l.notes.join(' '), /piped logger/);
});

test('each module reads its own access-log line', (t) => {
  const n = serverModule('nginx').parseLogLine('1796648448.060 200 4194304 4194559 0.008 "GET /f.bin HTTP/1.0"');
  t.deepEqual(
    n && { ...n, line: '' },
    { loggedAt: 1796648448060, status: 200, bodyBytes: 4194304, totalBytes: 4194559, request: 'GET /f.bin HTTP/1.0', line: '' },
  );
  const a = serverModule('apache2').parseLogLine('1796648448205594 200 4194304 4194534 2163 "GET /f.bin HTTP/1.0"');
  t.is(a?.loggedAt, 1796648448205.594);
  const l = serverModule('lighttpd').parseLogLine('1796648462328006 200 - 245 "GET /f.bin HTTP/1.0"');
  t.is(l?.bodyBytes, null);
  t.is(serverModule('nginx').parseLogLine('garbage'), null);
});

test('the access-log tail returns the first matching line written after the mark, and gives up when told', async (t) => {
  const dir = mkdtempSync('/dev/shm/zcprobe-logtail-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'access.log');
  writeFileSync(log, 'old "GET /a HTTP/1.0"\n');
  const tail = new AccessLogTail(log);
  tail.mark();
  const seen = tail.waitFor((l) => l.includes('"GET /a HTTP/1.0"'), 5000);
  setTimeout(() => appendFileSync(log, 'x "GET /b HTTP/1.0"\nnew "GET /a HT'), 30);
  setTimeout(() => appendFileSync(log, 'TP/1.0"\n'), 60);
  const got = await seen;
  t.is(got?.line, 'new "GET /a HTTP/1.0"', 'a line split over two writes is one line; the one before the mark does not count');
  const t0 = performance.now();
  t.is(await tail.waitFor(() => true, 10_000, new Promise((r) => setTimeout(r, 50))), null);
  t.true(performance.now() - t0 < 2000);
});

const noServer = serverUnavailable('nginx');
const groupTitle = 'a started server is one process group: stop() ends it, and the sweep kills workers left by a killed master';
(noServer ? test.skip : test)(`${groupTitle}${noServer ? ` [skipped: ${noServer}]` : ''}`, async (t) => {
  const dir = mkdtempSync('/dev/shm/zcprobe-server-test-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const docroot = join(dir, 'doc');
  mkdirSync(docroot);
  chmodSync(dir, 0o755);
  const fd = native.socket(4);
  native.bind(fd, '127.0.0.1', 0);
  const port = native.getsockname(fd).port;
  native.close(fd);
  const start = () => {
    const d = mkdtempSync(join(dir, 'nginx-'));
    chmodSync(d, 0o755);
    return RunningServer.start({
      name: 'nginx',
      settings: parseServerSettings('nginx', []).resolved,
      host: '127.0.0.1',
      port,
      family: 4,
      dir: d,
      docroot,
    });
  };
  const s = await start();
  t.teardown(() => s.stop());
  const pgid = s.process.pgid;
  const leader = startTicksOf(pgid)!;
  // The listening socket accepts before the master has forked its worker: give it a moment.
  const until0 = Date.now() + 5000;
  while (groupOf(pgid, leader).length < 2 && Date.now() < until0) await new Promise((r) => setTimeout(r, 20));
  const members = groupOf(pgid, leader);
  t.true(members.length >= 2, `master and worker: ${members.map((m) => m.pid).join(', ')}`);
  await s.stop();
  t.deepEqual(groupOf(pgid, leader), []);
  // A master killed outright leaves its worker behind, still in the group: the sweep's rule finds it.
  const s2 = await start();
  t.teardown(() => s2.stop());
  const ticks = startTicksOf(s2.process.pgid)!;
  const until1 = Date.now() + 5000;
  while (groupOf(s2.process.pgid, ticks).length < 2 && Date.now() < until1) await new Promise((r) => setTimeout(r, 20));
  process.kill(s2.process.pgid, 'SIGKILL');
  await s2.process.whenExited();
  const left = groupOf(s2.process.pgid, ticks);
  t.true(left.length >= 1, 'the worker outlived its master');
  await removeResource({ kind: 'process-group', pgid: s2.process.pgid, startTicks: ticks, what: 'test' });
  const until = Date.now() + 2000;
  while (groupOf(s2.process.pgid, ticks).length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(groupOf(s2.process.pgid, ticks), []);
});
