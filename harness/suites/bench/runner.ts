// Runs the bench: every row once per round, rounds repeated, each run against a fresh receiver
// process. Figures are raw per-run samples here; report.ts turns them into medians and ratios.
import { cpus, release } from 'node:os';
import { makeWorkDir } from '../../host/workdir.ts';
import { native } from '../../native.ts';
import { probe } from '../../world/probes.ts';
import { cellKey, planCells, type BenchConfig, type Capabilities, type Cell, type Skip } from './config.ts';
import { prepareHarnessSender } from './loops.ts';
import { cUringUnavailable, runCSender, startReceiver, type ReceiverReport } from './processes.ts';
import type { LinkCounters } from '../../world/transport/types.ts';

/** One run of one row: the sender's clock and CPU, and the receiver's CPU. */
export interface Sample {
  round: number;
  bytes: number;
  /** first send → receiver's 'D' (every byte read), plus zero-copy completions collected */
  elapsedNs: number;
  senderUserUs: number;
  senderSysUs: number;
  receiverUserUs: number;
  receiverSysUs: number;
  calls: number;
  shortCounts: number;
  zc?: { expected: number; received: number; copied: number };
  /** links with a relay (tun): what it carried during the run and the CPU it used */
  link?: { s2rPackets: number; r2sPackets: number; cpuUs: number };
}

/** Where the bench reads a relay's counters (tun); absent for loopback and veth. */
export type LinkCountersSource = () => Promise<LinkCounters>;

export interface RowRun {
  cell: Cell;
  samples: Sample[];
  /** runs that failed, with why (the other rounds still count) */
  errors: string[];
}

export interface BenchRun {
  config: BenchConfig;
  host: { kernel: string; cpus: number; cpuModel: string; node: string };
  skipped: Skip[];
  rows: RowRun[];
  startedAt: string;
  elapsedMs: number;
}

export async function probeCapabilities(cUring: string | null): Promise<Capabilities> {
  let harnessUring: string | null = null;
  if (!native.uringCompiled) harnessUring = 'addon built without liburing (no /usr/include/liburing.h at build time)';
  else if (!native.uringProbeSendZc()) harnessUring = 'kernel lacks IORING_OP_SEND_ZC';
  const zc = await probe('soZerocopy');
  return { harnessUring, cUring, zerocopy: zc.ok ? null : `MSG_ZEROCOPY: ${zc.detail}` };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function checkReceiver(r: ReceiverReport, bytes: number): ReceiverReport {
  if (r.bytes !== bytes) throw new Error(`receiver read ${r.bytes} bytes, sender sent ${bytes}`);
  return r;
}

/** runCell, with the relay's counters read around it when the link has a relay. */
async function measuredCell(cfg: BenchConfig, cell: Cell, round: number, workDir: string, link?: LinkCountersSource): Promise<Sample> {
  const before = await link?.();
  const sample = await runCell(cfg, cell, round, workDir);
  const after = await link?.();
  if (before && after)
    sample.link = {
      s2rPackets: after.s2rPackets - before.s2rPackets,
      r2sPackets: after.r2sPackets - before.r2sPackets,
      cpuUs: after.cpuUs - before.cpuUs,
    };
  return sample;
}

async function runCell(cfg: BenchConfig, cell: Cell, round: number, workDir: string): Promise<Sample> {
  const ack = cell.safeguard === 'app-ack' ? cell.size : 0;
  const reportTimeoutMs = 30000;
  if (cell.impl === 'c') {
    const rx = await startReceiver(cfg.target, ack);
    try {
      const c = await runCSender({
        ...cell, host: cfg.target.host, port: rx.port, pipeSize: cfg.pipeSize, workDir, prefix: cfg.target.senderPrefix,
      });
      const r = checkReceiver(await withTimeout(rx.report, reportTimeoutMs, 'receiver'), c.bytes);
      const zc = c.zcExpected > 0 ? { expected: c.zcExpected, received: c.zcReceived, copied: c.zcCopied } : undefined;
      return {
        round,
        bytes: c.bytes,
        elapsedNs: c.elapsedNs,
        senderUserUs: c.userUs,
        senderSysUs: c.sysUs,
        receiverUserUs: r.userUs,
        receiverSysUs: r.sysUs,
        calls: c.calls,
        shortCounts: c.shortCounts,
        zc,
      };
    } finally {
      rx.kill();
    }
  }
  // The source exists before the receiver is spawned, as in a Session (MADV_DONTFORK anyway).
  const sender = prepareHarnessSender(cfg, cell.method, cell.safeguard, cell.size, workDir);
  try {
    const rx = await startReceiver(cfg.target, ack);
    try {
      const h = sender.run(cfg.target.host, rx.port, cell.messages);
      const r = checkReceiver(await withTimeout(rx.report, reportTimeoutMs, 'receiver'), h.bytes);
      return {
        round,
        bytes: h.bytes,
        elapsedNs: h.elapsedNs,
        senderUserUs: h.userUs,
        senderSysUs: h.sysUs,
        receiverUserUs: r.userUs,
        receiverSysUs: r.sysUs,
        calls: h.calls,
        shortCounts: h.shortCounts,
        zc: h.zc,
      };
    } finally {
      rx.kill();
    }
  } finally {
    sender.release();
  }
}

export type Progress = (line: string) => void;

export async function runBench(cfg: BenchConfig, progress: Progress = () => undefined, link?: LinkCountersSource): Promise<BenchRun> {
  const startedAt = new Date();
  const t0 = performance.now();
  const caps = await probeCapabilities(cfg.cSizes.length ? await cUringUnavailable() : null);
  const { cells, skipped } = planCells(cfg, caps);
  const rows = new Map<string, RowRun>(cells.map((cell) => [cellKey(cell), { cell, samples: [], errors: [] }]));
  // zcprobe-<pid>-bench-* on tmpfs, in the run ledger: a crashed bench's files are swept.
  const work = makeWorkDir('bench');
  const workDir = work.path;
  try {
    // Round 1 would otherwise pay for V8 compiling the harness loops (seen as 2-3x the user CPU of
    // later rounds); warm-up figures are discarded, and its failures recur in the rounds anyway.
    if (cfg.warmupTotal > 0) {
      const w0 = performance.now();
      for (const cell of cells) {
        const messages = Math.min(cell.messages, Math.max(1, Math.ceil(cfg.warmupTotal / cell.size)));
        await runCell(cfg, { ...cell, messages }, 0, workDir).catch(() => undefined);
      }
      progress(`warm-up: ${cells.length} runs in ${((performance.now() - w0) / 1000).toFixed(1)} s`);
    }
    for (let round = 1; round <= cfg.runs; round++) {
      const r0 = performance.now();
      let failed = 0;
      for (const cell of cells) {
        const row = rows.get(cellKey(cell))!;
        try {
          row.samples.push(await measuredCell(cfg, cell, round, workDir, link));
        } catch (e) {
          failed++;
          row.errors.push(`round ${round}: ${(e as Error).message}`);
        }
      }
      const secs = ((performance.now() - r0) / 1000).toFixed(1);
      progress(`round ${round}/${cfg.runs}: ${cells.length} runs in ${secs} s${failed ? `, ${failed} failed` : ''}`);
    }
  } finally {
    work.remove();
  }
  const cpuList = cpus();
  return {
    config: cfg,
    host: { kernel: release(), cpus: cpuList.length, cpuModel: cpuList[0]?.model ?? 'unknown', node: process.version },
    skipped,
    rows: [...rows.values()],
    startedAt: startedAt.toISOString(),
    elapsedMs: Math.round(performance.now() - t0),
  };
}
