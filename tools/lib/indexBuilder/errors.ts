/**
 * The build-index CLI's two kinds of expected failure. Anything else is a bug and surfaces with
 * its stack trace.
 */

/** Bad command line (unknown flag, missing or malformed value): exit code 2 with a usage text. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

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
