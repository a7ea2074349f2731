import { readFile, stat } from 'node:fs/promises';

/**
 * The index builder's expected failure: a problem with the input data or the output location.
 * (A bad command line is a UsageError, tools/lib/args.ts.) Anything else is a bug and surfaces
 * with its stack trace.
 */

/**
 * A problem with the input data or the output location (empty models folder, duplicate ids, a
 * model without enough valid images, an existing output without --force): exit code 1. `details`
 * lists one line per offending item; `report` is the partial build report, when one exists.
 */
export class InputError extends Error {
  readonly details: string[];
  report?: unknown;

  constructor(message: string, details: string[] = []) {
    super(message);
    this.name = 'InputError';
    this.details = details;
  }
}

/**
 * Reads and parses a small JSON input file (model.json, a projection). Returns the value, or a
 * problem in words — "not valid JSON (line 3, column 7)", "larger than 1048576 bytes (…)",
 * "unreadable (EACCES)", each reading after "… is" — without the parser's or the file system's own message, which reads as
 * a crash ("Unexpected token …").
 */
export async function readJsonFile(path: string, maxBytes: number): Promise<{ ok: true; value: unknown } | { ok: false; problem: string }> {
  let text: string;
  try {
    const size = (await stat(path)).size;
    if (size > maxBytes) return { ok: false, problem: `larger than ${maxBytes} bytes (${size} bytes)` };
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, problem: `unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, problem: `not valid JSON${jsonErrorPlace(text, (err as Error).message)}` };
  }
}

/** " (line 3, column 7)" from V8's "… at position 41", or "" when the message has no position. */
function jsonErrorPlace(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message);
  if (!m && /end of JSON input/i.test(message)) return ' (it ends too early)';
  if (!m) return '';
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  return ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}
