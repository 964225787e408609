// The "Real servers" section: cells counted from serve cases like the matrix's, a recommendation row
// per server generated from them, counterexamples only for corrupted cells, and a report carrying it
// still validates against schema/report.schema.json and renders in Markdown and HTML.
import test from 'ava';
import type { ServeCaseRecord } from '../evidence/serve-evidence.ts';
import { sampleReport } from '../../test-support/report-fixture.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { buildServersSection } from './servers.ts';
import { validateReport } from './validate.ts';

const range = (cls: string) => ({ ranges: [{ start: 0, end: 1048576, class: cls }], omittedRanges: 0, bytes: {} });
let n = 0;
function rec(setting: string, mutation: string, verdict: string, cls: string, early = false): ServeCaseRecord {
  const id = `serve-1-${++n}`;
  const corrupted = verdict.startsWith('corrupted');
  return {
    id, server: 'nginx', serverVersion: 'nginx/1.22.1', package: 'nginx 1.22.1-9', setting, mutation, verdict, reasons: [],
    size: 1048576, clientDelayMs: 300,
    rcvbuf: 8388608, transport: 'loopback', fs: 'tmpfs', harnessMs: 250, received: { classes: range(cls) },
    doneSignal: { loggedBeforeLastByte: early },
    timings: {
      connectedAt: 1000,
      loggedAt: 1002,
      logSeenAt: 1003,
      mutatedAt: 1003.5,
      firstMutatedPacketAt: null,
      lastBodyPacketAt: 1002.5,
      clientFirstReadAt: 1300,
    },
    ...(corrupted ? {
      hexDiff: { offset: 0, intended: '0102', wire: '0102', received: 'fefd' },
      evidence: {
        dir: `/run/x/${id}`,
        pcap: `/run/x/${id}/case.pcap`,
        pcapng: null,
        caseJson: `/run/x/${id}/case.json`,
        hexDiff: `/run/x/${id}/hexdiff.txt`,
      },
    } : {}),
  } as unknown as ServeCaseRecord;
}

test('cells, the recommendation row and counterexamples come from the cases', (t) => {
  const records = [
    rec('sendfile=on', 'pwrite', 'corrupted-after-wire', 'new'), rec('sendfile=on', 'pwrite', 'corrupted-after-wire', 'new', true),
    rec('sendfile=on', 'rename-replace', 'clean', 'old'), rec('sendfile=off', 'rename-replace', 'clean', 'old'),
    rec('sendfile=off', 'pwrite', 'clean', 'old'), rec('sendfile=off', 'pwrite', 'inconclusive', 'old'),
  ];
  const s = buildServersSection(
    records,
    [{ server: 'lighttpd', setting: 'sendfile=on', mutation: 'pwrite', reason: 'lighttpd is not installed' }],
    '/run/x',
    'plan',
  );
  const cell = s.cells.find((c) => c.server === 'nginx' && c.setting === 'sendfile=on' && c.mutation === 'pwrite')!;
  t.like(cell, { cases: 2, verdict: 'corrupted-after-wire', loggedBeforeLastByte: 1, harnessMsMedian: 250 });
  t.deepEqual(cell.received, [{ shape: 'new [0,1048576)', cases: 2 }]);
  t.is(s.counterexamples.length, 1, 'one counterexample per corrupted cell');
  t.is(s.counterexamples[0]!.pcap, 'serve-1-1/case.pcap');
  t.regex(
    s.counterexamples[0]!.command,
    /zcprobe serve --server nginx --set sendfile=on --mutation pwrite --size 1048576 --client-delay-ms 300 --rcvbuf 8388608/,
  );
  t.is(
    s.cells.find((c) => c.setting === 'sendfile=off' && c.mutation === 'pwrite')!.verdict,
    'inconclusive',
    'an inconclusive case keeps a clean cell from counting as held',
  );
  const nginx = s.recommendations.find((r) => r.server === 'nginx')!;
  t.deepEqual(nginx.safe, [{ mutation: 'rename-replace', settings: ['sendfile=off', 'sendfile=on'] }]);
  t.regex(
    nginx.rule,
    /safe under every setting tried .*: rename-replace\. not safe: pwrite with sendfile=on \(2\/2 corrupted \(2 after-wire\)\)\. not/,
  );
  t.regex(
    s.recommendations.find((r) => r.server === 'lighttpd')!.rule,
    /not settled: pwrite with sendfile=on \(skipped: lighttpd is not installed\)/,
  );
});

test('a report with the section validates and renders it', (t) => {
  const report = sampleReport();
  report.servers = buildServersSection(
    [rec('sendfile=on', 'pwrite', 'corrupted-after-wire', 'new'), rec('sendfile=on', 'rename-replace', 'clean', 'old')],
    [],
    '/run/x',
    '1 MiB, loopback',
  );
  t.deepEqual(validateReport(JSON.parse(JSON.stringify(report))), []);
  const md = renderMarkdown(report);
  t.regex(md, /### Real servers/);
  t.regex(md, /\| nginx\/1\.22\.1 \| sendfile=on \| pwrite \| 🟠 1\/1 corrupted \(1 after-wire\) — 1× new \\?\[0,1048576\) \| 0\/1 \|/);
  const html = renderHtml(report);
  t.regex(html, /<section class="servers" id="servers">/);
  t.regex(html, /Run again: <code>npx zcprobe serve --server nginx/);
});
