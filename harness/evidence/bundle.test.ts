// The evidence bundle's Wireshark parts without a live case: case.pcapng next to case.pcap, the
// filter in hexdiff.txt and in the report's counterexample (HTML, Markdown, schema).
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTcpPacket, writePcap } from '../../test-support/packet-builder.ts';
import { hexDiff, wiresharkEvidence, writeEvidence, type CaseSummary } from './bundle.ts';
import { pcapngToPcap } from './pcapng.ts';
import { counterexampleHtml } from '../report/counterexample.ts';
import { sampleReport } from '../../test-support/report-fixture.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { validateReport } from '../report/validate.ts';

const dir = mkdtempSync(join(tmpdir(), 'zcprobe-evidence-test-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const conn = { src: '127.0.0.1', srcPort: 40000, dst: '127.0.0.1', dstPort: 9000 };
const A = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i % 251) + 1));
const B = (n: number) => Buffer.from(A(n).map((x) => x ^ 0xff));

/** SYN, then 100 intended bytes and 100 mutated bytes in two frames. */
function capture(): Buffer {
  const pkt = (seq: number, payload?: Buffer, syn = false) => ({ tsUs: 1_700_000_000_000_000 + seq, data: buildTcpPacket({ ...conn, seq, flags: syn ? { syn: true } : { ack: true }, payload }) });
  return writePcap(1, [pkt(0, undefined, true), pkt(1, A(100)), pkt(101, B(200).subarray(100))]);
}

const summary: CaseSummary = {
  id: 'case-1-1', kernel: '6.18.0-test', method: 'vmsplice', size: 200, mutation: 'overwrite', mutationRange: 'all',
  safeguard: 'none', receiverDelayMs: 50, transport: 'loopback', family: 4, verdict: 'corrupted-on-wire', reasons: [],
};

test('the bundle holds one packet file, case.pcapng (the records as captured, with comments), and the filter in hexdiff.txt', (t) => {
  const pcap = capture();
  const ws = wiresharkEvidence(summary, { pcap, connection: conn, intended: A(200), mutated: B(200), receivedFirstOffset: null, iface: 'lo' });
  t.deepEqual(ws.pointers, { filter: 'frame.number == 3', frames: [3], firstMutatedFrame: 3 });
  const diff = hexDiff(100, A(200), Buffer.concat([A(100), B(200).subarray(100)]), A(200));
  const paths = writeEvidence(join(dir, 'case-1-1'), { id: summary.id, wireshark: ws.pointers }, diff, ws);
  t.is(paths.pcap, paths.pcapng);
  t.true(existsSync(paths.pcapng!));
  t.false(existsSync(join(dir, 'case-1-1', 'case.pcap')), 'no second copy in classic pcap');
  t.deepEqual(readFileSync(paths.pcapng!).subarray(0, 4), Buffer.from([0x0a, 0x0d, 0x0d, 0x0a]), 'pcapng section header block');
  t.deepEqual(pcapngToPcap(readFileSync(paths.pcapng!)), pcap, 'the records as captured: back to the same classic pcap byte for byte');
  const txt = readFileSync(paths.hexDiff, 'utf8');
  t.regex(txt, /paste into the display filter bar.*\n {2}frame\.number == 3\n {2}frame 3: first frame carrying bytes that differ from I\n$/);
});

test('the report shows the filter in the counterexample (HTML, Markdown) and the schema accepts it', (t) => {
  const r = sampleReport();
  const cx = { ...r.counterexamples[0]!, wireshark: { pcapng: 'evidence/x/case.pcapng', filter: 'frame.number == 3 || frame.number == 9', frames: [3, 9] } };
  const report = { ...r, counterexamples: [cx, ...r.counterexamples.slice(1)] };
  t.deepEqual(validateReport(report), []);
  t.deepEqual(validateReport({ ...report, counterexamples: [{ ...cx, wireshark: { ...cx.wireshark, frames: [0] } }] }).length, 1, 'frame numbers start at 1');
  const html = counterexampleHtml(cx, 'cx', 0);
  t.true(html.includes('<code>frame.number == 3 || frame.number == 9</code>'));
  t.true(html.includes('href="evidence/x/case.pcapng"'));
  t.true(renderMarkdown(report).includes('`frame.number == 3 || frame.number == 9`'));
});
