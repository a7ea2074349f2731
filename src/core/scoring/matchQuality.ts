import type { CalibratedKind, MatchCalibration } from '../index/manifest.ts';
import type { Method, QueryKind } from './methods.ts';

/**
 * Whether a ranking means anything: every query gets a ranking, but one whose embedding carries no
 * information (the encoder knew none of its words), or whose best score is no better than what
 * content-free queries reach on this index, should say "nothing matches well" instead of showing
 * confident results. The thresholds come from the index's calibration (MatchCalibration), measured
 * by the builder; without one, only the embedding check can apply, and only when nullText exists.
 */
export type MatchVerdict =
  | { kind: 'ok'; best: number; threshold?: number }
  /** The query's embedding is the encoder's output for text with no usable words. */
  | { kind: 'no-information'; best: number }
  /**
   * The best score, less the calibration's nullWeight × the query's cosine to the content-free
   * embedding (text only), is at or below what content-free queries reach under the same method.
   */
  | { kind: 'weak'; best: number; threshold: number };

/** Cosine at or above which a query embedding counts as the content-free one (float rounding only). */
export const NULL_EMBEDDING_COSINE = 0.999;

/** Little-endian float32 vectors from base64 (the manifest's calibration.nullText). */
export function decodeVectors(values: readonly string[]): Float32Array[] {
  return values.map((b64) => {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer, 0, bytes.length >> 2);
  });
}

/** Base64 of little-endian float32 values (what decodeVectors reads). */
export function encodeVector(v: Float32Array): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}

/** Cosine of two vectors (0 when either is zero). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** The best finite score (−Infinity when there is none). */
export function bestScore(scores: ArrayLike<number>, skip = -1): number {
  let best = -Infinity;
  for (let i = 0; i < scores.length; i++) if (i !== skip && Number.isFinite(scores[i]) && scores[i] > best) best = scores[i];
  return best;
}

/** The largest cosine of `e` to one of the content-free embeddings (0 when there are none). */
export function nullCosine(nullText: readonly Float32Array[], e: Float32Array): number {
  let c = 0;
  for (const n of nullText) if (n.length === e.length) c = Math.max(c, cosine(e, n));
  return c;
}

/**
 * What a threshold is compared with: the best score, less `nullWeight` × the query's cosine to the
 * content-free embedding. A text the encoder half-recognises (made-up words, typed noise) lands
 * between a real description and the content-free embedding; its best score alone can reach a
 * one-word query's, but how close it sits to "no words at all" tells them apart.
 */
export function matchStatistic(best: number, nullWeight: number, nullCos: number): number {
  return best - nullWeight * nullCos;
}

/**
 * The verdict for one ranking. `parts` are the query's text/image parts with their embeddings;
 * `scores` the content scores of every model under `method`. Only one-part text, photo or sketch
 * queries are judged against a threshold (a product of experts has no calibrated scale); a text
 * part whose embedding is content-free makes any query "no information".
 */
export function judgeMatch(
  calibration: MatchCalibration | undefined,
  nullText: readonly Float32Array[],
  parts: readonly { kind: QueryKind; embedding?: Float32Array }[],
  method: Method,
  scores: ArrayLike<number>,
): MatchVerdict {
  const best = bestScore(scores);
  if (parts.some((p) => p.kind === 'text' && p.embedding && nullCosine(nullText, p.embedding) >= NULL_EMBEDDING_COSINE)) return { kind: 'no-information', best };
  if (parts.length !== 1 || parts[0].kind === 'model') return { kind: 'ok', best };
  const [part] = parts;
  const k = calibration?.kinds[part.kind as CalibratedKind];
  if (!k || k.method !== method) return { kind: 'ok', best };
  const nullWeight = part.kind === 'text' && part.embedding ? (k.nullWeight ?? 0) : 0;
  const statistic = nullWeight ? matchStatistic(best, nullWeight, nullCosine(nullText, part.embedding!)) : best;
  return statistic <= k.threshold ? { kind: 'weak', best, threshold: k.threshold } : { kind: 'ok', best, threshold: k.threshold };
}
