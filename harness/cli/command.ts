// One subcommand's opening, written once: its synopsis and flags, --help (usage on stdout, exit 0),
// flag errors and stray arguments as UsageError (exit 2, harness/cli.ts), then its run().
import { helpText, parseFlags, UsageError, type FlagSpecs, type FlagValues, type ParsedArgs } from './args.ts';

const HELP = { help: { type: 'boolean', help: 'this help' } } as const satisfies FlagSpecs;

export interface CommandSpec<S extends FlagSpecs> {
  /** the word after `zcprobe` */
  name: string;
  /** what follows "usage: zcprobe NAME"; several synopses go one per line */
  usage: string | string[];
  /** text between the synopsis and the flags */
  about?: string;
  /** the flags (node:util parseArgs options, each with its help line); --help is added */
  options: S;
  /** run() checks positional arguments itself; without this, any is a usage error */
  positionals?: boolean;
  /** `zcprobe NAME [flags] -- CMD ARGS...`: what follows `--` reaches run() as `rest`, unparsed */
  rest?: boolean;
  run(flags: FlagValues<S>, positional: string[], rest: string[] | undefined): Promise<number> | number;
}

export interface Command<S extends FlagSpecs> {
  name: string;
  help(): string;
  /** the flags and arguments, checked as main() checks them (for tests and callers in-process) */
  parse(argv: string[]): ParsedArgs<S & typeof HELP>;
  /** --help (written to `stdout`), or parse and run; throws UsageError for bad arguments */
  main(argv: string[], stdout?: { write(s: string): unknown }): Promise<number>;
}

export function defineCommand<S extends FlagSpecs>(spec: CommandSpec<S>): Command<S> {
  const options = { ...spec.options, ...HELP };
  const synopses = typeof spec.usage === 'string' ? [spec.usage] : spec.usage;
  const usage = synopses.map((s, i) => `${i ? '      ' : 'usage:'} zcprobe ${spec.name} ${s}`).join('\n');
  const help = () => helpText(spec.about ? `${usage}\n\n${spec.about}` : usage, options);
  const parse = (argv: string[]): ParsedArgs<S & typeof HELP> => {
    const parsed = parseFlags(argv, options);
    // Without `rest`, what follows `--` is ordinary arguments (`zcprobe replay -- FILE ID`).
    const positional = spec.rest ? parsed.positional : [...parsed.positional, ...(parsed.rest ?? [])];
    if (!spec.positionals && positional.length && !parsed.flags.help) throw new UsageError(`unexpected argument "${positional[0]}"`);
    return { flags: parsed.flags, positional, ...(spec.rest && parsed.rest ? { rest: parsed.rest } : {}) };
  };
  return {
    name: spec.name,
    help,
    parse,
    async main(argv, stdout = process.stdout) {
      const { flags, positional, rest } = parse(argv);
      if (flags.help) {
        stdout.write(help());
        return 0;
      }
      return spec.run(flags, positional, rest);
    },
  };
}
