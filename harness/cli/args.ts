// Minimal flag parsing shared by every subcommand: --flag value, --flag=value, --bool.
// Unknown flags and bad values are usage errors (exit 2) that name the flag.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** takes no value */
  boolean?: boolean;
  /** may be given several times */
  repeatable?: boolean;
  help: string;
  /** e.g. "<size>" */
  value?: string;
}

export type Flags = Record<string, string | boolean | string[] | undefined>;

export function parseFlags(argv: string[], spec: Record<string, FlagSpec>): { flags: Flags; positional: string[] } {
  const flags: Flags = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown flag --${name} (allowed: ${Object.keys(spec).map((k) => '--' + k).join(', ')})`);
    let value: string | boolean;
    if (s.boolean) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      value = true;
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value ${s.value ?? ''}`.trim());
      value = next;
      i++;
    }
    if (s.repeatable) flags[name] = [...((flags[name] as string[] | undefined) ?? []), String(value)];
    else flags[name] = value;
  }
  return { flags, positional };
}

export function helpText(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([k, s]) => `  --${k}${s.value ? ' ' + s.value : ''}`.padEnd(34) + s.help);
  return `${usage}\n\n${rows.join('\n')}\n`;
}

/** Runs `parse` on a flag's value; turns its error into a UsageError naming the flag. */
export function flagValue<T>(flags: Flags, name: string, parse: (v: string) => T): T | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  try {
    return parse(String(v));
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message}`);
  }
}

export function oneOf<T extends string>(allowed: readonly T[]): (v: string) => T {
  return (v) => {
    if (!allowed.includes(v as T)) throw new Error(`"${v}" is not one of ${allowed.join(', ')}`);
    return v as T;
  };
}

export function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`"${v}" is not a non-negative integer`);
  return n;
}

/** A repeatable flag whose values must come from `allowed`; all of `allowed` when absent. */
export function listFlag<T extends string>(flags: Flags, name: string, allowed: readonly T[]): T[] {
  const given = flags[name] as string[] | undefined;
  if (!given) return [...allowed];
  return given.map((v) => {
    if (!allowed.includes(v as T)) throw new UsageError(`--${name}: "${v}" is not one of ${allowed.join(', ')}`);
    return v as T;
  });
}
