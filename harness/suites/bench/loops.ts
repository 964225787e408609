// The harness side of the bench: the methods' own send loops (MessageSender.send) once per message on one connection; pipes, ring
// and completion count are opened once per run, and completions are counted, not kept, so no message allocates beyond the addon.
import { makeExperiment, type Experiment } from '../../model/experiment.ts';
import { methodFor } from '../../case/methods/index.ts';
import { releaseSource } from '../../case/methods/sources.ts';
import { patternA, type Source } from '../../model/patterns.ts';
import { native } from '../../native.ts';
import { safeguardFor } from '../../case/safeguards/index.ts';
import type { BenchConfig, BenchMethod, BenchSafeguard } from './config.ts';

export interface HarnessRun {
  bytes: number;
  calls: number;
  shortCounts: number;
  elapsedNs: number;
  userUs: number;
  sysUs: number;
  zc?: { expected: number; received: number; copied: number };
}

export interface HarnessSender {
  /** connects, sends `messages` messages (waiting for the safeguard after each), stops the clock at the receiver's 'D' */
  run(host: string, port: number, messages: number): HarnessRun;
  release(): void;
}

/** Bound on collecting the last completions after the receiver said 'D'. */
const FINAL_COMPLETIONS_TIMEOUT_MS = 10_000;

export function prepareHarnessSender(
  cfg: BenchConfig, method: BenchMethod, safeguard: BenchSafeguard, size: number, workDir: string,
): HarnessSender {
  const exp: Experiment = makeExperiment({
    method,
    size,
    safeguard,
    pipeSize: cfg.pipeSize,
    pollIntervalMs: cfg.pollIntervalMs,
    safeguardTimeoutMs: cfg.safeguardTimeoutMs,
    family: cfg.target.family,
  });
  const sendMethod = methodFor(method);
  // The method's own prepare: the same page-aligned buffer or tmpfs file as `zcprobe run` sends.
  const source: Source = sendMethod.prepare(exp, patternA(size), workDir);
  const wait = safeguard === 'none' ? null : safeguardFor(safeguard).wait;
  const done = new Uint8Array(1);

  return {
    run(host, port, messages) {
      const fd = native.socket(cfg.target.family, cfg.target.senderNetns ? { netns: cfg.target.senderNetns } : undefined);
      try {
        native.connect(fd, host, port);
        const sender = sendMethod.open(fd, source, exp);
        try {
          let calls = 0;
          let shortCounts = 0;
          const ru0 = process.resourceUsage();
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < messages; i++) {
            const r = sender.send();
            calls += r.calls;
            shortCounts += r.shortCounts;
            if (wait) {
              const w = wait({ fd, exp, send: r });
              if (!w.reached) throw new Error(`${method} + ${safeguard}: ${w.signal} (message ${i + 1}/${messages})`);
            }
          }
          native.shutdown(fd, 1);
          // Every ack was taken by the safeguard, so the next byte is the receiver's 'D'.
          while (done[0] !== 0x44) {
            if (native.read(fd, done, 0, 1) === 0) throw new Error('receiver closed before reporting done');
          }
          const zc = sender.zerocopy?.waitAll(FINAL_COMPLETIONS_TIMEOUT_MS);
          const t1 = process.hrtime.bigint();
          const ru1 = process.resourceUsage();
          done[0] = 0;
          return {
            bytes: messages * size,
            calls,
            shortCounts,
            elapsedNs: Number(t1 - t0),
            userUs: ru1.userCPUTime - ru0.userCPUTime,
            sysUs: ru1.systemCPUTime - ru0.systemCPUTime,
            zc: zc && { expected: zc.expected, received: zc.received, copied: zc.copied },
          };
        } finally {
          sender.close();
        }
      } finally {
        native.close(fd);
      }
    },
    release() {
      releaseSource(source);
    },
  };
}
