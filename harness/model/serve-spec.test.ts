// serve's settings are validated per server before anything starts: unknown servers, keys and
// values are errors naming the choices; lighttpd's sendfile is its backend choice; labels are stable.
import test from 'ava';
import { ExperimentError } from './experiment.ts';
import { makeServeExperiment, parseServerSettings, settingsKey, settingsLabel } from './serve-spec.ts';

test('settings resolve against each server\'s defaults (as Debian ships it)', (t) => {
  t.deepEqual(
    parseServerSettings('nginx', []).resolved,
    { sendfile: 'on', directio: 'off', aio: 'off', sendfile_max_chunk: String(2 << 20) },
  );
  t.deepEqual(parseServerSettings('apache2', ['sendfile=on']).resolved, { sendfile: 'on', mmap: 'on' });
  const n = parseServerSettings('nginx', ['directio=4MiB', 'sendfile=OFF']);
  t.deepEqual(n.given, { directio: String(4 << 20), sendfile: 'off' });
  t.is(settingsLabel(n.given), 'directio=4MiB,sendfile=off');
  t.is(settingsLabel({}), 'defaults');
});

test('lighttpd: sendfile=on|off is its network backend, and the two may not disagree', (t) => {
  t.is(parseServerSettings('lighttpd', ['sendfile=off']).resolved['network-backend'], 'writev');
  t.is(parseServerSettings('lighttpd', ['network-backend=write']).resolved.sendfile, 'off');
  t.is(
    settingsKey(parseServerSettings('lighttpd', []).resolved),
    settingsKey(parseServerSettings('lighttpd', ['sendfile=on']).resolved),
    'one server start for both',
  );
  t.throws(() => parseServerSettings('lighttpd', ['sendfile=on', 'network-backend=writev']), { message: /contradicts/ });
});

test('bad input names the choices', (t) => {
  const e = t.throws(() => makeServeExperiment({ server: 'caddy' }), { instanceOf: ExperimentError });
  t.is(e.field, 'server');
  t.regex(e.message, /"caddy" is not one of nginx, apache2, lighttpd/);
  t.throws(
    () => parseServerSettings('apache2', ['directio=4m']),
    { message: /apache2 has no setting "directio" \(settings: sendfile=on\|off, mmap=on\|off\)/ },
  );
  t.throws(() => parseServerSettings('nginx', ['sendfile=maybe']), { message: /nginx sendfile: "maybe" is not one of on, off/ });
  t.throws(() => parseServerSettings('nginx', ['aio']), { message: /nginx has no setting "aio"/ });
  t.throws(() => parseServerSettings('nginx', ['sendfile=on', 'sendfile=off']), { message: /set twice/ });
  t.throws(() => makeServeExperiment({ server: 'nginx', mutation: 'overwrite' }), { message: /serve changes the served file/ });
  t.throws(() => makeServeExperiment({ server: 'nginx', transport: 'nic' }), { message: /"nic" is not one of loopback, veth, tun/ });
  t.throws(
    () => makeServeExperiment({ server: 'nginx', size: 1000, mutation: 'pwrite:900:200' }),
    { message: /past the 1000-byte message/ },
  );
});
