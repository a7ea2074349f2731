/**
 * tools/lib/args.ts: typed options over node:util's parseArgs, messages that name the flag, and
 * runCommand's conventions (--help → usage, exit 0; usage error → "error: …" + usage, exit 2;
 * other failures → "error: …", exit 1).
 */
import { describe, expect, it } from 'vitest';
import {
  choice,
  custom,
  flag,
  fraction,
  integer,
  list,
  number,
  parseCommandLine,
  required,
  runCommand,
  text,
  UsageError,
  type CliIo,
} from '../../tools/lib/args.ts';
import { SEARCH_DEFAULTS } from '../../src/core/scoring/defaults.ts';
import { readUrlState } from '../../src/lib/urlState.ts';

const OPTIONS = {
  index: text(),
  name: text({ default: 'unnamed', short: 'n' }),
  json: flag(),
  top: integer({ min: 1, default: 10 }),
  batch: integer({ min: 1, max: 64 }),
  epsilon: number({ positive: true }),
  k: number(),
  weight: fraction({ default: 0.5 }),
  precision: choice(['f16', 'f32']),
  method: choice(['auto', 'gaussian', 'best-k'], { default: 'auto' }),
  sizes: list(integer({ min: 1 })),
  words: list(),
  shard: custom((raw, f) => {
    const m = /^(\d+)\/(\d+)$/.exec(raw);
    if (!m) throw new UsageError(`${f} must be i/n, not "${raw}"`);
    return { index: +m[1], count: +m[2] };
  }),
};

const parse = (...argv: string[]) => parseCommandLine(argv, OPTIONS).values;
const usageError = (...argv: string[]) => {
  try {
    parse(...argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no usage error');
};

describe('parseCommandLine', () => {
  it('converts each option to its type, with defaults where declared', () => {
    const v = parse('--index', 'dir', '--json', '--top', '3', '--batch', '64', '--epsilon', '1e-3', '--k=-2.5', '--weight', '0',
      '--precision', 'f16', '--sizes', '259, 1000', '--words', 'a,b', '--shard', '1/4', '-n', 'x');
    expect(v).toEqual({
      index: 'dir',
      name: 'x',
      json: true,
      top: 3,
      batch: 64,
      epsilon: 1e-3,
      k: -2.5,
      weight: 0,
      precision: 'f16',
      method: 'auto',
      sizes: [259, 1000],
      words: ['a', 'b'],
      shard: { index: 1, count: 4 },
    });
    expect(parse()).toEqual({
      index: undefined,
      name: 'unnamed',
      json: false,
      top: 10,
      batch: undefined,
      epsilon: undefined,
      k: undefined,
      weight: 0.5,
      precision: undefined,
      method: 'auto',
      sizes: undefined,
      words: undefined,
      shard: undefined,
    });
  });

  it('types the values: defaults and flags are never undefined', () => {
    const v = parse();
    const top: number = v.top;
    const json: boolean = v.json;
    const method: 'auto' | 'gaussian' | 'best-k' = v.method;
    const precision: 'f16' | 'f32' | undefined = v.precision;
    const sizes: number[] | undefined = v.sizes;
    expect([top, json, method, precision, sizes]).toEqual([10, false, 'auto', undefined, undefined]);
  });

  it('names the flag and the bad value in every conversion error', () => {
    expect(usageError('--top', '0')).toBe('--top must be an integer ≥ 1, not "0"');
    expect(usageError('--top', '2.5')).toBe('--top must be an integer ≥ 1, not "2.5"');
    expect(usageError('--top', '1e3')).toBe('--top must be an integer ≥ 1, not "1e3"');
    expect(usageError('--batch', '65')).toBe('--batch must be an integer from 1 to 64, not "65"');
    expect(usageError('--epsilon', '0')).toBe('--epsilon must be a positive number, not "0"');
    expect(usageError('--k', 'abc')).toBe('--k must be a number, not "abc"');
    expect(usageError('--k', ' ')).toBe('--k must be a number, not " "');
    expect(usageError('--k', 'Infinity')).toBe('--k must be a number, not "Infinity"');
    expect(usageError('--weight', '1.5')).toBe('--weight must be a number from 0 to 1, not "1.5"');
    expect(usageError('--precision', 'f8')).toBe('--precision must be f16 or f32, not "f8"');
    expect(usageError('--method', 'x')).toBe('--method must be one of auto, gaussian, best-k, not "x"');
    expect(usageError('--sizes', '10,x')).toBe('--sizes must be an integer ≥ 1, not "x"');
    expect(usageError('--sizes', '10,,20')).toBe('--sizes must be a comma-separated list without empty entries, not "10,,20"');
    expect(usageError('--shard', '3')).toBe('--shard must be i/n, not "3"');
  });

  it('turns parseArgs errors into short usage errors', () => {
    expect(usageError('--bogus')).toBe("Unknown option '--bogus'");
    expect(usageError('--top')).toBe("Option '--top <value>' argument missing");
    expect(usageError('--k', '-1')).toBe(`Option '--k' argument is ambiguous: write --k=<value> for a value that starts with "-"`);
    expect(usageError('stray')).toMatch(/^Unexpected argument 'stray'$/);
    expect(parseCommandLine(['a', '--json', 'b'], OPTIONS, { positionals: true }).positionals).toEqual(['a', 'b']);
  });

  it('says of a bad number what the app says of the same address parameter (one sentence, two names)', () => {
    const k = { k: integer({ min: 1, max: SEARCH_DEFAULTS.maxK }), hybrid: fraction() };
    const cli = (...argv: string[]) => {
      try {
        parseCommandLine(argv, k);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    for (const [flagName, param, raw] of [['k', 'k', '0'], ['k', 'k', '1e9'], ['k', 'k', 'NaN'], ['hybrid', 'hw', '-1'], ['hybrid', 'hw', 'Infinity']]) {
      const sentence = cli(`--${flagName}=${raw}`);
      const app = readUrlState(`?${param}=${encodeURIComponent(raw)}`).problems[0];
      expect(app.startsWith(sentence.replace(`--${flagName}`, `?${param}=`)), `${sentence} / ${app}`).toBe(true);
    }
  });

  it('quotes a bad value on one line, control characters escaped', () => {
    expect(usageError('--top', '1\n\u001b[2J')).toBe('--top must be an integer ≥ 1, not "1\\u000a\\u001b[2J"');
  });

  it('required() names the missing flag', () => {
    expect(required('x', 'index')).toBe('x');
    expect(() => required(undefined, 'index')).toThrow(new UsageError('--index is required'));
    expect(() => required('', 'index')).toThrow(/--index is required/);
  });
});

describe('runCommand', () => {
  function io() {
    const out = { stdout: '', stderr: '' };
    const sink: CliIo = { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } };
    return { out, sink };
  }
  const USAGE = 'usage: tool [--top n]';

  it('--help / -h print the usage on stdout and exit 0, whatever else is on the line', async () => {
    for (const argv of [['--help'], ['-h'], ['--top', '3', '--help']]) {
      const { out, sink } = io();
      expect(await runCommand(USAGE, () => void parseCommandLine(argv, OPTIONS), { io: sink })).toBe(0);
      expect(out).toEqual({ stdout: `${USAGE}\n`, stderr: '' });
    }
  });

  it('a usage error prints "error: …" and the usage on stderr, exit 2', async () => {
    const { out, sink } = io();
    expect(await runCommand(USAGE, () => void parseCommandLine(['--top', 'x'], OPTIONS), { io: sink })).toBe(2);
    expect(out).toEqual({ stdout: '', stderr: `error: --top must be an integer ≥ 1, not "x"\n\n${USAGE}\n` });
  });

  it('other failures print "error: <message>" and exit 1, unless onError decides', async () => {
    const { out, sink } = io();
    expect(await runCommand(USAGE, () => Promise.reject(new Error('no such index')), { io: sink })).toBe(1);
    expect(out).toEqual({ stdout: '', stderr: 'error: no such index\n' });
    const custom = await runCommand(USAGE, () => {
      throw new RangeError('x');
    }, { io: sink, onError: (err) => (err instanceof RangeError ? 3 : undefined) });
    expect(custom).toBe(3);
  });

  it("returns the body's exit code, 0 by default", async () => {
    expect(await runCommand(USAGE, () => undefined)).toBe(0);
    expect(await runCommand(USAGE, async () => 4)).toBe(4);
  });
});
