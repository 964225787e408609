// Real servers (zcprobe serve), the file changed at the access-log line. Universal: rename-replace never
// changes a response; a server reading into its own buffer (no sendfile, no mmap) is clean after its done
// signal. Observed per kernel: sendfile with pwrite, copy-over, copytruncate; logging before the last byte.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { SERVERS, type ServerName } from '../harness/model/serve-spec.ts';
import { serverUnavailable } from '../harness/roles/server/index.ts';
import type { ServeCaseRecord } from '../harness/evidence/serve-evidence.ts';
import { formatClasses } from '../harness/verdict/byte-classes.ts';
import { isCorrupted } from '../harness/verdict/verdict.ts';
import { CORRUPTED } from '../harness/model/baselines.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { observe } from './helpers/t-observe.ts';
import { useServeSession } from './helpers/t-serve.ts';

const serve = useServeSession(test);
const RUNS = Number(process.env.ZCPROBE_SERVE_RUNS ?? 4);

/** Settings under which the server copies the file into its own memory with read() before writing. */
const OWN_BUFFER: Record<ServerName, string[]> = {
  nginx: ['sendfile=off'],
  apache2: ['sendfile=off', 'mmap=off'],
  lighttpd: ['network-backend=writev'],
};
/** Settings that serve with sendfile(). */
const SENDFILE: Record<ServerName, string[]> = { nginx: ['sendfile=on'], apache2: ['sendfile=on'], lighttpd: ['sendfile=on'] };

const caseArb = fc.record({
  size: fc.constantFrom(4096, 65536, 1 << 20, 4 << 20),
  clientDelayMs: fc.constantFrom(0, 50, 300),
  rcvbuf: fc.constantFrom(undefined, 8 << 20),
});

function line(r: ServeCaseRecord): string {
  const t = r.timings;
  const at = (x: number | null) => (x === null ? '-' : `${Math.round(x - t.connectedAt)} ms`);
  const when = `log line seen ${at(t.logSeenAt)}, client's first read ${at(t.clientFirstReadAt)} after connect`;
  const received = formatClasses(r.received.classes);
  const evidence = r.evidence ? ` ${r.evidence.dir}` : '';
  return `${r.serverVersion} ${r.setting} ${r.mutation} ${r.size} B → ${r.verdict} (received ${received}; ${when})${evidence}`;
}

/** Runs a "holds" claim: every case must be clean and conclusive; a corrupted one is shrunk and shown. */
async function holds(t: ExecutionContext, server: ServerName, settings: string[], mutations: string[]): Promise<void> {
  const seen: ServeCaseRecord[] = [];
  await fc.assert(
    fc.asyncProperty(caseArb, fc.constantFrom(...mutations), async (c, mutation) => {
      let r: ServeCaseRecord;
      try {
        r = await serve.run({
          server,
          settings,
          mutation: mutation as never,
          size: c.size,
          clientDelayMs: c.clientDelayMs,
          rcvbuf: c.rcvbuf,
        });
      } catch (e) {
        t.log(`harness error on ${JSON.stringify(c)} ${mutation}: ${(e as Error).stack ?? String(e)}`);
        throw e;
      }
      seen.push(r);
      if (r.verdict !== 'clean') t.log(`counterexample? ${line(r)} — ${r.reasons.join('; ')}`);
      return r.verdict === 'clean';
    }),
    { numRuns: RUNS, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined, endOnFailure: true },
  );
  const bytes = seen.reduce((n, r) => n + r.size, 0);
  t.true(seen.length === RUNS && seen.every((r) => r.verdict === 'clean'), `${seen.length} cases, all clean`);
  t.log(`${seen.length} cases, ${bytes} bytes, every one clean (${seen[0]?.serverVersion}, ${settings.join(' ')})`);
}

for (const server of SERVERS) {
  const missing = serverUnavailable(server);
  const need = (title: string, body: (t: ExecutionContext) => Promise<void>) =>
    missing ? test.skip(`${title} [skipped: ${missing}]`, async () => {}) : testWithNeeds(test, title, ['root', 'tcpdump'], body);

  await need(`${server}: rename-replace at the access-log line never changes the response (sendfile on and off)`, async (t) => {
    await holds(t, server, SENDFILE[server], ['rename-replace']);
    await holds(t, server, OWN_BUFFER[server], ['rename-replace']);
  });

  const own = OWN_BUFFER[server].join(' ');
  await need(`${server}: reading into its own buffer (${own}), the response is clean after the access-log line`, async (t) => {
    await holds(t, server, OWN_BUFFER[server], ['pwrite', 'copy-over', 'copytruncate', 'truncate:0', 'punch-hole:0:4096']);
  });

  await need(`${server}: with sendfile, what a change at the access-log line does (observations)`, async (t) => {
    const base = { server, settings: SENDFILE[server], size: 1 << 20, clientDelayMs: 300, rcvbuf: 8 << 20 };
    const all: ServeCaseRecord[] = [];
    for (const mutation of ['pwrite', 'copy-over', 'copytruncate'] as const) {
      const runs: ServeCaseRecord[] = [];
      for (let i = 0; i < 3; i++) runs.push(await serve.run({ ...base, mutation }));
      for (const r of runs) t.log(line(r));
      all.push(...runs);
      const counts = new Map<string, number>();
      for (const r of runs) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
      // A rate over the conclusive cases: an inconclusive one is neither seen nor run.
      const conclusive = runs.filter((r) => r.verdict !== 'inconclusive');
      t.true(conclusive.length > 0, `every ${mutation} case was inconclusive: this host could not tell (${runs[0]?.reasons.join('; ')})`);
      const tally = [...counts].sort().map(([v, n]) => `${v} ${n}/${runs.length}`).join(', ');
      observe(t, {
        id: `serve-${server}-sendfile-${mutation}`,
        statement: `${server} with sendfile, 1 MiB, client 300 ms late with an 8 MiB receive buffer: ${mutation} at the access-log line`,
        event: CORRUPTED,
        seen: conclusive.filter((r) => isCorrupted(r.verdict)).length,
        runs: conclusive.length,
        transport: 'loopback',
        detail: `${runs[0]!.serverVersion}; ${tally}; received: ${formatClasses(runs[0]!.received.classes)}`,
      });
    }
    // Whether the line comes before the last body byte left, over every case above (the capture says when that byte left).
    const timed = all.filter((r) => r.doneSignal?.loggedBeforeLastByte !== null && r.doneSignal?.loggedBeforeLastByte !== undefined);
    observe(t, {
      id: `serve-${server}-logs-before-last-byte`,
      statement: `${server} with sendfile writes the access-log line before its last body byte has left (1 MiB, client 300 ms late)`,
      event: 'the access-log line was there before the last body byte left',
      seen: timed.filter((r) => r.doneSignal!.loggedBeforeLastByte).length,
      runs: timed.length,
      transport: 'loopback',
      detail: `${all[0]!.serverVersion}; body bytes sent by the line: ${timed.map((r) => r.doneSignal!.bodyBytesSentBySeen).join(' ')}`,
    });
  });
}
