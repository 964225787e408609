// The harness side of the bench: the send loops of harness/methods, run once per message on one
// connection. Stateless methods (write, mmap-write, sendfile) are called as is; the others keep
// one pipe or ring for the whole run instead of one per send (their SendMethod opens one per
// case) and zero-copy completions are counted, not kept in a Set, so no message allocates
// beyond the addon's own return values.
import { makeExperiment, type Experiment } from '../experiment.ts';
import { methodFor } from '../methods/index.ts';
import { closePipe, drainPipeToSocket, openPipe, releaseSource } from '../methods/sources.ts';
import type { SendResult, ZerocopyCompletionSummary, ZerocopyPending } from '../methods/types.ts';
import { vmspliceRange } from '../methods/vmsplice.ts';
import { nowMs, patternA, type Source } from '../mutation.ts';
import { isNativeError, native, SOCK, SPLICE, type Ring } from '../native.ts';
import { safeguardFor } from '../safeguards/index.ts';
import type { BenchConfig, BenchMethod, BenchSafeguard } from './config.ts';

/** Cumulative completion counts of one connection; waitAll waits for every send so far. */
class CompletionCounter implements ZerocopyPending {
  expected = 0;
  received = 0;
  copied = 0;
  private completeAt: number | null = null;

  /** collect(timeoutMs) takes what is there (waiting up to timeoutMs); false when nothing came */
  constructor(readonly collect: (timeoutMs: number) => boolean) {}

  count(n: number, copied: boolean): void {
    this.received += n;
    if (copied) this.copied += n;
    if (this.received >= this.expected) this.completeAt = nowMs();
  }

  // Nothing is collected once every send is accounted for: an empty uringWaitNotif(ring, 0) is
  // an io_uring_enter that arms a zero timer and sleeps on it (~150 µs here), which would be
  // charged to the safeguard though no completion was owed.
  summary(): ZerocopyCompletionSummary {
    while (this.received < this.expected && this.collect(0));
    return { expected: this.expected, received: this.received, copied: this.copied, completeAt: this.completeAt };
  }

  waitAll(timeoutMs: number): ZerocopyCompletionSummary {
    const deadline = nowMs() + timeoutMs;
    while (this.received < this.expected && this.collect(0));
    while (this.received < this.expected) {
      const left = Math.ceil(deadline - nowMs());
      if (left <= 0) break;
      this.collect(Math.min(left, 50));
    }
    return this.summary();
  }

  release(): void {}
}

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

export function prepareHarnessSender(cfg: BenchConfig, method: BenchMethod, safeguard: BenchSafeguard, size: number, workDir: string): HarnessSender {
  const exp: Experiment = makeExperiment({
    method,
    size,
    safeguard,
    pipeSize: cfg.pipeSize,
    pollIntervalMs: cfg.pollIntervalMs,
    safeguardTimeoutMs: cfg.safeguardTimeoutMs,
    family: cfg.target.family,
  });
  // The method's own prepare: the same page-aligned buffer or tmpfs file as `zcprobe run` sends.
  const source: Source = methodFor(method).prepare(exp, patternA(size), workDir);
  const opened: (() => void)[] = [() => releaseSource(source)];
  const wait = safeguard === 'none' ? null : safeguardFor(safeguard).wait;
  const done = new Uint8Array(1);

  return {
    run(host, port, messages) {
      const fd = native.socket(cfg.target.family, cfg.target.senderNetns ? { netns: cfg.target.senderNetns } : undefined);
      try {
        native.connect(fd, host, port);
        const { send, counter } = messageLoop(exp, source, fd, opened);
        let calls = 0;
        let shortCounts = 0;
        const ru0 = process.resourceUsage();
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < messages; i++) {
          const r = send();
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
        const zc = counter?.waitAll(10000);
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
        native.close(fd);
      }
    },
    release() {
      for (const f of opened.splice(0).reverse()) f();
    },
  };
}

type MessageLoop = { send: () => SendResult; counter?: CompletionCounter };

/** The per-message send of `exp.method` on fd; pipes and rings it opens go on `opened`. */
function messageLoop(exp: Experiment, source: Source, fd: number, opened: (() => void)[]): MessageLoop {
  const size = exp.size;
  switch (exp.method) {
    case 'write':
    case 'mmap-write':
    case 'sendfile': {
      const m = methodFor(exp.method);
      return { send: () => m.send(fd, source, exp) };
    }
    case 'splice': {
      if (source.kind !== 'file') throw new Error('splice needs a file source');
      const pipe = openPipe(exp.pipeSize);
      opened.push(() => closePipe(pipe));
      const flags = SPLICE.SPLICE_F_MOVE | SPLICE.SPLICE_F_MORE;
      // harness/methods/splice.ts, with the pipe opened once per run: MSG_MORE on every chunk but
      // the message's last, whose tail would otherwise sit corked (and stall every safeguard).
      return {
        send() {
          const startedAt = nowMs();
          let calls = 0;
          let shortCounts = 0;
          for (let offset = 0; offset < size; ) {
            const want = Math.min(size - offset, pipe.capacity);
            const n = native.splice(source.fd, offset, pipe.w, null, want, flags);
            calls++;
            if (n === 0) throw new Error(`splice file→pipe returned 0 at offset ${offset}`);
            if (n < want) shortCounts++;
            const d = drainPipeToSocket(pipe.r, fd, n, offset + n < size ? flags : SPLICE.SPLICE_F_MOVE);
            calls += d.calls;
            shortCounts += d.short;
            offset += n;
          }
          return { bytes: size, calls, shortCounts, startedAt, returnedAt: nowMs() };
        },
      };
    }
    case 'vmsplice': {
      if (source.kind !== 'buffer') throw new Error('vmsplice needs a buffer source');
      const pipe = openPipe(exp.pipeSize);
      opened.push(() => closePipe(pipe));
      return {
        send() {
          const startedAt = nowMs();
          const r = vmspliceRange(fd, pipe, source.bytes, 0, size, false);
          return { bytes: size, ...r, startedAt, returnedAt: nowMs() };
        },
      };
    }
    case 'msg-zerocopy':
      if (source.kind !== 'buffer') throw new Error('msg-zerocopy needs a buffer source');
      return msgZerocopyLoop(fd, source.bytes);
    case 'io-uring-zc': {
      if (source.kind !== 'buffer') throw new Error('io-uring-zc needs a buffer source');
      const ring = native.uringCreate(8);
      opened.push(() => native.uringClose(ring));
      return uringLoop(fd, ring, source.bytes);
    }
    default:
      throw new Error(`method ${exp.method} is not benchmarked`);
  }
}

/** harness/methods/msg-zerocopy.ts's send loop; the error queue is drained after every message. */
function msgZerocopyLoop(fd: number, bytes: Uint8Array): MessageLoop {
  native.setsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_ZEROCOPY, 1);
  const counter: CompletionCounter = new CompletionCounter((timeoutMs) => {
    // POLLERR means a non-empty error queue; read regardless (POLLHUP also ends the poll).
    if (timeoutMs > 0) native.poll(fd, 0, timeoutMs);
    const got = native.readZerocopyCompletions(fd);
    for (const c of got) counter.count(c.hi - c.lo + 1, c.copied);
    return got.length > 0;
  });
  const len = bytes.length;
  return {
    counter,
    send() {
      const startedAt = nowMs();
      let calls = 0;
      let shortCounts = 0;
      for (let off = 0; off < len; ) {
        let n: number;
        try {
          n = native.send(fd, bytes, off, len - off, SOCK.MSG_ZEROCOPY);
        } catch (e) {
          // optmem is full of unread notifications: collect them and retry (zcbench does too).
          if (!isNativeError(e) || e.code !== 'ENOBUFS') throw e;
          counter.collect(10);
          continue;
        }
        if (n <= 0) throw new Error(`send(MSG_ZEROCOPY) returned ${n}`);
        calls++;
        counter.expected++;
        if (n < len - off) shortCounts++;
        off += n;
      }
      counter.collect(0);
      return { bytes: len, calls, shortCounts, startedAt, returnedAt: nowMs(), zerocopy: counter };
    },
  };
}

/** harness/methods/io-uring-zc.ts's send loop on one ring. */
function uringLoop(fd: number, ring: Ring, bytes: Uint8Array): MessageLoop {
  const counter: CompletionCounter = new CompletionCounter((timeoutMs) => {
    const n = native.uringWaitNotif(ring, timeoutMs);
    if (n) counter.count(1, n.copied);
    return n !== null;
  });
  const len = bytes.length;
  return {
    counter,
    send() {
      const startedAt = nowMs();
      let calls = 0;
      let shortCounts = 0;
      for (let off = 0; off < len; ) {
        const r = native.uringSendZc(ring, fd, bytes, off, len - off, 0);
        calls++;
        if (r.res <= 0) throw new Error(`io_uring SEND_ZC failed: ${r.res < 0 ? `errno ${-r.res}` : 'sent 0 bytes'}`);
        if (r.more) counter.expected++;
        if (r.res < len - off) shortCounts++;
        off += r.res;
      }
      // No drain here: uringSendZc already set aside every notification it met while waiting
      // for results (zcbench counts them the same way), and asking for more with a zero timeout
      // costs an io_uring_enter per message that zcbench's io_uring_peek_cqe does not pay.
      return { bytes: len, calls, shortCounts, startedAt, returnedAt: nowMs(), zerocopy: counter };
    },
  };
}
