// The connecting client (serve, wrap): writes the request, sleeps before its first read, reads to
// EOF, reports its 4-tuple and receive buffer; a refused connect, a peer that never closes and a
// dead client end in errors within the case's bound; its fd table is the same after cases.
import test from 'ava';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientProcess } from './client.ts';
import { caseFds } from '../../../test-support/proc-fds.ts';

/** A server that answers every connection with `reply(request)` once it has `expect` request bytes. */
async function tinyServer(expect: number, reply: (req: Buffer) => Buffer | null) {
  const peers: { address: string; port: number; request: Buffer }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let req = Buffer.alloc(0);
    const answer = () => {
      peers.push({ address: s.remoteAddress!, port: s.remotePort!, request: req });
      const out = reply(req);
      if (out) s.end(out); // null: never answer, never close
    };
    if (expect === 0) answer();
    s.on('data', (d: Buffer) => {
      req = Buffer.concat([req, d]);
      if (req.length === expect) answer();
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  });
  return { port, peers, close };
}

test('the client writes the request, waits, reads every byte to EOF and says which port it used', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-client-'));
  const body = Buffer.alloc(3 << 20);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  const srv = await tinyServer(17, (req) => (req.toString() === 'GET /x HTTP/1.0\r\n' ? body : Buffer.from('bad')));
  const client = await ClientProcess.spawn();
  t.teardown(async () => {
    await client.close();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const before = caseFds(client.pid);
  const request = Buffer.from('GET /x HTTP/1.0\r\n').toString('base64');
  const local = { host: '127.0.0.1', timeoutMs: 10000 };
  const started = client.start({ ...local, id: 'ok', port: srv.port, request, delayMs: 150, rcvbuf: 1 << 20, outFile: join(dir, 'ok') });
  const conn = await started.connected;
  const r = await started.result;
  t.is(r.error, undefined);
  t.is(r.bytes, body.length);
  t.true(r.data.equals(body));
  t.deepEqual(r.local, conn.local);
  t.is(srv.peers[0]!.port, r.local.port, 'the server saw the port the client reports');
  t.true(r.firstReadAt! - r.connectedAt >= 149, `first read ${r.firstReadAt! - r.connectedAt} ms after connect`);
  t.true(r.rcvbufEffective >= 2 << 20, `SO_RCVBUF ${r.rcvbufEffective}`);

  // Nobody listens: the refusal is the case's error, and the client goes on.
  const closed = await tinyServer(0, () => Buffer.alloc(0));
  const deadPort = closed.port;
  await closed.close();
  const refused = client.start({ ...local, id: 'refused', port: deadPort, delayMs: 0, outFile: join(dir, 'refused'), timeoutMs: 2000 });
  await t.throwsAsync(refused.connected, { message: /ECONNREFUSED/ });
  const rr = await refused.result;
  t.regex(rr.error ?? '', /ECONNREFUSED/);
  t.is(rr.bytes, 0);

  // A peer that never closes: the case's bound ends it with what was read so far.
  const silent = await tinyServer(0, () => null);
  t.teardown(() => silent.close());
  const t0 = Date.now();
  const hungCase = { ...local, id: 'hung', port: silent.port, delayMs: 0, outFile: join(dir, 'hung'), timeoutMs: 300 };
  const hung = await client.start(hungCase).result;
  t.regex(hung.error ?? '', /timed out waiting for data or EOF \(0 bytes read\)/);
  t.true(Date.now() - t0 < 3000);

  // Fast cases: 'connected' and 'result' arrive in one read; neither may be lost.
  const tiny = await tinyServer(0, () => Buffer.from('hi'));
  t.teardown(() => tiny.close());
  for (let i = 0; i < 20; i++) {
    const s = client.start({ ...local, id: `tiny-${i}`, port: tiny.port, delayMs: 0, outFile: join(dir, `tiny-${i}`), timeoutMs: 2000 });
    await s.connected;
    t.is((await s.result).data.toString(), 'hi');
  }
  const again = await client.start({ ...local, id: 'again', port: srv.port, request, delayMs: 0, outFile: join(dir, 'again') }).result;
  t.true(again.data.equals(body), 'the client is still in step');
  t.deepEqual(caseFds(client.pid), before);
  t.deepEqual(readdirSync(dir), [], 'each case\'s out file is read and removed');
});

test('a client that dies rejects the case instead of hanging', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-client-'));
  const silent = await tinyServer(0, () => null);
  const client = await ClientProcess.spawn();
  t.teardown(async () => {
    await client.close();
    await silent.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const doomed = { id: 'doomed', host: '127.0.0.1', port: silent.port, delayMs: 0, outFile: join(dir, 'doomed'), timeoutMs: 60000 };
  const started = client.start(doomed);
  await started.connected;
  client.kill();
  await t.throwsAsync(started.result, { message: /client exited/ });
});
