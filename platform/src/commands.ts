// The shape of a `callboard` command. It lives here, below every folder, so each folder's
// src/cli.ts can contribute its commands without importing from the root cli/ above it.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { nearestName } from './config.ts';
import { UsageError } from './errors.ts';

export * from './errors.ts';

export interface Command {
  summary: string;
  /** Every option the command accepts: `--help` prints it, and a usage error prints it after the message. */
  usage: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number | void> }>;
}
export type CommandTable = Record<string, Command>;

export type OptionsSpec = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends OptionsSpec> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

export interface ParseRules<O extends OptionsSpec> {
  /** Options without which the command cannot run. */
  required?: readonly (keyof O & string)[];
  /** Names of the positional arguments, in order; more than these is a usage error. */
  positionals?: readonly string[];
  /** How many of `positionals` must be given (default: all of them). */
  minPositionals?: number;
}

/**
 * `parseArgs` with the CLI convention's errors: an unknown option names the nearest known one,
 * a missing value or argument says which, and every such mistake is a UsageError (exit 2).
 */
export function parseOptions<const O extends OptionsSpec>(argv: string[], options: O, rules: ParseRules<O> = {}): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as Parsed<O>;
  } catch (e) {
    throw usageOf(e as Error & { code?: string }, options);
  }
  for (const k of rules.required ?? []) {
    const v = (parsed.values as Record<string, unknown>)[k];
    if (v === undefined || v === '') throw new UsageError(`--${k} is required`);
  }
  const names = rules.positionals ?? [];
  const min = rules.minPositionals ?? names.length;
  if (parsed.positionals.length < min) throw new UsageError(`missing argument ${names[parsed.positionals.length]}`);
  if (parsed.positionals.length > names.length) throw new UsageError(`unexpected argument "${parsed.positionals[names.length]}"`);
  return parsed;
}

/** A port given as a flag; undefined when the flag is absent. 0 asks for any free port. */
export function portFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new UsageError(`--${flag} ${raw}: expected a TCP port (0 for any free port)`);
  return Number(raw);
}

function usageOf(e: Error & { code?: string }, options: OptionsSpec): Error {
  const flag = /'(-{1,2}[^' ]+)/.exec(e.message)?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const known = Object.keys(options).map((k) => `--${k}`);
    const near = nearestName(flag.split('=')[0]!, known);
    return new UsageError(`unknown option ${flag}${near ? `, did you mean ${near}?` : ''}`);
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = flag.replace(/^-+/, '');
    const spec = options[name];
    if (spec?.type === 'boolean') return new UsageError(`--${name} takes no value`);
    return new UsageError(`--${name} needs a value`);
  }
  return e;
}
