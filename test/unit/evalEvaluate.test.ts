import { describe, expect, it } from 'vitest';
import type { ModelMeta } from '../../src/core/index/manifest.ts';
import { smallIndex } from '../support/smallIndex.ts';
import { l2normalize } from '../../src/core/math/vectors.ts';
import { modelSimilarityScores, scoreMethod } from '../../src/core/scoring/methods.ts';
import type { RankableIndex } from '../../src/core/scoring/rank.ts';
import { metadataBaseline } from '../../tools/eval/baseline.ts';
import { evaluateSet, rowsFor, scoreRow, type EvalContext, type PreparedQuery } from '../../tools/eval/evaluate.ts';
import { queryMetrics } from '../../tools/eval/metrics.ts';

const DIM = 8;
const COUNT = 10;
const SAMPLES = 6;

/** A small index with means, Gaussians and kept samples, opened with a non-CLIP temperature. */
function fixture(temperature: number): RankableIndex {
  const { index } = smallIndex({ seed: 11, dim: DIM, count: COUNT, samples: SAMPLES });
  const models: ModelMeta[] = Array.from({ length: COUNT }, (_, i) => ({
    id: `m${i}`,
    name: `Model ${i}`,
    description: i % 2 ? 'odd things' : 'even things',
    family: i % 2 ? 'odd' : 'even',
    creator: 'ann',
    licence: 'CC0-1.0',
    resolution: '',
    links: [],
    thumbnails: [],
  }));
  return { index, models, ids: new Map(models.map((m, i) => [m.id, i])), temperature };
}

const target = fixture(18);
const ctx: EvalContext = { target, projected: new Map(), baseline: metadataBaseline(target.models) };
const mean = (m: number) => l2normalize(target.index.means.slice(m * DIM, (m + 1) * DIM));
const queries = (n: number): PreparedQuery[] => Array.from({ length: n }, (_, m) => ({ embedding: mean(m), keywords: `model ${m}`, model: m }));

describe('eval scoring through rank()', () => {
  it('Monte-Carlo and 1st+2nd moment use the index temperature, not 100', async () => {
    const rows = rowsFor('text', [], target.temperature);
    const q = queries(1)[0];
    for (const key of ['monte-carlo', 'first-second-moment'] as const) {
      const row = rows.find((r) => r.key === key)!;
      expect(row.label).toContain('T = 18');
      const { scores, method } = await scoreRow(ctx, 'text', row, q);
      expect(method).toBe(key);
      expect(Array.from(scores)).toEqual(Array.from(scoreMethod(target.index, key, q.embedding!, { temperature: 18 })));
      expect(Array.from(scores)).not.toEqual(Array.from(scoreMethod(target.index, key, q.embedding!, { temperature: 100 })));
    }
  });

  it('every content row gives the scores of its method, best-k with the row’s k', async () => {
    const q = queries(3)[2];
    for (const row of rowsFor('image', [], 18).filter((r) => r.kind === 'content' && r.method !== 'auto')) {
      const { scores } = await scoreRow(ctx, 'image', row, q);
      const method = row.method as Exclude<typeof row.method, 'auto' | undefined>;
      expect(Array.from(scores), row.key).toEqual(Array.from(scoreMethod(target.index, method, q.embedding!, { temperature: 18, k: 3, ...row.params })));
    }
  });

  it('Auto resolves per query kind: photo → Gaussian, sketch and text → 1st moment', async () => {
    const image = await evaluateSet(ctx, 'image', queries(COUNT));
    const sketch = await evaluateSet(ctx, 'sketch', queries(COUNT));
    const text = await evaluateSet(ctx, 'text', queries(COUNT));
    expect([image.ranMethod?.auto, sketch.ranMethod?.auto, text.ranMethod?.auto]).toEqual(['gaussian', 'first-moment', 'first-moment']);
    expect(image.rows.auto).toEqual({ ...image.rows.gaussian, msPerQuery: image.rows.auto.msPerQuery });
    expect(text.rows.auto).toEqual({ ...text.rows['first-moment'], msPerQuery: text.rows.auto.msPerQuery });
    // A query at a model's own mean finds that model first with the 1st moment.
    expect(text.rows['first-moment'].top1).toBe(1);
    expect(text.rows['first-moment'].queries).toBe(COUNT);
  });

  it('model-as-query ranks by cosine of means with the family as ground truth, the query model no candidate', async () => {
    const set = await evaluateSet(
      ctx,
      'model',
      target.models.map((m, i) => ({ keywords: m.name, model: i })),
    );
    expect(Object.keys(set.rows)).toEqual(['first-moment', 'metadata']);
    const families = target.models.map((m) => m.family);
    let rr = 0;
    for (let i = 0; i < COUNT; i++) {
      const relevant = families.flatMap((f, j) => (j !== i && f === families[i] ? [j] : []));
      rr += queryMetrics(modelSimilarityScores(target.index, i), relevant, { exclude: [i] }).rr;
    }
    expect(set.rows['first-moment'].mrr).toBeCloseTo(rr / COUNT, 12);
  });
});
