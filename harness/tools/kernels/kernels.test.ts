// Pure parts of the kernels runner: the initramfs archive, the bzImage release, module load
// order, package resolution, the job file, qemu's arguments, TAP totals, which claim governs a
// cell, and the side-by-side verdict split (universal claim contradicted = failure).
import { cellHeadline } from '../../report/cells.ts';
import test from 'ava';
import fc from 'fast-check';
import { CLAIMS } from '../../model/claims/index.ts';
import type { MatrixCell, Report, Verdict } from '../../report/types.ts';
import { bzImageRelease } from './bzimage.ts';
import { claimForCell } from './cell-claims.ts';
import { compareColumns, judge, renderKernelsView, type KernelColumn } from './compare.ts';
import { buildCpio, readCpio } from './cpio.ts';
import { jobEnv } from './job-disk.ts';
import { kernelImageDependency, parseControl } from './kernel-source.ts';
import { loadOrder, moduleName, parseBuiltin, parseModulesDep } from './modules-dep.ts';
import { qemuArgs } from './qemu.ts';
import { parseTap } from './tap.ts';

test('cpio: what is written reads back, names and data 4-byte aligned, with a trailer', (t) => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), (datas) => {
      const entries = [{ name: 'd', type: 'dir' as const, mode: 0o755 }, ...datas.map((d, i) => ({ name: `d/f${'x'.repeat(i)}`, type: 'file' as const, mode: 0o644, data: Buffer.from(d) }))];
      const back = readCpio(buildCpio(entries));
      t.is(back.length, entries.length);
      back.forEach((b, i) => {
        t.is(b.name, entries[i]!.name);
        t.deepEqual([...b.data], [...(i === 0 ? [] : datas[i - 1]!)]);
      });
    }),
  );
  const link = readCpio(buildCpio([{ name: 'bin/sh', type: 'symlink', mode: 0o777, data: 'busybox' }]))[0]!;
  t.is(link.mode & 0o170000, 0o120000);
  t.is(link.data.toString(), 'busybox');
  t.throws(() => buildCpio([{ name: '/abs', type: 'dir', mode: 0o755 }]), { message: /relative/ });
});

test('bzImage release: read through the setup header, undefined for anything else', (t) => {
  const img = Buffer.alloc(0x1000);
  img.write('HdrS', 0x202, 'ascii');
  img.writeUInt16LE(0x600, 0x20e);
  img.write('6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\0', 0x800, 'ascii');
  t.is(bzImageRelease(img), '6.1.0-57-cloud-amd64');
  t.is(bzImageRelease(Buffer.alloc(0x1000)), undefined);
  t.is(bzImageRelease(Buffer.from('short')), undefined);
});

test('modules: dependencies load first, built-ins need nothing, a missing module is an error naming who needs it', (t) => {
  const dep = parseModulesDep([
    'kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz',
    'kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_ring.ko.xz kernel/drivers/virtio/virtio.ko.xz',
    'kernel/drivers/virtio/virtio_pci_modern_dev.ko:',
    'kernel/drivers/virtio/virtio_ring.ko.xz:',
    'kernel/drivers/virtio/virtio.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz',
  ].join('\n'));
  const order = loadOrder(dep, parseBuiltin('kernel/fs/ext4/ext4.ko\n'), ['virtio_pci', 'virtio-blk', 'ext4']);
  t.deepEqual(order.map(moduleName), ['virtio_pci_modern_dev', 'virtio_ring', 'virtio', 'virtio_pci', 'virtio_blk']);
  t.throws(() => loadOrder(parseModulesDep('a.ko: b.ko\n'), new Set(), ['a']), { message: /module b is neither .* \(needed by a\)/ });
});

test('packages: a meta-package leads to its versioned image; debug packages are never picked', (t) => {
  const meta = parseControl('Package: linux-image-cloud-amd64\nVersion: 6.1.192-3\nDepends: linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3)\n\nPackage: other\n');
  t.is(meta.Package, 'linux-image-cloud-amd64');
  t.is(kernelImageDependency(meta), 'linux-image-6.1.0-57-cloud-amd64');
  t.is(kernelImageDependency({ Package: 'linux-image-6.12.117+deb12-cloud-amd64', Depends: 'kmod, initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool' }), 'linux-image-6.12.117+deb12-cloud-amd64');
  // a meta-package whose name starts with a version is still a meta-package
  t.is(kernelImageDependency({ Package: 'linux-image-6.12-cloud-amd64', Depends: 'linux-image-6.12.117+deb12-cloud-amd64 (= 6.12.117-1~deb12u1)' }), 'linux-image-6.12.117+deb12-cloud-amd64');
  t.is(kernelImageDependency({ Package: 'linux-image-cloud-amd64-dbg', Depends: 'linux-image-6.1.0-57-cloud-amd64-dbg' }), undefined);
  t.is(kernelImageDependency({ Package: 'tcpdump', Depends: 'libc6' }), undefined);
  t.is(parseControl('Package: x\nDescription: a\n more\n').Description, 'a more');
});

test('job.env: plain words only, test files exported for the suite', (t) => {
  t.is(jobEnv({ suite: 'test', timeLimitS: 60.4, testFiles: ['properties/write.test.ts'] }), 'SUITE=test\nTIME_LIMIT_S=60\nexport ZCPROBE_TEST_FILES="properties/write.test.ts"\n');
  t.throws(() => jobEnv({ suite: 'smoke', timeLimitS: 1, testFiles: ['a;rm -rf /'] }), { message: /not a plain word/ });
});

test('qemu: TCG or KVM as chosen, no network device, the root disk as a snapshot, stops instead of rebooting', (t) => {
  const args = qemuArgs({ accel: { name: 'tcg' }, vmlinuz: 'vmlinuz', initrd: 'initrd', append: ['x=1'], disks: [{ path: 'root.ext4', snapshot: true }, { path: 'job.ext4' }, { path: 'mods.ext4', readonly: true }], memoryMiB: 1024, cpus: 2, consoleFile: 'c.log' });
  const line = args.join(' ');
  t.regex(line, /-accel tcg,thread=multi -cpu max -smp 2 -m 1024M/);
  t.regex(line, /file=root\.ext4,format=raw,if=virtio,snapshot=on -drive file=job\.ext4,format=raw,if=virtio -drive file=mods\.ext4,format=raw,if=virtio,readonly=on/);
  t.regex(line, /-nic none/);
  t.true(args.includes('-no-reboot'));
  t.regex(args[args.indexOf('-append') + 1]!, /panic=-1.* x=1$/);
  t.regex(qemuArgs({ accel: { name: 'kvm', cpu: 'host' }, vmlinuz: 'v', initrd: 'i', append: [], disks: [], memoryMiB: 512, cpus: 1, consoleFile: 'c' }).join(' '), /-accel kvm -cpu host/);
});

test('TAP: totals, failed titles (not skips), FINDING lines, and whether the plan line came', (t) => {
  const s = parseTap(['TAP version 13', 'ok 1 - a', 'not ok 2 - b › c', 'ok 3 - d # SKIP needs tcpdump', 'FINDING: x on 6.1 (loopback): held; the 6.1 baseline says falsified', '1..3', '# tests 3', '# pass 1', '# skip 1', '# fail 1'].join('\n'));
  t.like(s, { pass: 1, fail: 1, skip: 1, complete: true });
  t.deepEqual(s.failed, ['b › c']);
  t.is(s.findings.length, 1);
  t.false(parseTap('ok 1 - a\n').complete);
});

test('cells: each is governed by the claim its method and safeguard belong to; kinds come from claims.ts', (t) => {
  t.like(claimForCell('write', 'siocoutq'), { id: 'write-reuse', kind: 'universal', expect: 'holds' });
  t.like(claimForCell('vmsplice', 'none'), { id: 'vmsplice-reuse', kind: 'universal', expect: 'falsified' });
  t.like(claimForCell('msg-zerocopy', 'none'), { id: 'msg-zerocopy-reuse', kind: 'observation' });
  t.like(claimForCell('sendfile', 'siocoutq'), { id: 'siocoutq-queued', kind: 'observation' });
  t.like(claimForCell('splice', 'lease'), { kind: 'universal', expect: 'holds' });
  t.like(claimForCell('splice', 'lease-early'), { kind: 'observation' });
  t.is(claimForCell('tee', 'siocoutq'), undefined);
  // the table agrees with what each claim generates (sampled from its arbitrary)
  for (const [method, safeguard] of [['sendfile', 'none'], ['vmsplice', 'app-ack'], ['io-uring-zc', 'zc-completion'], ['splice', 'siocoutqnsd'], ['tee', 'none']] as const) {
    const c = claimForCell(method, safeguard)!;
    const gen = fc.sample(CLAIMS[c.id]!.experiments, { numRuns: 300, seed: 1 });
    t.true(gen.some((e) => e.method === method && (e.safeguard ?? 'none') === safeguard), `${c.id} generates ${method} × ${safeguard}`);
  }
});

const cell = (method: string, safeguard: string, verdict: Verdict): MatrixCell => ({
  method, safeguard, transport: 'loopback', cases: 3, bytes: 1, counts: { [verdict]: 3 }, conditions: [], verdict, reasons: [],
  counterexampleIds: [], corruptedCases: verdict.startsWith('corrupted') ? 3 : 0, upperBound95: null,
  headline: cellHeadline({ cases: 3, counts: { [verdict]: 3 } }),
});
const col = (kernel: string, cells: MatrixCell[], extra: Partial<KernelColumn> = {}): KernelColumn =>
  ({ title: kernel, kernel, report: { cells } as Report, ...extra });

test('side by side: a universal claim contradicted is a failure, an observation that differs is a finding, inconclusive decides nothing', (t) => {
  t.is(judge({ id: 'x', kind: 'universal', expect: 'holds' }, 'corrupted-after-wire'), 'contradicts');
  t.is(judge({ id: 'x', kind: 'universal', expect: 'falsified' }, 'corrupted-on-wire'), 'conforms');
  t.is(judge({ id: 'x', kind: 'universal', expect: 'falsified' }, 'inconclusive'), 'undecided');
  const c = compareColumns([
    col('6.18', [cell('write', 'none', 'clean'), cell('msg-zerocopy', 'none', 'corrupted-on-wire'), cell('vmsplice', 'none', 'corrupted-on-wire'), cell('sendfile', 'app-ack', 'clean'), cell('splice', 'none', 'corrupted-on-wire')]),
    col('6.1', [cell('write', 'none', 'clean'), cell('msg-zerocopy', 'none', 'clean'), cell('vmsplice', 'none', 'corrupted-after-wire'), cell('sendfile', 'app-ack', 'corrupted-after-wire'), cell('splice', 'none', 'inconclusive')]),
  ]);
  const status = Object.fromEntries(c.cells.map((r) => [r.what, r.status]));
  t.deepEqual(status, {
    'write × none × loopback': 'same',
    'msg-zerocopy × none × loopback': 'finding',
    'vmsplice × none × loopback': 'finding',
    'sendfile × app-ack × loopback': 'failure',
    'splice × none × loopback': 'undecided',
  });
  t.regex(c.cells.find((r) => r.status === 'failure')!.why!, /universal claim app-ack .* 6\.1 shows corrupted-after-wire/);
  t.is(c.failures, 1);
  t.is(c.findings, 2);
  // the same verdict from a different mix of cases is a finding; the same mix with other counts is not
  const mixed = (counts: MatrixCell['counts']): MatrixCell => ({ ...cell('sendfile', 'none', 'corrupted-on-wire'), counts, headline: cellHeadline({ cases: 3, counts }) });
  const mix = compareColumns([col('6.18', [mixed({ 'corrupted-on-wire': 1, 'corrupted-after-wire': 2 })]), col('6.1', [mixed({ 'corrupted-on-wire': 3 })])]).cells[0]!;
  t.like(mix, { status: 'finding', values: [cellHeadline({ cases: 3, counts: { 'corrupted-on-wire': 1, 'corrupted-after-wire': 2 } }), cellHeadline({ cases: 3, counts: { 'corrupted-on-wire': 3 } })] });
  t.not(mix.values[0], mix.values[1], 'the headlines tell the mixes apart');
  t.regex(mix.why!, /6\.1: corrupted-on-wire\b/);
  t.is(compareColumns([col('a', [mixed({ 'corrupted-on-wire': 1, clean: 2 })]), col('b', [mixed({ 'corrupted-on-wire': 2, clean: 1 })])]).cells[0]!.status, 'same');
  // a universal cell contradicted on one kernel alone is still a failure
  t.is(compareColumns([col('6.1', [cell('write', 'none', 'corrupted-on-wire')])]).failures, 1);
  const text = renderKernelsView(c, 'text');
  t.regex(text, /sendfile × app-ack × loopback .*FAILURE/);
  t.notRegex(text, /write × none/);
  t.regex(renderKernelsView(c, 'markdown'), /\| write × none × loopback \| 3\/3 clean[^|]* \| 3\/3 clean[^|]* \| {2}\|/);
});

const rate = (seen: number, runs: number) => ({ statement: 's', event: 'corrupted', seen, runs, transport: 'loopback' });

test('side by side: probes, recorded observations and test totals get a column per kernel', (t) => {
  const c = compareColumns([
    col('6.18', [], {
      probes: [{ name: 'tbf', ok: true, detail: 'ok' }],
      observations: [{ ...rate(10, 10), id: 'o' }, { ...rate(3, 12), id: 'p' }],
      tap: parseTap('1..1\n# pass 1\n# fail 0\n'),
    }),
    col('6.1', [], {
      probes: [{ name: 'tbf', ok: false, detail: 'no sch_tbf' }],
      observations: [{ ...rate(0, 10), id: 'o' }, { ...rate(1, 12), id: 'p' }],
      tap: parseTap('not ok 1 - lease (c)\n1..1\n# pass 0\n# fail 1\n'),
    }),
  ]);
  t.like(c.probes[0], { status: 'finding', values: ['ok', 'missing: no sch_tbf'] });
  const flipped = ['10/10 corrupted (95 % CI 69–100 %)', '0/10 corrupted (95 % CI 0–31 %)'];
  t.like(c.observations[0], { what: 'o (loopback)', status: 'finding', values: flipped });
  t.like(c.observations[1], { what: 'p (loopback)', status: 'same' }, '3/12 vs 1/12 is chance');
  t.like(c.tests[0], { status: 'failure' });
  t.regex(c.tests[0]!.why!, /6\.1: lease \(c\)/);
  t.is(c.failures, 1);
  t.is(c.findings, 2);
});
