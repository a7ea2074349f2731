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
