// A TAP summary (ava --tap): counts, the titles of failed tests, and FINDING lines (observations
// that differ from the committed baseline of the kernel's series).

export interface TapSummary {
  pass: number;
  fail: number;
  skip: number;
  /** false when the output has no plan line: the run did not complete */
  complete: boolean;
  failed: string[];
  findings: string[];
}

export function parseTap(text: string): TapSummary {
  const lines = text.split('\n');
  const count = (k: string) => {
    let n = 0;
    for (const l of lines) {
      const m = new RegExp(`^# ${k} (\\d+)$`).exec(l);
      if (m) n = Number(m[1]);
    }
    return n;
  };
  return {
    pass: count('pass'),
    fail: count('fail'),
    skip: count('skip'),
    complete: lines.some((l) => /^1\.\.\d+$/.test(l)),
    failed: lines.filter((l) => /^not ok \d+/.test(l) && !/# (SKIP|TODO)/i.test(l)).map((l) => l.replace(/^not ok \d+ - /, '')),
    findings: [...new Set(lines.map((l) => /FINDING: .*/.exec(l)?.[0]).filter((x): x is string => !!x))],
  };
}
