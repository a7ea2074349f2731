/**
 * The "nothing matches" calibration of a tiered (version 2) index: the same content-free queries,
 * quantiles, caps by the index's own names and name words, and nullWeight grid as version 1
 * (tools/lib/calibrate.ts, whose constants and query generators this reuses). Each kind is scored
 * with the method Auto picks for it on a tiered index (autoMethod over TIERED_METHODS: the 1st
 * moment for text, Gaussian density for images), exactly as the two-stage query's rerank computes it
 * (recordCosine, lowRankLogDensity), over every record. Exhaustive on purpose: the threshold is
 * about the best score over the whole index, not over one prefilter's candidates.
 *
 * Cost: (≈ 450 content-free queries + the names + their shared words) × count × d × (r + 1)
 * multiply-adds — about a second for the 300-model demo, hours at 1M models and d = 512.
 */
import { join } from 'node:path';
import type { CalibratedKind, KindCalibration, MatchCalibration } from '../../../src/core/index/manifest.ts';
import { lowRankLogDensity, type LowRankRecord } from '../../../src/core/index/lowRankGaussian.ts';
import { recordCosine, TIERED_METHODS } from '../../../src/core/index/tieredRank.ts';
import { autoMethod, type Method } from '../../../src/core/scoring/methods.ts';
import { bestScore, cosine, encodeVector, NULL_EMBEDDING_COSINE } from '../../../src/core/scoring/matchQuality.ts';
import { CALIBRATION, letterStrings, noiseImages, pickThreshold, randomPhrases, sharedNameWords } from '../calibrate.ts';
import { PUBLIC_DIR, type NodeEncoder } from '../nodeEncoder.ts';

/** The method a kind is calibrated with: Auto's choice for it on a tiered index. */
export function tieredCalibrationMethod(kind: CalibratedKind): Method {
  return autoMethod(TIERED_METHODS, [kind]);
}

/** The best score of `query` over all records under `method` (Gaussian log-density, or the 1st-moment cosine). */
export function bestRecordScore(records: readonly LowRankRecord[], query: Float32Array, method: Method = 'gaussian'): number {
  const scores = new Float64Array(records.length);
  records.forEach((r, m) => (scores[m] = method === 'gaussian' ? lowRankLogDensity(r, query) : recordCosine(r, query)));
  return bestScore(scores);
}

/** The calibration of a tiered index from its decoded records, with `encoder` (both towers loaded). */
export async function calibrateTiered(records: readonly LowRankRecord[], encoder: NodeEncoder, names: readonly string[] = []): Promise<MatchCalibration> {
  const { desc } = encoder;
  const [empty] = await encoder.encodeTexts(['']);
  const phrases = await randomPhrases(join(PUBLIC_DIR, desc.tokenizer.json), CALIBRATION.textQueries, CALIBRATION.seed);
  const texts = await encoder.encodeTexts([...phrases, ...letterStrings(CALIBRATION.letterStrings, CALIBRATION.seed)]);
  const images = await encoder.encodeImages(noiseImages(desc.image.size, CALIBRATION.imageQueries, CALIBRATION.seed, desc.image), CALIBRATION.imageQueries);
  const kinds: MatchCalibration['kinds'] = {};
  for (const kind of ['text', 'image'] as const satisfies readonly CalibratedKind[]) {
    const queries = kind === 'text' ? texts : images;
    const method = tieredCalibrationMethod(kind);
    const measure = (qs: Float32Array[]) => qs.map((q) => ({ best: bestRecordScore(records, q, method), nullCos: kind === 'text' ? cosine(q, empty!) : 0 }));
    const free = measure(queries);
    const own = kind === 'text' && names.length >= CALIBRATION.minNames ? measure(await encoder.encodeTexts([...names])) : [];
    const words = own.length ? measure((await encoder.encodeTexts(sharedNameWords(names))).filter((w) => cosine(w, empty!) < NULL_EMBEDDING_COSINE)) : [];
    const pick = pickThreshold({ free, own, words }, kind);
    const k: KindCalibration = { method, threshold: pick.threshold, quantile: CALIBRATION.quantile, nullQueries: queries.length };
    if (pick.nullWeight) k.nullWeight = pick.nullWeight;
    kinds[kind] = k;
  }
  return { version: 1, nullText: [encodeVector(empty!)], kinds };
}
