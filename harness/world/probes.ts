// Feature probes: each exercises the feature itself, never compares kernel versions, so a backported or disabled feature shows
// as it is. Memoized per process; every probe removes what it created, also when it fails.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { closeSync, constants as fsc, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osc, tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../host/exit-hooks.ts';
import { CaptureSession, captureUnavailableReason } from '../capture/tcpdump.ts';
import { probeLoopDevice, probeLoopFs } from './fs/probe.ts';
import { FILE, isNativeError, native, SOCK, type Ring } from '../native.ts';
import { Relay, relayUnavailableReason } from './transport/relay.ts';

export const PROBE_NAMES = ['root', 'capNetRaw', 'capNetAdmin', 'capLease', 'tcpdump', 'ioUringSendZc', 'soZerocopy',
  'netns', 'tbf', 'tun', 'leases', 'leaseBreakTime', 'pipeResize', 'loopDevice', 'fsExt4', 'fsXfs', 'fsBtrfs'] as const;
export type ProbeName = (typeof PROBE_NAMES)[number];
export interface Probe { name: ProbeName; ok: boolean; detail: string; fix?: string }
/** What the full suite needs. capLease is informational: leases on files we own need no CAP_LEASE.
 * The loop-image filesystems are optional: file methods on a missing one skip with the reason. */
const OPTIONAL: readonly ProbeName[] = ['capLease', 'loopDevice', 'fsExt4', 'fsXfs', 'fsBtrfs'];
export const SUITE_NEEDS: readonly ProbeName[] = PROBE_NAMES.filter((n) => !OPTIONAL.includes(n));
/** Namespaces, files and tcpdump runs made by probes carry this prefix (leftover checks look for it). */
export const PROBE_PREFIX = 'zcprobe-probe-';

type Outcome = Omit<Probe, 'name'>;
const ok = (detail: string): Outcome => ({ ok: true, detail });
const missing = (detail: string, fix?: string): Outcome => (fix ? { ok: false, detail, fix } : { ok: false, detail });
const CMD_TIMEOUT_MS = 5000;
// sbin is often missing from non-login PATHs (sudo, cron, CI).
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` };
const unique = (): string => `${PROBE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`;

const errText = (e: unknown): string =>
  isNativeError(e) ? `${e.syscall}: ${e.code}` : (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

function capProbe(cap: string, bit: number, why: string): Outcome {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) return missing('no CapEff line in /proc/self/status', 'run on Linux with /proc mounted');
  if ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) return ok(`${cap} in CapEff (${why})`);
  return missing(`${cap} not in CapEff 0x${m[1]} (${why})`, `run as root with ${cap} (containers: --cap-add ${cap.slice(4)})`);
}

async function tcpdumpProbe(): Promise<Outcome> {
  const unavailable = captureUnavailableReason();
  if (unavailable?.startsWith('tcpdump not found')) return missing('not found', 'apt-get install tcpdump');
  if (unavailable) return missing(unavailable, /root/.test(unavailable) ? 'run as root' : undefined);
  const v = spawnSync('tcpdump', ['--version'], { env: ENV, encoding: 'utf8', timeout: CMD_TIMEOUT_MS });
  const version = /tcpdump version (\S+)/.exec(`${v.stdout ?? ''}${v.stderr ?? ''}`)?.[1] ?? 'unknown version';
  // A bound socket reserves the port, so the sentinel datagrams reach nobody else.
  const sock = createSocket('udp4');
  const file = join(tmpdir(), `${unique()}.pcap`);
  let session: CaptureSession | undefined;
  try {
    await new Promise<void>((resolve, reject) => { sock.once('error', reject); sock.bind(0, '127.0.0.1', resolve); });
    const port = sock.address().port;
    session = await CaptureSession.start({ iface: 'lo', filter: `udp and dst port ${port}`, file, bufferKiB: 1024, sentinel: { port } });
    // "listening on" is not enough: a packet we sent must land in the file.
    await session.flush(3000);
    await session.stop();
    return ok(`captures on lo (tcpdump ${version})`);
  } catch (e) {
    return missing(`tcpdump ${version} cannot capture on lo: ${errText(e)}`, 'needs CAP_NET_RAW; check AppArmor/seccomp: tcpdump -i lo -c 1');
  } finally {
    await session?.stop().catch(() => {}); // idempotent; never leave a tcpdump behind
    sock.close();
    rmSync(file, { force: true });
  }
}

/** What one SEND_ZC on loopback showed: a problem (the method cannot run), or whether the first
 * flags tried were refused with EINVAL (the send loop then drops them, as an older kernel needs). */
export interface SendZcOnce {
  problem?: string;
  flagsRefused: boolean;
}

// One byte over a loopback TCP pair: the op must complete and its notification must arrive.
// Tried with `zcFlags` first (default IORING_SEND_ZC_REPORT_USAGE, unknown before 6.2) and, if the
// kernel refuses them (EINVAL), without: SEND_ZC itself still works then.
export function sendZcOnce(ring: Ring, zcFlags = native.uringSendZcReportUsage): SendZcOnce {
  const fds = [native.socket(4)];
  try {
    const [l] = fds as [number];
    native.bind(l, '127.0.0.1', 0);
    native.listen(l, 1);
    const c = fds[fds.push(native.socket(4)) - 1]!;
    native.connect(c, '127.0.0.1', native.getsockname(l).port);
    fds.push(native.accept(l)); // already in the backlog: does not block
    const byte = new Uint8Array(1);
    let r = native.uringSendZc(ring, c, byte, 0, 1, 0, zcFlags, 2000);
    const flagsRefused = r.res === -osc.errno.EINVAL && zcFlags !== 0;
    if (flagsRefused) r = native.uringSendZc(ring, c, byte, 0, 1, 0, 0, 2000);
    const errno = Object.entries(osc.errno).find(([, n]) => n === -r.res)?.[0];
    if (r.res !== 1) return { problem: `SEND_ZC of 1 byte on loopback TCP returned ${r.res}${errno ? ` (${errno})` : ''}`, flagsRefused };
    if (r.more && !native.uringWaitNotif(ring, 2000)) return { problem: 'no SEND_ZC notification within 2 s', flagsRefused };
    return { flagsRefused };
  } finally {
    for (const fd of fds) native.close(fd);
  }
}

function ioUringSendZcProbe(): Outcome {
  if (!native.uringCompiled) return missing('addon built without liburing (no liburing.h at build time)', 'apt-get install liburing-dev && npm rebuild');
  const knob = '/proc/sys/kernel/io_uring_disabled'; // absent on kernels without the knob: nothing blocks
  const disabled = existsSync(knob) ? Number(readFileSync(knob, 'utf8').trim()) : 0;
  const fix = 'sysctl kernel.io_uring_disabled=0';
  if (disabled === 2) return missing('io_uring disabled by kernel.io_uring_disabled=2', fix);
  let ring: Ring | undefined;
  let once: SendZcOnce;
  try {
    if (!native.uringProbeSendZc()) return missing('kernel lacks IORING_OP_SEND_ZC', 'boot a kernel with io_uring SEND_ZC');
    ring = native.uringCreate(4);
    once = sendZcOnce(ring);
    if (once.problem) return missing(once.problem, 'boot a kernel with working io_uring SEND_ZC');
  } catch (e) {
    if (disabled === 1) return missing(`io_uring restricted by kernel.io_uring_disabled=1 (${errText(e)})`, fix);
    return missing(`io_uring unusable: ${errText(e)}`, 'allow io_uring_setup (seccomp or container policy blocks it)');
  } finally {
    if (ring) native.uringClose(ring);
  }
  const usage = once.flagsRefused ? '; IORING_SEND_ZC_REPORT_USAGE refused (EINVAL): sends go without it, COPIED unknown' : '';
  return ok(`ring created; 1-byte SEND_ZC on loopback TCP completed and notified${usage}${disabled ? ` (kernel.io_uring_disabled=${disabled})` : ''}`);
}

function soZerocopyProbe(): Outcome {
  const fd = native.socket(4);
  try {
    native.setsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_ZEROCOPY, 1);
    return ok('setsockopt SO_ZEROCOPY=1 on a fresh TCP socket');
  } catch (e) {
    return missing(`setsockopt SO_ZEROCOPY on a TCP socket: ${errText(e)}`, 'use a kernel with MSG_ZEROCOPY (SO_ZEROCOPY) support');
  } finally {
    native.close(fd);
  }
}

function ipCmd(file: 'ip' | 'tc', args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: CMD_TIMEOUT_MS, killSignal: 'SIGKILL', env: ENV }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} not found`
        : String(stderr).trim().split('\n')[0] || (err.killed ? `timed out after ${CMD_TIMEOUT_MS} ms` : err.message);
      reject(new Error(`${file} ${args.join(' ')}: ${why}`));
    });
  });
}

const NS_FIXES: [RegExp, string][] = [[/(ip|tc) not found/, 'apt-get install iproute2'],
  [/not permitted|Permission denied|read-only/i, 'run as root with CAP_SYS_ADMIN and CAP_NET_ADMIN (not in a restricted container)'],
  [/Unknown device type/i, 'modprobe veth'], [/qdisc kind is unknown/i, 'modprobe sch_tbf']];
const nsFailed = (e: unknown): Outcome => missing(errText(e), NS_FIXES.find(([re]) => re.test(errText(e)))?.[1]);
async function tbfOnce(ns: string): Promise<Outcome> {
  try {
    await ipCmd('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'p0', 'root', 'tbf', 'rate', '100mbit', 'burst', '131072', 'latency', '100ms']);
    const shown = await ipCmd('tc', ['-n', ns, 'qdisc', 'show', 'dev', 'p0']);
    return /\btbf\b/.test(shown) ? ok('added a tbf qdisc (100mbit) to a veth in a probe namespace') : missing(`tc shows no tbf: ${shown.trim()}`, 'modprobe sch_tbf');
  } catch (e) {
    return nsFailed(e);
  }
}

// netns, veth and tbf share one namespace (one setup instead of two) but are reported separately.
async function nsProbesOnce(): Promise<{ netns: Outcome; tbf: Outcome }> {
  if (process.geteuid?.() !== 0) return { netns: missing('network namespaces need root', 'run as root'), tbf: missing('tc qdiscs in a namespace need root', 'run as root') };
  const name = unique();
  // Signal or exit mid-probe: the registry's synchronous pass deletes the namespace.
  const unregister = registerCleanup(`netns ${name}`, () => void spawnSync('ip', ['netns', 'del', name], { env: ENV, stdio: 'ignore', timeout: CMD_TIMEOUT_MS }));
  let netns = missing('not run'), tbf = missing('not tried: no probe namespace with a veth pair (see netns)', 'fix netns first'), added = false;
  try {
    await ipCmd('ip', ['netns', 'add', name]);
    added = true;
    await ipCmd('ip', ['-n', name, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
    netns = ok('created a network namespace with a veth pair, then deleted it');
    tbf = await tbfOnce(name);
  } catch (e) {
    netns = nsFailed(e);
  } finally {
    // Also after a failed or timed-out add, which may have created it; "not found" then is fine.
    await ipCmd('ip', ['netns', 'del', name]).catch((e: unknown) => {
      if (added) netns = missing(`could not delete probe namespace: ${errText(e)}`, `ip netns del ${name}`);
    });
    unregister();
  }
  return { netns, tbf };
}
let nsRun: ReturnType<typeof nsProbesOnce> | undefined;

// The tun transport's own path: zcrelay opens /dev/net/tun and creates two devices (TUNSETIFF)
// inside a scratch namespace, and says "ready" only when both exist.
async function tunProbe(): Promise<Outcome> {
  if (process.geteuid?.() !== 0) return missing('TUN devices in a namespace need root', 'run as root');
  if (!existsSync('/dev/net/tun')) return missing('/dev/net/tun does not exist', 'modprobe tun (containers: --device /dev/net/tun)');
  const built = relayUnavailableReason();
  if (built) return missing(built, 'npm rebuild');
  const name = unique();
  const unregister = registerCleanup(`netns ${name}`, () => void spawnSync('ip', ['netns', 'del', name], { env: ENV, stdio: 'ignore', timeout: CMD_TIMEOUT_MS }));
  let relay: Relay | undefined;
  try {
    await ipCmd('ip', ['netns', 'add', name]);
    relay = await Relay.start(`/run/netns/${name}:zcpt0`, `/run/netns/${name}:zcpt1`);
    return ok('zcrelay opened /dev/net/tun and created two TUN devices (TUNSETIFF) in a probe namespace');
  } catch (e) {
    return missing(errText(e), /EPERM|EACCES|not permitted/i.test(errText(e)) ? 'needs CAP_NET_ADMIN and access to /dev/net/tun' : undefined);
  } finally {
    await relay?.close();
    await ipCmd('ip', ['netns', 'del', name]).catch(() => {});
    unregister();
  }
}

function leasesProbe(): Outcome {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = join(dir, `${unique()}.lease`);
  writeFileSync(path, 'x', { flag: 'wx', mode: 0o600 });
  let fd = -1;
  try {
    // Read-only: a read lease is refused (EAGAIN) while any fd, ours included, has it open for writing.
    fd = native.open(path, FILE.O_RDONLY);
    native.fcntlInt(fd, FILE.F_SETLEASE, FILE.F_RDLCK);
    const held = native.fcntlInt(fd, FILE.F_GETLEASE);
    native.fcntlInt(fd, FILE.F_SETLEASE, FILE.F_UNLCK);
    if (held !== FILE.F_RDLCK) return missing(`F_GETLEASE returned ${held} after F_SETLEASE F_RDLCK`, 'check fs.leases-enable and the filesystem');
    return ok(`F_RDLCK lease taken and released on a file in ${dir}`);
  } catch (e) {
    const fix = { EACCES: 'run as root or grant CAP_LEASE', EPERM: 'run as root or grant CAP_LEASE', EINVAL: 'sysctl fs.leases-enable=1',
      EAGAIN: `someone has the file open for writing: use a local filesystem for ${dir}` }[isNativeError(e) ? e.code : ''];
    return missing(`F_SETLEASE F_RDLCK on a file in ${dir}: ${errText(e)}`, fix);
  } finally {
    if (fd >= 0) native.close(fd);
    rmSync(path, { force: true });
  }
}

function leaseBreakTimeProbe(): Outcome {
  const path = '/proc/sys/fs/lease-break-time';
  let value = '?';
  try {
    value = readFileSync(path, 'utf8').trim();
    // Opening for writing checks permission and read-only mounts without changing the value.
    closeSync(openSync(path, fsc.O_WRONLY));
  } catch (e) {
    return missing(`${path} (${value} s): ${errText(e)}`, 'run as root with a writable /proc/sys');
  }
  return ok(`fs.lease-break-time=${value} s, readable and writable (left unchanged)`);
}

function pipeResizeProbe(): Outcome {
  const max = readFileSync('/proc/sys/fs/pipe-max-size', 'utf8').trim();
  const [r, w] = native.pipe2(0);
  try {
    const got = native.fcntlInt(w, FILE.F_SETPIPE_SZ, 1 << 20);
    return got >= 1 << 20 ? ok(`F_SETPIPE_SZ 1 MiB gave ${got} bytes (fs.pipe-max-size=${max})`)
      : missing(`F_SETPIPE_SZ 1 MiB gave only ${got} bytes`, 'sysctl fs.pipe-max-size=1048576');
  } catch (e) {
    return missing(`F_SETPIPE_SZ 1 MiB: ${errText(e)} (fs.pipe-max-size=${max})`, 'sysctl fs.pipe-max-size=1048576 (or grant CAP_SYS_RESOURCE)');
  } finally {
    for (const fd of [r, w]) native.close(fd);
  }
}

const IMPLS: Record<ProbeName, () => Outcome | Promise<Outcome>> = {
  root: () => (process.geteuid?.() === 0 ? ok('euid 0') : missing(`euid ${process.geteuid?.() ?? '?'}, not root`, 'run as root, e.g. sudo npm test')),
  capNetRaw: () => capProbe('CAP_NET_RAW', 13, 'tcpdump live capture'),
  capNetAdmin: () => capProbe('CAP_NET_ADMIN', 12, 'veth, tc qdiscs, SO_*BUFFORCE'),
  capLease: () => capProbe('CAP_LEASE', 28, 'leases on files we do not own; ours need none'),
  tcpdump: tcpdumpProbe, ioUringSendZc: ioUringSendZcProbe, soZerocopy: soZerocopyProbe,
  netns: async () => (await (nsRun ??= nsProbesOnce())).netns,
  tbf: async () => (await (nsRun ??= nsProbesOnce())).tbf,
  tun: tunProbe,
  leases: leasesProbe, leaseBreakTime: leaseBreakTimeProbe, pipeResize: pipeResizeProbe,
  loopDevice: probeLoopDevice, fsExt4: () => probeLoopFs('ext4'), fsXfs: () => probeLoopFs('xfs'), fsBtrfs: () => probeLoopFs('btrfs'),
};

const memo = new Map<ProbeName, Promise<Probe>>();
/** One probe's result: runs it on first use, then answers from the per-process memo. Rejects only on an unknown name. */
export function probe(name: ProbeName): Promise<Probe> {
  const impl = Object.hasOwn(IMPLS, name) ? IMPLS[name] : undefined; // not Object.prototype's keys
  if (!impl) return Promise.reject(new Error(`unknown probe "${name}" (known: ${PROBE_NAMES.join(', ')})`));
  if (!memo.has(name)) {
    memo.set(name, (async () => impl())().catch((e: unknown) => missing(`probe failed: ${errText(e)}`))
      .then((o): Probe => ({ name, ...o, detail: o.detail.replace(/\s*\n\s*/g, ' ') }))); // one line, always
  }
  return memo.get(name)!;
}

/** Every probe, in PROBE_NAMES order (independent probes run concurrently). */
export function runAllProbes(): Promise<Probe[]> {
  return Promise.all(PROBE_NAMES.map(probe));
}
