// Flag parsing on node:util parseArgs: --flag value, --flag=value, --bool, repeatable flags, -h, and
// `--`. Unknown flags and bad values are usage errors (exit 2) that name the flag in one line.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One flag: a node:util parseArgs option (type, multiple) and its help line. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  /** may be given several times; the values collect in an array */
  multiple?: boolean;
  help: string;
  /** the value's placeholder in the help and in "needs a value", e.g. "<size>" */
  value?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

/** The values parseFlags returns for a spec: a string, true or a string[] per given flag. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : S[K]['multiple'] extends true ? string[] : string;
};

export type Flags = Record<string, string | boolean | string[] | undefined>;

export interface ParsedArgs<S extends FlagSpecs> {
  flags: FlagValues<S>;
  /** the arguments that are not flags, before any `--` */
  positional: string[];
  /** everything after the first `--`, never read as flags; undefined without `--` */
  rest?: string[];
}

export function parseFlags<S extends FlagSpecs>(argv: string[], spec: S): ParsedArgs<S> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, s] of Object.entries(spec)) options[name] = { type: s.type, multiple: Boolean(s.multiple), ...(name === 'help' ? { short: 'h' } : {}) };
  // Not strict: parseArgs' own errors are multi-line and vary by Node version; its tokens let
  // this function say, in one line, which flag is wrong and what is allowed.
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const flags: Flags = {};
  const positional: string[] = [];
  let rest: string[] | undefined;
  for (const tok of tokens) {
    if (tok.kind === 'option-terminator') {
      rest = argv.slice(tok.index + 1);
      break;
    }
    if (tok.kind === 'positional') positional.push(tok.value);
    if (tok.kind !== 'option') continue;
    const name = tok.name;
    const s = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!s) throw new UsageError(`unknown flag ${tok.rawName} (allowed: ${Object.keys(spec).map((k) => '--' + k).join(', ')})`);
    let value: string | boolean;
    if (s.type === 'boolean') {
      if (tok.value !== undefined) throw new UsageError(`--${name} takes no value`);
      value = true;
    } else {
      // "--size --json": the next flag is not this one's value.
      if (tok.value === undefined || (!tok.inlineValue && tok.value.startsWith('--'))) throw new UsageError(`--${name} needs a value ${s.value ?? ''}`.trim());
      value = tok.value;
    }
    if (s.multiple) flags[name] = [...((flags[name] as string[] | undefined) ?? []), String(value)];
    else flags[name] = value;
  }
  return { flags: flags as FlagValues<S>, positional, ...(rest ? { rest } : {}) };
}

/** `usage` (its synopsis and any text under it), a blank line, then one line per flag. */
export function helpText(usage: string, spec: FlagSpecs): string {
  const rows = Object.entries(spec).map(([k, s]) => `  --${k}${s.value ? ' ' + s.value : ''}`.padEnd(34) + s.help);
  return `${usage}\n\n${rows.join('\n')}\n`;
}

/** Runs `parse` on a flag's value; turns its error into a UsageError naming the flag. */
export function flagValue<F extends Flags, T>(flags: F, name: keyof F & string, parse: (v: string) => T): T | undefined {
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
export function listFlag<F extends Flags, T extends string>(flags: F, name: keyof F & string, allowed: readonly T[]): T[] {
  const given = flags[name] as string[] | undefined;
  if (!given) return [...allowed];
  return given.map((v) => {
    if (!allowed.includes(v as T)) throw new UsageError(`--${name}: "${v}" is not one of ${allowed.join(', ')}`);
    return v as T;
  });
}
