import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { preprocessRgba } from '../../src/core/encode/preprocess.ts';
import type { SearchIndex } from '../../src/core/index/indexFormat.ts';
import type { CalibratedKind, KindCalibration, MatchCalibration } from '../../src/core/index/manifest.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import { SEARCH_DEFAULTS } from '../../src/core/scoring/defaults.ts';
import { bestScore, cosine, encodeVector, matchStatistic, NULL_EMBEDDING_COSINE } from '../../src/core/scoring/matchQuality.ts';
import { autoMethod, scoreMethod, supportedMethods } from '../../src/core/scoring/methods.ts';
import { NodeEncoder, PUBLIC_DIR } from './nodeEncoder.ts';

/**
 * The builder's "nothing matches" calibration (src/core/scoring/matchQuality.ts), from the index's
 * own models and its encoder, for any encoder (CLIP or ours):
 * - content-free text: the encoder's embedding of the empty text — what a text of only unknown
 *   words becomes in an encoder with a closed vocabulary;
 * - per query kind, the best score that content-free queries reach under Auto's method for that
 *   kind: phrases of 1–4 words drawn at random from the CLIP tokenizer's vocabulary (text), and
 *   uniform-noise images (photos). The threshold is their 95th percentile: a query that does no
 *   better ranks like one that says nothing about this index's models.
 * - the index's own model names as text queries (its own data: every index has names): the text
 *   threshold never exceeds their 2nd percentile, so about 2 % of queries as specific as a model's
 *   name are called weak. This matters for encoders whose vocabulary reaches far beyond the index
 *   (the v2 zoo encoder's WordNet prior knows ~8 k words, so a random vocabulary phrase often names a
 *   colour or a subject and the content-free percentile alone sits inside real queries). Applied
 *   from 50 names up.
 * - the words the index's names share (a word of three or more letters in two names or more, that the
 *   encoder knows: its embedding is not the empty text's): one-word queries as specific as the
 *   index's own vocabulary ("yellow", "house") must not be called weak either, and a query naming
 *   one attribute scores lower than a full description (its best match shares one attribute of
 *   several). The text threshold never exceeds their 2nd percentile; applied from 20 such words up.
 * - content-free text also includes random letter strings (every word has a vowel, so they read like
 *   made-up words; the eval's letter strings have none, so the two never meet). An encoder with a
 *   content-free class (the v2 zoo encoder) puts such text near its empty-text embedding without
 *   reaching it, so the text statistic is the best score less nullWeight × the cosine to that
 *   embedding (matchStatistic). nullWeight is picked here from NULL_WEIGHTS: the smallest weight that
 *   flags within NULL_WEIGHT_SLACK of the most content-free text any weight in the grid flags, every
 *   weight held to the same caps by names and name words. A smallest-near-best rule, because larger
 *   weights keep flagging a little more nonsense while pushing reworded real queries (further from
 *   the names' wording, nearer the empty text) under the threshold, which names cannot show.
 * Sketches get no threshold: on the zoo encoder, random scribbles reach the same best scores as
 * sketches of the models (median 0.747 vs 0.781 under the 1st moment; noise images' 95th percentile
 * flagged 18 % of the eval's sketches), so a sketch threshold would mostly hide real sketches.
 * Seeded: a rebuild gives the same calibration.
 */
export const CALIBRATION = { textQueries: 200, letterStrings: 200, imageQueries: 48, quantile: 0.95, seed: 20261201, nameQuantile: 0.02, minNames: 50, minNameWords: 20 } as const;
export const NULL_WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] as const;
export const NULL_WEIGHT_SLACK = 0.05;

/** Random strings of 1–3 made-up words, 3–9 letters a–z each, every word with at least one vowel. */
export function letterStrings(count: number, seed: number): string[] {
  const next = mulberry32(seed);
  const letters = 'abcdefghijklmnopqrstuvwxyz', vowels = 'aeiouy';
  const word = () => {
    const w = Array.from({ length: 3 + Math.floor(next() * 7) }, () => letters[Math.floor(next() * letters.length)]).join('');
    return /[aeiouy]/.test(w) ? w : w.slice(0, -1) + vowels[Math.floor(next() * vowels.length)];
  };
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * 3) }, word).join(' '));
}

/** The words two or more of `names` share (lower case, letters only, at least three long), sorted. */
export function sharedNameWords(names: readonly string[]): string[] {
  const count = new Map<string, number>();
  for (const name of names) for (const w of new Set(name.toLowerCase().match(/[a-z]{3,}/g) ?? [])) count.set(w, (count.get(w) ?? 0) + 1);
  return [...count].filter(([, c]) => c >= 2).map(([w]) => w).sort();
}

/** Random phrases of 1–4 whole words of the CLIP vocabulary (letters only, ≥ 3 long). */
export async function randomPhrases(tokenizerJson: string, count: number, seed: number): Promise<string[]> {
  const vocab = (JSON.parse(await readFile(tokenizerJson, 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
  const words = Object.keys(vocab)
    .filter((w) => /^[a-z]{3,}<\/w>$/.test(w))
    .map((w) => w.slice(0, -4))
    .sort();
  const next = mulberry32(seed);
  const pick = () => words[Math.floor(next() * words.length)];
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * 4) }, pick).join(' '));
}

/** `count` images of uniform RGB noise at the encoder's input size, preprocessed: [count, 3, size, size]. */
export function noiseImages(size: number, count: number, seed: number, pre: Parameters<typeof preprocessRgba>[1]): Float32Array {
  const next = mulberry32(seed);
  const per = 3 * size * size;
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) {
    const data = new Uint8ClampedArray(size * size * 4);
    for (let p = 0; p < data.length; p++) data[p] = (p & 3) === 3 ? 255 : Math.floor(next() * 256);
    preprocessRgba({ width: size, height: size, data }, pre, out.subarray(i * per, (i + 1) * per));
  }
  return out;
}

function quantile(values: number[], q: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return -Infinity;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One query's best score over the index and its cosine to the empty text's embedding (0 for images). */
export interface MeasuredQuery {
  best: number;
  nullCos: number;
}

/**
 * The threshold and nullWeight of one kind from its measured queries: `free` the content-free
 * queries, `own` the index's names (empty below CALIBRATION.minNames), `words` their shared words
 * (applied from CALIBRATION.minNameWords up). Text tries every weight in NULL_WEIGHTS and keeps the
 * smallest that flags within NULL_WEIGHT_SLACK of the most content-free text any weight flags;
 * images use weight 0. `flagged` is the share of `free` at or under the threshold. Shared by the
 * version-1 and tiered calibrations.
 */
export function pickThreshold(
  measured: { free: readonly MeasuredQuery[]; own: readonly MeasuredQuery[]; words: readonly MeasuredQuery[] },
  kind: CalibratedKind,
): { threshold: number; nullWeight: number; flagged: number } {
  const { free, own, words } = measured;
  const thresholdFor = (nullWeight: number) => {
    const stat = (m: MeasuredQuery) => matchStatistic(m.best, nullWeight, m.nullCos);
    let threshold = quantile(free.map(stat), CALIBRATION.quantile);
    if (own.length) threshold = Math.min(threshold, quantile(own.map(stat), CALIBRATION.nameQuantile));
    if (words.length >= CALIBRATION.minNameWords) threshold = Math.min(threshold, quantile(words.map(stat), CALIBRATION.nameQuantile));
    return { nullWeight, threshold, flagged: free.filter((m) => stat(m) <= threshold).length / free.length };
  };
  const grid = (kind === 'text' ? NULL_WEIGHTS : [0]).map(thresholdFor);
  const most = Math.max(...grid.map((g) => g.flagged));
  return grid.find((g) => g.flagged >= most - NULL_WEIGHT_SLACK)!;
}

/** The calibration of `index`, built with `encoder` (both towers loaded) at the index's temperature. */
export async function calibrateIndex(index: SearchIndex, encoder: NodeEncoder, temperature: number, names: readonly string[] = []): Promise<MatchCalibration> {
  const { desc } = encoder;
  const [empty] = await encoder.encodeTexts(['']);
  const phrases = await randomPhrases(join(PUBLIC_DIR, desc.tokenizer.json), CALIBRATION.textQueries, CALIBRATION.seed);
  const texts = await encoder.encodeTexts([...phrases, ...letterStrings(CALIBRATION.letterStrings, CALIBRATION.seed)]);
  const images = await encoder.encodeImages(noiseImages(desc.image.size, CALIBRATION.imageQueries, CALIBRATION.seed, desc.image), CALIBRATION.imageQueries);
  const methods = supportedMethods(index);
  const params = { k: SEARCH_DEFAULTS.k, temperature };
  const kinds: MatchCalibration['kinds'] = {};
  for (const kind of ['text', 'image'] as const satisfies readonly CalibratedKind[]) {
    const method = autoMethod(methods, [kind]);
    const queries = kind === 'text' ? texts : images;
    // Each query's best score and (text) cosine to the empty text's embedding.
    const measure = (qs: Float32Array[]) => qs.map((q) => ({ best: bestScore(scoreMethod(index, method, q, params)), nullCos: kind === 'text' ? cosine(q, empty) : 0 }));
    const free = measure(queries);
    // With fewer names a 2nd percentile is one outlier name's score, not a distribution.
    const own = kind === 'text' && names.length >= CALIBRATION.minNames ? measure(await encoder.encodeTexts([...names])) : [];
    const words = own.length ? measure((await encoder.encodeTexts(sharedNameWords(names))).filter((w) => cosine(w, empty) < NULL_EMBEDDING_COSINE)) : [];
    const pick = pickThreshold({ free, own, words }, kind);
    const k: KindCalibration = { method, threshold: pick.threshold, quantile: CALIBRATION.quantile, nullQueries: queries.length };
    if (pick.nullWeight) k.nullWeight = pick.nullWeight;
    kinds[kind] = k;
  }
  return { version: 1, nullText: [encodeVector(empty)], kinds };
}
