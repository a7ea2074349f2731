import { preprocessRgba } from '../../src/core/encode/preprocess.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';

/*
 * Content-free queries for the "nothing matches" evaluation (tools/eval/no-match.ts), held out from
 * the build's calibration (tools/lib/calibrate.ts) by construction: no random vocabulary words and
 * no noise images here (test/unit/noMatch.test.ts checks the sets never meet).
 */

/**
 * Everyday phrases about things the procedural zoo never draws. (v1's list also had "kitty images",
 * "everything yellow", "a cup of coffee on a desk" and "snowy mountains panorama": the v2 encoder
 * knows those words for zoo subjects and palettes, so they are real queries now, not content-free.)
 */
export const OFF_TOPIC_PHRASES = [
  'stock market report', 'dentist appointment reminder', 'quantum mechanics lecture', 'tax return form', 'a lawyer reading a contract',
  'wedding photography', 'portrait of an old man', 'spreadsheet with numbers', 'football match highlights', 'city traffic at rush hour',
  'recipe for lasagna', 'medieval castle ruins', 'a dog playing fetch', 'laptop keyboard closeup', 'bridge over a river',
  'physics exam questions', 'birthday party balloons', 'microscope bacteria', 'vintage typewriter', 'airport departure board',
  'chess pieces on a board', 'hospital corridor', 'violin concert', 'crowded beach in summer', 'handwritten letter',
  'electric guitar solo', 'skyscraper at dusk', 'farm tractor in a field', 'subway map', 'bowl of ramen',
];

/** Random strings of letters (not words of any vocabulary), one to three "words". */
export function gibberish(count: number, seed: number): string[] {
  const next = mulberry32(seed);
  const letters = 'bcdfghjklmnpqrstvwxz';
  const word = () => Array.from({ length: 4 + Math.floor(next() * 5) }, () => letters[Math.floor(next() * letters.length)]).join('');
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * 3) }, word).join(' '));
}

/**
 * Pronounceable made-up words ("greck", "zipweb tazz"), one to three, of 1–2 syllables each:
 * what a person typing nonsense writes. `excluded` rejects real words (a whole-word token of CLIP's
 * vocabulary), the zoo encoder's own made-up training words and the words it knows (tools/eval/no-match.ts passes all three),
 * so none of these was ever trained on. Harder than the letter strings: their syllables are
 * pieces of real words.
 */
export function pseudoWords(count: number, seed: number, excluded: (w: string) => boolean): string[] {
  const next = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  const onsets = ['b', 'bl', 'br', 'd', 'dr', 'f', 'fl', 'g', 'gr', 'k', 'l', 'm', 'n', 'p', 'pr', 'qu', 'r', 's', 'sn', 'st', 't', 'tr', 'v', 'w', 'z'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'i', 'o', 'u', 'oo', 'ee', 'ai'];
  const codas = ['', '', '', 'b', 'ck', 'd', 'g', 'l', 'm', 'n', 'nk', 'p', 'r', 'rt', 'x', 'zz'];
  const word = (): string => {
    const w = Array.from({ length: 1 + Math.floor(next() * 2) }, () => pick(onsets) + pick(vowels) + pick(codas)).join('');
    return w.length < 3 || excluded(w) ? word() : w; // "tree", "moon" and "star" are made of these syllables too
  };
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * 3) }, word).join(' '));
}

export const SYMBOL_QUERIES = ['123', '42 7 1999', '!!!', '???', '...', '#', '%%%', '2024-01-01', '3.14159', '@@@ ###'];

/** Flat and two-colour images: no subject, no style, no texture. */
export function plainImages(size: number, count: number, seed: number, pre: Parameters<typeof preprocessRgba>[1]): Float32Array {
  const next = mulberry32(seed);
  const per = 3 * size * size;
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) {
    const a = [0, 1, 2].map(() => Math.floor(next() * 256));
    const b = i % 2 ? [0, 1, 2].map(() => Math.floor(next() * 256)) : a;
    const data = new Uint8ClampedArray(size * size * 4);
    for (let p = 0; p < size * size; p++) {
      const c = (p % size) < size / 2 ? a : b; // left/right halves
      data.set([c[0], c[1], c[2], 255], p * 4);
    }
    preprocessRgba({ width: size, height: size, data }, pre, out.subarray(i * per, (i + 1) * per));
  }
  return out;
}
