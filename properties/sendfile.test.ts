// Claim under test: "once sendfile() has returned, the file may be changed". Hypothesis: false —
// the socket's skbs reference the file's page-cache pages, so a pwrite() right after return
// changes what the receiver reads (on loopback the wire still shows the original bytes).
// Also recorded: what arrives when the file is truncated right after return, and that the
// harness loops over sendfile's per-call cap (0x7ffff000 bytes) on a sparse 3 GiB file.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { SENDFILE_MAX_PER_CALL, sendfileAll } from '../harness/case/methods/sendfile.ts';
import { FILE, native } from '../harness/native.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';
import { recordTruncation } from './helpers/t-truncation.ts';

const session = useSession(test);

await testWithNeeds(test, 'sendfile: pwrite right after return changes what arrives (counterexample found and shrunk)', ['root', 'tcpdump'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['sendfile-pwrite']!);
  t.truthy(out.counterexample?.failing.evidence);
});

await testWithNeeds(test, 'sendfile: ftruncate right after return — record what arrives', ['root', 'tcpdump'], async (t) => {
  await recordTruncation(t, session, 'sendfile');
});

test('sendfile: the harness loop handles the per-call cap on a sparse 3 GiB file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-sparse-'));
  const path = join(dir, 'sparse');
  const size = 3 * 1024 ** 3;
  const fd = native.open(path, FILE.O_RDWR | FILE.O_CREAT, 0o600);
  const devNull = native.open('/dev/null', FILE.O_WRONLY);
  try {
    native.ftruncate(fd, size); // sparse: no blocks, reads as zeros
    const counts: number[] = [];
    const r = sendfileAll(devNull, fd, size, counts);
    t.is(counts[0], SENDFILE_MAX_PER_CALL, 'Linux moves at most 0x7ffff000 bytes per sendfile call');
    t.is(r.bytes, size);
    t.true(r.calls >= 2 && r.shortCounts >= 1, 'short counts were looped over, not hidden');
    t.log(`sendfile of 3 GiB: ${r.calls} calls, counts ${counts.join(', ')}`);
  } finally {
    native.close(devNull);
    native.close(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
