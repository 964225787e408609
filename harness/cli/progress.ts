// Progress for long runs: a redrawn bar on a terminal, plain lines (every ~5%) when not a TTY or
// when CI=true, so logs stay readable.
import type { MatrixProgress } from '../suites/matrix.ts';

export function progressPrinter(
  stream: NodeJS.WriteStream = process.stderr,
): { update: (p: MatrixProgress) => void; line: (s: string) => void; done: () => void } {
  const tty = stream.isTTY && !process.env.CI;
  const started = performance.now();
  let lastPct = -1;
  let drawn = false;
  return {
    update(p) {
      const pct = Math.floor((100 * p.done) / Math.max(1, p.total));
      const secs = ((performance.now() - started) / 1000).toFixed(0);
      if (tty) {
        const width = 30;
        const filled = Math.round((width * p.done) / Math.max(1, p.total));
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${secs}s ${p.cell} → ${p.lastVerdict ?? ''}`.padEnd(120).slice(0, 120));
        drawn = true;
      } else if (pct >= lastPct + 5 || p.done === p.total) {
        lastPct = pct;
        stream.write(`progress ${p.done}/${p.total} (${pct}%) ${secs}s — ${p.cell} → ${p.lastVerdict ?? ''}\n`);
      }
    },
    line(s) {
      if (drawn) stream.write('\n');
      drawn = false;
      stream.write(`${s}\n`);
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
