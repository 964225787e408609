// A session owns the long-lived parts of a run: the receiver process (spawned first, before any
// experiment buffer exists) and a work directory for sources and received bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from './cleanup.ts';
import type { Experiment, Transport } from './experiment.ts';
import { ReceiverProcess } from './receiver/client.ts';
import { runCase, type CaseRun } from './run-case.ts';

export interface SessionOptions {
  transport: Transport;
  family: 4 | 6;
}

export class Session {
  private constructor(
    readonly options: SessionOptions,
    readonly receiver: ReceiverProcess,
    readonly workDir: string,
    private readonly unregister: () => void,
  ) {}

  static async open(options: SessionOptions): Promise<Session> {
    if (options.transport !== 'loopback') throw new Error(`transport ${options.transport} is not available in this session`);
    // tmpfs when present: received bytes and sources never touch a disk.
    const base = process.env.ZCPROBE_WORKDIR ?? (process.platform === 'linux' ? '/dev/shm' : tmpdir());
    const workDir = mkdtempSync(join(base, 'zcprobe-'));
    const unregister = registerCleanup(`workdir ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
    try {
      const receiver = await ReceiverProcess.spawn({ host: options.family === 6 ? '::1' : '127.0.0.1' });
      return new Session(options, receiver, workDir, unregister);
    } catch (e) {
      rmSync(workDir, { recursive: true, force: true });
      unregister();
      throw e;
    }
  }

  get kernel(): string {
    return release();
  }

  async run(exp: Experiment): Promise<CaseRun> {
    if (exp.transport !== this.options.transport || exp.family !== this.options.family)
      throw new Error(`experiment wants ${exp.transport}/IPv${exp.family}, session is ${this.options.transport}/IPv${this.options.family}`);
    return runCase({ receiver: this.receiver, workDir: this.workDir }, exp);
  }

  async close(): Promise<void> {
    await this.receiver.close();
    rmSync(this.workDir, { recursive: true, force: true });
    this.unregister();
  }
}
