import { describe, expect, it } from 'vitest';
import type { MatchCalibration } from '../index/manifest.ts';
import { parseManifest } from '../index/manifest.ts';
import { bestScore, decodeVectors, encodeVector, judgeMatch, matchStatistic, NULL_EMBEDDING_COSINE, nullCosine } from './matchQuality.ts';

const nullVec = Float32Array.of(0.6, 0.8, 0, 0);
const calibration: MatchCalibration = {
  version: 1,
  nullText: [encodeVector(nullVec)],
  kinds: {
    text: { method: 'first-moment', threshold: 0.3, quantile: 0.95, nullQueries: 200 },
    image: { method: 'gaussian', threshold: 12, quantile: 0.95, nullQueries: 48 },
  },
};
const [decodedNull] = decodeVectors(calibration.nullText);
const other = Float32Array.of(0, 0, 1, 0);

describe('judgeMatch', () => {
  it('round-trips float32 vectors through base64 exactly', () => {
    const v = Float32Array.of(1.5, -2.25, 3e-8, Number.MAX_VALUE / 2);
    expect(Array.from(decodeVectors([encodeVector(v)])[0])).toEqual(Array.from(v));
    expect(Array.from(decodedNull)).toEqual(Array.from(nullVec));
  });

  it('a text whose embedding is the content-free one carries no information, whatever it scores', () => {
    const scaled = nullVec.map((x) => x * 3); // the same direction
    const v = judgeMatch(calibration, [decodedNull], [{ kind: 'text', embedding: scaled }], 'first-moment', [0.9, 0.1]);
    expect(v).toEqual({ kind: 'no-information', best: 0.9 });
    // Also inside a text + image query.
    const mixed = judgeMatch(calibration, [decodedNull], [{ kind: 'text', embedding: nullVec }, { kind: 'image', embedding: other }], 'first-moment', [0.9]);
    expect(mixed.kind).toBe('no-information');
    // A slightly different direction is information.
    const near = Float32Array.of(0.6, 0.8, 0.1, 0);
    expect(judgeMatch(calibration, [decodedNull], [{ kind: 'text', embedding: near }], 'first-moment', [0.9]).kind).toBe('ok');
    expect(1 / Math.hypot(0.6, 0.8, 0.1)).toBeLessThan(NULL_EMBEDDING_COSINE); // its cosine with the null vector
  });

  it('a best score at or below the calibrated threshold of its kind and method is weak', () => {
    const judge = (kind: 'text' | 'image' | 'sketch', method: 'first-moment' | 'gaussian', scores: number[]) =>
      judgeMatch(calibration, [decodedNull], [{ kind, embedding: other }], method, scores);
    expect(judge('text', 'first-moment', [0.1, 0.3, -1])).toEqual({ kind: 'weak', best: 0.3, threshold: 0.3 });
    expect(judge('text', 'first-moment', [0.1, 0.31])).toEqual({ kind: 'ok', best: 0.31, threshold: 0.3 });
    expect(judge('image', 'gaussian', [11, -Infinity, Number.NaN]).kind).toBe('weak');
    // Another method than the calibrated one, or an uncalibrated kind: no threshold applies.
    expect(judge('text', 'gaussian', [0.1]).kind).toBe('ok');
    expect(judge('sketch', 'first-moment', [0.1]).kind).toBe('ok');
  });

  it('with a nullWeight, a text near the content-free embedding must clear the threshold by that much more', () => {
    const weighted: MatchCalibration = { ...calibration, kinds: { ...calibration.kinds, text: { ...calibration.kinds.text!, nullWeight: 0.5 } } };
    const near = Float32Array.of(0.6, 0.8, 0.5, 0); // cosine 1 / √1.25 ≈ 0.894 with the null vector
    const c = nullCosine([decodedNull], near);
    expect(c).toBeCloseTo(1 / Math.sqrt(1.25), 6);
    expect(matchStatistic(0.7, 0.5, c)).toBeCloseTo(0.7 - 0.5 * c, 12);
    // 0.7 − 0.447 = 0.253 ≤ 0.3: weak, though 0.7 alone clears the threshold; without the weight it is ok.
    expect(judgeMatch(weighted, [decodedNull], [{ kind: 'text', embedding: near }], 'first-moment', [0.7])).toEqual({ kind: 'weak', best: 0.7, threshold: 0.3 });
    expect(judgeMatch(calibration, [decodedNull], [{ kind: 'text', embedding: near }], 'first-moment', [0.7]).kind).toBe('ok');
    // A text orthogonal to the null vector loses nothing; a higher best score clears it.
    expect(judgeMatch(weighted, [decodedNull], [{ kind: 'text', embedding: other }], 'first-moment', [0.31]).kind).toBe('ok');
    expect(judgeMatch(weighted, [decodedNull], [{ kind: 'text', embedding: near }], 'first-moment', [0.75]).kind).toBe('ok');
    // Only text is weighted: an image's closeness to the text null vector means nothing.
    const img: MatchCalibration = { ...calibration, kinds: { image: { ...calibration.kinds.image!, nullWeight: 1 } } };
    expect(judgeMatch(img, [decodedNull], [{ kind: 'image', embedding: near }], 'gaussian', [12.5]).kind).toBe('ok');
    // Null vectors of another dimension are ignored, and none means a cosine of 0.
    expect(nullCosine([Float32Array.of(1, 0)], near)).toBe(0);
    expect(nullCosine([], near)).toBe(0);
  });

  it('model queries, products of experts and indexes without calibration are never judged weak', () => {
    expect(judgeMatch(calibration, [decodedNull], [{ kind: 'model' }], 'first-moment', [0.1]).kind).toBe('ok');
    const two = [{ kind: 'text' as const, embedding: other }, { kind: 'image' as const, embedding: other }];
    expect(judgeMatch(calibration, [decodedNull], two, 'first-moment', [0.1]).kind).toBe('ok');
    expect(judgeMatch(undefined, [], [{ kind: 'text', embedding: other }], 'first-moment', [0.1])).toEqual({ kind: 'ok', best: 0.1 });
  });

  it('bestScore ignores non-finite scores and the skipped model', () => {
    expect(bestScore([Number.NaN, 2, Infinity, 1])).toBe(2);
    expect(bestScore([3, 2], 0)).toBe(2);
    expect(bestScore([])).toBe(-Infinity);
  });
});

describe('manifest calibration', () => {
  const base = {
    format: 'model-search-index',
    formatVersion: 1,
    name: 'x',
    createdWith: 't',
    licence: 'CC0-1.0',
    encoder: { id: 'test-encoder', dim: 4 },
    count: 1,
    files: { 'index.bin': { bytes: 1, sha256: 'a'.repeat(64) }, 'models.json': { bytes: 1, sha256: 'b'.repeat(64) } },
  };
  it('accepts a well-formed calibration', () => {
    expect(parseManifest({ ...base, calibration }).calibration).toEqual(calibration);
    const weighted = { ...calibration, kinds: { text: { ...calibration.kinds.text!, nullWeight: 0.2 } } };
    expect(parseManifest({ ...base, calibration: weighted }).calibration).toEqual(weighted);
  });
  it.each([
    ['a wrong version', { ...calibration, version: 2 }],
    ['a null vector of the wrong length', { ...calibration, nullText: [encodeVector(Float32Array.of(1, 2))] }],
    ['a null vector that is not base64', { ...calibration, nullText: ['!!!!'] }],
    ['an unknown kind', { ...calibration, kinds: { smell: calibration.kinds.text } }],
    ['a non-finite threshold', { ...calibration, kinds: { text: { ...calibration.kinds.text, threshold: null } } }],
    ['a quantile above 1', { ...calibration, kinds: { text: { ...calibration.kinds.text, quantile: 2 } } }],
    ['a negative nullWeight', { ...calibration, kinds: { text: { ...calibration.kinds.text, nullWeight: -0.1 } } }],
    ['a nullWeight above 1', { ...calibration, kinds: { text: { ...calibration.kinds.text, nullWeight: 1.5 } } }],
    ['a nullWeight that is not a number', { ...calibration, kinds: { text: { ...calibration.kinds.text, nullWeight: '0.2' } } }],
  ])('rejects %s', (_label, bad) => {
    expect(() => parseManifest({ ...base, calibration: bad })).toThrow(/calibration/);
  });
});
