/**
 * The command line of the Node tools: a thin typed layer over node:util's parseArgs. Each CLI
 * declares its options once, with their type (text, flag, number, integer, fraction, choice, list
 * or a custom parser); values come back converted, and a malformed one is a UsageError whose
 * message names the flag ("--top must be an integer ≥ 1, not "x"").
 *
 * runCommand gives every CLI the same conventions:
 *   -h / --help     the usage text on stdout, exit 0
 *   usage error     "error: …", a blank line and the usage text on stderr, exit 2
 *   other failure   "error: …" on stderr, exit 1 (or what the CLI's own onError decides)
 */
import { parseArgs } from 'node:util';
import { describeRange, listWords, mustBe } from '../../src/core/messages.ts';

/** A bad command line: unknown flag, missing or malformed value. Exit code 2 with the usage text. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown by parseCommandLine for -h / --help; runCommand answers it with the usage text. */
class HelpRequested extends Error {}

/**
 * One declared option. `R` is what the parsed value's type is: `T` when the option has a
 * default (or is a flag), `T | undefined` otherwise.
 */
export interface Option<T, R = T | undefined> {
  readonly kind: 'string' | 'boolean';
  readonly short?: string;
  /** The raw text → the value; throws UsageError naming `flag` (e.g. "--top"). */
  readonly parse: (raw: string, flag: string) => T;
  readonly fallback?: T;
  /** Type-level only: the parsed value's type. */
  readonly __result?: R;
}

/** Any option, whatever its value type (the declarations keep their own). */
type AnyOption = Option<any, any>;
export type Options = Record<string, AnyOption>;
export type Values<S extends Options> = { -readonly [K in keyof S]: S[K] extends Option<unknown, infer R> ? R : never };

interface Common<T> {
  short?: string;
  default?: T;
}

function option<T>(parse: (raw: string, flag: string) => T, o: Common<T> = {}): AnyOption {
  return { kind: 'string', short: o.short, parse, fallback: o.default };
}

// The app says the same of its address parameters (src/lib/urlState.ts): one sentence, two names.
const bad = (flag: string, what: string, raw: string): never => {
  throw new UsageError(mustBe(flag, what, raw));
};

/** A string, as given. */
export function text(o: Common<string> & { default: string }): Option<string, string>;
export function text(o?: Common<string>): Option<string>;
export function text(o: Common<string> = {}): AnyOption {
  return option((raw) => raw, o);
}

/** A boolean switch: present → true, absent → false. */
export function flag(o: { short?: string } = {}): Option<boolean, boolean> {
  return { kind: 'boolean', short: o.short, parse: () => true, fallback: false };
}

interface NumberOpts extends Common<number> {
  min?: number;
  max?: number;
  /** Greater than zero (stated as "a positive number"). */
  positive?: boolean;
}

function toNumber(raw: string, flag: string, o: NumberOpts, integer: boolean): number {
  const what = describeRange(integer ? 'an integer' : 'a number', o);
  const s = raw.trim();
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) return bad(flag, what, raw);
  if (integer && (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(n))) return bad(flag, what, raw);
  if ((o.positive && !(n > 0)) || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) return bad(flag, what, raw);
  return n;
}

/** A finite number, optionally within [min, max] or positive. */
export function number(o: NumberOpts & { default: number }): Option<number, number>;
export function number(o?: NumberOpts): Option<number>;
export function number(o: NumberOpts = {}): AnyOption {
  return option((raw, f) => toNumber(raw, f, o, false), o);
}

/** A whole number written in decimal digits, optionally within [min, max] or positive. */
export function integer(o: NumberOpts & { default: number }): Option<number, number>;
export function integer(o?: NumberOpts): Option<number>;
export function integer(o: NumberOpts = {}): AnyOption {
  return option((raw, f) => toNumber(raw, f, o, true), o);
}

/** A number from 0 to 1 (a weight or a share). */
export function fraction(o: Common<number> & { default: number }): Option<number, number>;
export function fraction(o?: Common<number>): Option<number>;
export function fraction(o: Common<number> = {}): AnyOption {
  return option((raw, f) => toNumber(raw, f, { min: 0, max: 1 }, false), o);
}

/** One of a fixed set of words. */
export function choice<const V extends string>(values: readonly V[], o: Common<V> & { default: V }): Option<V, V>;
export function choice<const V extends string>(values: readonly V[], o?: Common<V>): Option<V>;
export function choice<const V extends string>(values: readonly V[], o: Common<V> = {}): AnyOption {
  return option((raw, f) => ((values as readonly string[]).includes(raw) ? (raw as V) : bad(f, listWords(values), raw)), o);
}

/** Comma-separated values, each read by `item` (default: text); empty entries are an error. */
export function list<T>(item: Option<T, unknown>, o: Common<T[]> & { default: T[] }): Option<T[], T[]>;
export function list<T = string>(item?: Option<T, unknown>, o?: Common<T[]>): Option<T[]>;
export function list<T>(item: Option<T, unknown> = text() as unknown as Option<T>, o: Common<T[]> = {}): AnyOption {
  return option((raw, f) => {
    const parts = raw.split(',').map((p) => p.trim());
    if (parts.some((p) => p === '')) bad(f, 'a comma-separated list without empty entries', raw);
    return parts.map((p) => item.parse(p, f));
  }, o);
}

/** Any other value: `parse` turns the raw text into it, throwing UsageError when it cannot. */
export function custom<T>(parse: (raw: string, flag: string) => T, o: Common<T> & { default: T }): Option<T, T>;
export function custom<T>(parse: (raw: string, flag: string) => T, o?: Common<T>): Option<T>;
export function custom<T>(parse: (raw: string, flag: string) => T, o: Common<T> = {}): AnyOption {
  return option(parse, o);
}

/** The value of a required option, or a UsageError "--name is required". */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** node:util's messages run on over several lines ("… To specify a positional argument …"): keep the gist. */
function shortMessage(message: string): string {
  const first = message.split('\n')[0].replace(/\.( [A-Z].*)?$/, '');
  const ambiguous = /^Option '(-[^' ]+)'.* argument is ambiguous/.exec(first);
  // "--k -1": parseArgs takes "-1" for a flag; the value has to be attached.
  return ambiguous ? `${first}: write ${ambiguous[1]}=<value> for a value that starts with "-"` : first;
}

/**
 * Parses `argv` against the declared options (plus -h / --help). Throws UsageError for an unknown
 * flag, a missing or malformed value, or a positional argument where none is allowed.
 */
export function parseCommandLine<S extends Options>(
  argv: string[],
  options: S,
  opts: { positionals?: boolean } = {},
): { values: Values<S>; positionals: string[] } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(options)) config[name] = o.short ? { type: o.kind, short: o.short } : { type: o.kind };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: !!opts.positionals, strict: true });
  } catch (err) {
    throw new UsageError(shortMessage((err as Error).message));
  }
  if (parsed.values.help) throw new HelpRequested();
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(options)) {
    const raw = parsed.values[name];
    values[name] = raw === undefined ? o.fallback : o.kind === 'boolean' ? raw === true : o.parse(raw as string, `--${name}`);
  }
  return { values: values as Values<S>, positionals: parsed.positionals };
}

export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/**
 * Runs a CLI's body and turns its outcome into an exit code: the body's own (default 0); 0 after
 * printing the usage for --help; 2 with "error: …" + usage for a UsageError; otherwise `onError`'s
 * code, or 1 with "error: <message>".
 */
export async function runCommand(
  usage: string,
  body: () => Promise<number | void> | number | void,
  opts: { io?: CliIo; onError?: (err: unknown) => Promise<number | undefined> | number | undefined } = {},
): Promise<number> {
  const io = opts.io ?? processIo;
  try {
    return (await body()) ?? 0;
  } catch (err) {
    if (err instanceof HelpRequested) {
      io.stdout.write(usage + '\n');
      return 0;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n\n${usage}\n`);
      return 2;
    }
    const code = await opts.onError?.(err);
    if (code !== undefined) return code;
    io.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
