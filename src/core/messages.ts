/**
 * Sentences the app and the Node CLIs both print for the same fault, in one place: a bad value (an
 * address parameter or a command-line flag) and an image that cannot be used. The app names a
 * value by its address parameter (`?k=`), a CLI by its flag (`--k`); the rest is the same sentence.
 */

/** How a range of numbers reads in a sentence: "an integer from 1 to 64", "a positive number". */
export function describeRange(kind: 'a number' | 'an integer', o: { min?: number; max?: number; positive?: boolean }): string {
  if (o.positive) return kind === 'a number' ? 'a positive number' : 'a positive integer';
  if (o.min !== undefined && o.max !== undefined) return `${kind} from ${o.min} to ${o.max}`;
  if (o.min !== undefined) return `${kind} ≥ ${o.min}`;
  if (o.max !== undefined) return `${kind} ≤ ${o.max}`;
  return kind;
}

/** "a or b", "one of a, b, c". */
export function listWords(values: readonly string[]): string {
  return values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
}

/** Longest piece of a person's input quoted back in a message (a 2 MB address stays readable). */
const MAX_QUOTE = 80;

/**
 * Text as printed on one line: control characters (a newline or an escape sequence in a file name,
 * an address) written as \u escapes, so they can neither break a message nor drive a terminal.
 */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The input as quoted in a message: control characters escaped, long values shortened. */
export function quote(raw: string): string {
  const shown = escapeControls(raw);
  return `"${shown.length > MAX_QUOTE ? `${shown.slice(0, MAX_QUOTE - 1)}…` : shown}"`;
}

/** "--k must be an integer from 1 to 64, not "0"" (a flag) or "?k= must be …" (an address parameter). */
export function mustBe(name: string, what: string, raw: string): string {
  return `${name} must be ${what}, not ${quote(raw)}`;
}

/** Why an image cannot be used: `imageFault(name, IMAGE_FAULTS.empty)` → "“cat.png” is empty." */
export const IMAGE_FAULTS = {
  empty: 'is empty',
  unreadable: 'could not be read as an image (unsupported format or damaged file)',
  // Browsers and libvips turn CMYK into RGB by different rules (with or without the file's ICC
  // profile, Adobe's inverted inks or not): the same file would embed differently in the app and
  // in an index (measured: cosine 0.89), so both refuse it.
  cmyk: 'is a CMYK image, whose colours browsers and the index builder convert differently: save it as an RGB (sRGB) JPEG or PNG and try again',
} as const;

/**
 * Largest image accepted, in pixels as stored: larger ones are refused from their header, before
 * decoding (the index builder's default --max-megapixels, tools/lib/indexBuilder/defaults.ts).
 */
export const MAX_IMAGE_PIXELS = 64_000_000;

export function tooManyPixels(width: number, height: number): string {
  return `is ${width}×${height} pixels; images up to ${MAX_IMAGE_PIXELS / 1e6} megapixels are accepted`;
}

/** One sentence about an image: "“cat.png” is empty.", or "This file is empty." without a name. */
export function imageFault(name: string | null, fault: string): string {
  return `${name === null ? 'This file' : `“${name}”`} ${fault}.`;
}

