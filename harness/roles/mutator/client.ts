// Parent side of the mutator: spawned once per session next to the receiver (before any
// experiment buffer exists), then asked to change a case's file. mutate() resolves when the other
// process has opened and changed the file, which under a lease is only after the release.
import { fileURLToPath } from 'node:url';
import { JsonLineChild } from '../child/parent.ts';
import type { FromMutator, MutateRequest, WriterRecord } from './protocol.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export class MutatorProcess {
  private constructor(private readonly child: JsonLineChild<FromMutator>) {}

  static async spawn(startTimeoutMs = 15000): Promise<MutatorProcess> {
    const child = new JsonLineChild<FromMutator>('mutator', CHILD);
    try {
      await child.next((m) => m.type === 'ready', startTimeoutMs, 'the mutator to start');
    } catch (e) {
      await child.close();
      throw new Error(`the mutator did not start: ${(e as Error).message}`);
    }
    return new MutatorProcess(child);
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Asks the other process to open the file for writing and change it. The request is on the
   * pipe when this returns (a pipe write with an empty queue is done synchronously), so the
   * caller may block right after and the other process still tries at once. No timeout here: a
   * held lease bounds the wait by itself (fs.lease-break-time), and close() kills a mutator that
   * is still blocked. */
  mutate(req: MutateRequest): Promise<WriterRecord> {
    const done = this.child.next((m) => m.type === 'mutated' && m.id === req.id).then((m) => m as WriterRecord & { type: 'mutated'; id: string });
    done.catch(() => undefined); // observed by the caller; avoid an unhandled rejection meanwhile
    this.child.send({ type: 'mutate', ...req });
    return done.then(({ type: _t, id: _i, ...w }) => w);
  }

  kill(): void {
    this.child.kill();
  }

  close(): Promise<void> {
    return this.child.close();
  }
}
