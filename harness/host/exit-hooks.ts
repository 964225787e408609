// Process-wide cleanup registry: the one place that knows how to tear down
// external resources (tcpdump, namespaces, temp files) when the harness is
// interrupted, so no helper installs its own competing signal handlers.

import { constants } from 'node:os';

type CleanupFn = () => void | Promise<void>;
interface Entry { name: string; fn: CleanupFn }

const TOTAL_BUDGET_MS = 5000;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type HandledSignal = (typeof SIGNALS)[number];

// Insertion-ordered; ids only grow, so the last key is the newest entry.
const entries = new Map<number, Entry>();
let nextId = 0;
let installed = false;
let handlingSignal = false;

function report(name: string, err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`cleanup "${name}" failed: ${msg}\n`);
}

// Entries are removed as they are *started*, not all up front: if the time
// budget runs out mid-way, whatever is left is still reachable by the
// synchronous 'exit' pass.
function takeNewest(): Entry | undefined {
  let lastKey: number | undefined;
  for (const k of entries.keys()) lastKey = k;
  if (lastKey === undefined) return undefined;
  const e = entries.get(lastKey);
  entries.delete(lastKey);
  return e;
}

/** Runs (and unregisters) every cleanup, newest first; never rejects. */
export async function runCleanups(): Promise<void> {
  for (let e = takeNewest(); e; e = takeNewest()) {
    try {
      await e.fn();
    } catch (err) {
      report(e.name, err);
    }
  }
}

// At 'exit' the event loop is gone: only what a cleanup does before its first
// await (e.g. process.kill) takes effect, so call each and drop the promise.
function runSyncParts(): void {
  for (let e = takeNewest(); e; e = takeNewest()) {
    const name = e.name;
    try {
      const r = e.fn();
      if (r instanceof Promise) r.catch(() => {});
    } catch (err) {
      report(name, err);
    }
  }
}

async function onSignal(sig: HandledSignal): Promise<void> {
  const code = 128 + constants.signals[sig];
  // A second signal while cleaning up means "stop waiting": exit now, and the
  // 'exit' pass still fires the synchronous parts of whatever is left.
  if (handlingSignal) process.exit(code);
  handlingSignal = true;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    runCleanups(),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, TOTAL_BUDGET_MS); }),
  ]);
  clearTimeout(timer);
  runSyncParts();
  for (const s of SIGNALS) process.removeListener(s, handlers[s]);
  // If nobody else listens, re-raise so our parent sees "killed by SIG" (the
  // shell's 130/143); otherwise someone else owns the decision, use the code.
  if (process.listenerCount(sig) === 0) {
    process.kill(process.pid, sig);
    // Fallback only; kept ref'd so the process cannot drift into a clean exit 0.
    setTimeout(() => process.exit(code), 200);
  } else {
    process.exit(code);
  }
}

const handlers: Record<HandledSignal, () => void> = {
  SIGINT: () => void onSignal('SIGINT'),
  SIGTERM: () => void onSignal('SIGTERM'),
  SIGHUP: () => void onSignal('SIGHUP'),
};

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, handlers[s]);
  process.on('exit', runSyncParts);
}

/**
 * Registers `fn` to run on SIGINT/SIGTERM/SIGHUP (awaited, 5 s total budget)
 * or at process exit (synchronous part only). Returns an unregister function.
 */
export function registerCleanup(name: string, fn: CleanupFn): () => void {
  install();
  const id = nextId++;
  entries.set(id, { name, fn });
  return () => { entries.delete(id); };
}
