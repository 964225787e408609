// "No child process left": this process's children that the harness itself spawns (receiver,
// mutator, tcpdump, the mmap sender fixture), as "pid command". Other children, such as tsx's
// esbuild service, come and go on their own and are not ours to check.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const OURS = /receiver\/child|mutator\/child|mmap-sender|tcpdump/;

export function harnessChildren(): string[] {
  const out: string[] = [];
  for (const task of readdirSync('/proc/self/task')) {
    const f = `/proc/self/task/${task}/children`;
    if (!existsSync(f)) continue;
    for (const pid of readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      let cmd = '?';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      } catch {
        /* exited meanwhile */
      }
      if (OURS.test(cmd)) out.push(`${pid} ${cmd}`);
    }
  }
  return out;
}
