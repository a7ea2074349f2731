import { describe, expect, it } from 'vitest';
import { smallIndex } from '../../../test/support/smallIndex.ts';
import { readIndex, writeIndex } from '../index/indexFormat.ts';
import type { ModelMeta } from '../index/manifest.ts';
import { AppError } from '../io/errors.ts';
import { mulberry32 } from '../math/prng.ts';
import { l2normalize } from '../math/vectors.ts';
import { SEARCH_DEFAULTS } from './defaults.ts';
import { meanSimilarityScores, productOfExperts, projectedMeanSimilarityScores, projectedModelSimilarityScores, scoreMethod, modelSimilarityScores } from './methods.ts';
import { MAX_SAMPLE_IMAGES, rank, planQuery, type EmbedPart, type QueryPart, type RankableIndex } from './rank.ts';

const DIM = 8;
const COUNT = 12;
const SAMPLES = 6;

/** The shared small index (test/support/smallIndex.ts) with metadata to filter and fuse on. */
function fixture(temperature = 18): RankableIndex & { samples: Float32Array[] } {
  const { index, samples } = smallIndex({ seed: 7, dim: DIM, count: COUNT, samples: SAMPLES });
  const models: ModelMeta[] = Array.from({ length: COUNT }, (_, i) => ({
    id: `m${i}`,
    name: i % 3 === 0 ? `Red rose ${i}` : `Blue boat ${i}`,
    description: '',
    family: i % 2 ? 'odd' : 'even',
    creator: i < 6 ? 'ann' : 'bob',
    licence: 'CC0-1.0',
    resolution: '',
    links: [],
    thumbnails: [],
  }));
  return { index, models, ids: new Map(models.map((m, i) => [m.id, i])), temperature, samples };
}

const target = fixture();
const unit = (seed: number) => {
  const next = mulberry32(seed);
  return l2normalize(Float32Array.from({ length: DIM }, () => next() - 0.5));
};
const textVec = unit(101);
const imageVec = unit(202);
/** The embedding stand-in: text and images get fixed vectors, and every call is recorded. */
function embedder() {
  const calls: string[] = [];
  const embed = async (part: EmbedPart<string>) => {
    calls.push(part.kind === 'text' ? `text:${part.text}` : `image:${part.image}`);
    return part.kind === 'text' ? textVec : imageVec;
  };
  return { calls, embed };
}
const order = (scores: ArrayLike<number>, skip: number[] = []) =>
  [...Array(scores.length).keys()].filter((i) => !skip.includes(i)).sort((a, b) => scores[b] - scores[a] || a - b);

describe('rank', () => {
  it('refuses an encoder output that is not a finite embedding of the index dimension, without blaming a model', async () => {
    const query = { parts: [{ part: { kind: 'text' as const, text: 'red' }, weight: 1 }] };
    const nan = rank(target, query, async () => new Float32Array(DIM).fill(NaN));
    await expect(nan).rejects.toMatchObject({ code: 'backend', message: expect.stringMatching(/invalid embedding \(not a number\) for the text query/) });
    await expect(nan).rejects.not.toThrow(/Model/);
    await expect(rank(target, query, async () => new Float32Array(DIM + 1).fill(0.1))).rejects.toMatchObject({ code: 'encoder-mismatch' });
  });

  it('Auto picks the method per query kind: text → 1st moment, photo → Gaussian, sketch → 1st moment, model → means', async () => {
    const { embed } = embedder();
    const text = await rank(target, { parts: [{ part: { kind: 'text', text: 'a rose' }, weight: 1 }] }, embed);
    const photo = await rank(target, { parts: [{ part: { kind: 'image', image: 'p.png', source: 'file' }, weight: 1 }] }, embed);
    const sketch = await rank(target, { parts: [{ part: { kind: 'image', image: 's.png', source: 'sketch' }, weight: 1 }] }, embed);
    const model = await rank(target, { parts: [{ part: { kind: 'model', modelId: 'm4' }, weight: 1 }], method: 'gaussian' }, embed);
    expect([text.method, photo.method, sketch.method, model.method]).toEqual(['first-moment', 'gaussian', 'first-moment', 'first-moment']);
    expect(text.kinds).toEqual(['text']);
    expect(sketch.kinds).toEqual(['sketch']);
    expect(Array.from(photo.scores)).toEqual(Array.from(scoreMethod(target.index, 'gaussian', imageVec)));
    expect(photo.results.map((r) => r.index)).toEqual(order(photo.scores).slice(0, SEARCH_DEFAULTS.topK));
  });

  it('"more like this" leaves the query model out of the results but keeps it in the scores', async () => {
    const r = await rank(target, { parts: [{ part: { kind: 'model', modelId: 'm4' }, weight: 1 }], topK: 5 }, embedder().embed);
    const scores = modelSimilarityScores(target.index, 4);
    expect(r.queryModel).toBe(4);
    expect(r.results.map((x) => x.index)).toEqual(order(scores, [4]).slice(0, 5));
    expect(r.scores[4]).toBeCloseTo(1, 5);
  });

  it('text + image is a product of experts with the given weights, each part encoded once', async () => {
    const { calls, embed } = embedder();
    const r = await rank(
      target,
      { parts: [{ part: { kind: 'text', text: '  rose  ' }, weight: 0.3 }, { part: { kind: 'image', image: 'x.png' }, weight: 0.7 }] },
      embed,
    );
    expect(calls).toEqual(['text:rose', 'image:x.png']);
    expect(r.method).toBe('first-moment'); // mixed queries share the 1st moment's scale
    const want = productOfExperts([
      { scores: scoreMethod(target.index, 'first-moment', textVec), weight: 0.3 },
      { scores: scoreMethod(target.index, 'first-moment', imageVec), weight: 0.7 },
    ]);
    expect(Array.from(r.scores)).toEqual(Array.from(want));
  });

  it('filters keep only matching models, count them and give disjunctive facets', async () => {
    const r = await rank(target, { parts: [{ part: { kind: 'text', text: 'x' }, weight: 1 }], filters: { creator: ['bob'], family: ['odd'] } }, embedder().embed);
    const pass = [7, 9, 11];
    expect(r.matched).toBe(3);
    expect(r.results.map((x) => x.index)).toEqual(order(r.scores).filter((i) => pass.includes(i)));
    expect(r.facets.family?.find((f) => f.value === 'even')?.count).toBe(3); // counted under creator:bob only
  });

  it('hybrid fusion moves name matches up and still honours filters and the weight bounds', async () => {
    const plain = await rank(target, { parts: [{ part: { kind: 'text', text: 'rose' }, weight: 1 }] }, embedder().embed);
    const hybrid = await rank(target, { parts: [{ part: { kind: 'text', text: 'rose' }, weight: 1 }], hybridWeight: 1 }, embedder().embed);
    expect(plain.hybrid).toBe(false);
    expect(hybrid.hybrid).toBe(true);
    // w = 1: the models named "Red rose" come first.
    expect(hybrid.results.slice(0, 4).map((x) => x.index % 3)).toEqual([0, 0, 0, 0]);
    expect(hybrid.results[0].contentScore).toBe(plain.scores[hybrid.results[0].index]);
    await expect(rank(target, { parts: [{ part: { kind: 'text', text: 'rose' }, weight: 1 }], hybridWeight: 2 }, embedder().embed)).rejects.toThrow(
      /hybrid weight must be between 0 and 1/,
    );
  });

  it('uses the index temperature and k = 3 unless the query gives its own', async () => {
    const q = { parts: [{ part: { kind: 'text' as const, text: 't' }, weight: 1 }] };
    const mc = await rank(target, { ...q, method: 'monte-carlo' }, embedder().embed);
    expect(mc.temperature).toBe(18);
    expect(Array.from(mc.scores)).toEqual(Array.from(scoreMethod(target.index, 'monte-carlo', textVec, { temperature: 18 })));
    const hot = await rank(target, { ...q, method: 'first-second-moment', params: { temperature: 100 } }, embedder().embed);
    expect(Array.from(hot.scores)).toEqual(Array.from(scoreMethod(target.index, 'first-second-moment', textVec, { temperature: 100 })));
    const bk = await rank(target, { ...q, method: 'best-k', params: { k: undefined } }, embedder().embed);
    expect(Array.from(bk.scores)).toEqual(Array.from(scoreMethod(target.index, 'best-k', textVec, { k: 3 })));
  });

  it('rejects bad queries before anything is encoded, with words a person can act on', async () => {
    const cases: [Parameters<typeof planQuery<string>>[1], RegExp][] = [
      [{ parts: [] }, /Enter some text/],
      [{ parts: [{ part: { kind: 'text', text: '   ' }, weight: 1 }] }, /Type a description/],
      [{ parts: [{ part: { kind: 'model', modelId: 'nope' }, weight: 1 }] }, /not in this index/],
      [{ parts: [{ part: { kind: 'text', text: 'a' }, weight: Number.NaN }] }, /weights must be non-negative/],
      [{ parts: [{ part: { kind: 'text', text: 'a' }, weight: 1e308 }] }, /weights must be non-negative/],
      [{ parts: [{ part: { kind: 'text', text: 'a' }, weight: 0 }] }, /Enter some text/],
      [{ parts: [{ part: { kind: 'model', modelId: 'm1' }, weight: 1 }, { part: { kind: 'text', text: 'a' }, weight: 1 }] }, /on its own/],
      [{ parts: [{ part: { kind: 'text', text: 'a' }, weight: 1 }], method: 'style' }, /does not support the style method/],
      [{ parts: [{ part: { kind: 'text', text: 'a' }, weight: 1 }], method: 'nonsense' as 'style' }, /There is no method "nonsense"/],
      [{ parts: [{ part: { kind: 'text', text: 'a' }, weight: 1 }], topK: 0 }, /number of results/],
      [{ parts: [{ part: { kind: 'text', text: 'a' }, weight: 1 }], params: { k: 0 } }, /k must be/],
      [{ parts: [{ part: { kind: 'text', text: 'a' }, weight: 1 }], params: { temperature: -1 } }, /temperature must be/],
    ];
    for (const [query, message] of cases) {
      const { calls, embed } = embedder();
      const err = await rank(target, query, embed).catch((e: unknown) => e);
      expect(err, String(message)).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('bad-query');
      expect((err as Error).message).toMatch(message);
      expect(calls).toEqual([]);
    }
  });

  it('returns fewer than topK results when fewer models pass the filters, never masked ones', async () => {
    const r = await rank(target, { parts: [{ part: { kind: 'text', text: 'x' }, weight: 1 }], filters: { name: ['Red rose 3'] }, topK: 10 }, embedder().embed);
    expect(r.results.map((x) => x.index)).toEqual([3]);
    expect(r.results[0].rank).toBe(1);
  });

  it('a NaN or +∞ score is an error naming the model, never a silent order', async () => {
    const { embed } = embedder();
    for (const bad of [Number.NaN, Infinity]) {
      // A model whose stored mean is corrupt (as an index with recomputed checksums could carry).
      const means = target.index.means.slice();
      means.fill(bad, 7 * DIM, 8 * DIM);
      const broken: RankableIndex = { ...target, index: { ...target.index, means } };
      await expect(rank(broken, { parts: [{ part: { kind: 'text', text: 'a rose' }, weight: 1 }] }, embed)).rejects.toMatchObject({
        code: 'index-format',
        message: expect.stringMatching(/^Model “Blue boat 7” \(m7\) scores (NaN|\+∞) under 1st moment/),
      });
    }
  });

  it('field filters alone list the models they match by name: nothing scored, nothing encoded', async () => {
    const { embed, calls } = embedder();
    const r = await rank(target, { parts: [], filters: { family: ['odd'], creator: ['ann'] } }, embed);
    // odd family: 1, 3, 5, 7, 9, 11; creator ann: 0–5 → 1, 3, 5; names "Blue boat 1", "Red rose 3", "Blue boat 5".
    expect(r.results.map((x) => x.index)).toEqual([1, 5, 3]);
    expect(r.results.map((x) => x.rank)).toEqual([1, 2, 3]);
    expect(r.results.every((x) => Number.isNaN(x.score) && Number.isNaN(x.contentScore) && x.nearestThumbnail === -1)).toBe(true);
    expect(r.matched).toBe(3);
    expect(r.kinds).toEqual([]);
    expect(r.match.kind).toBe('ok');
    expect(Array.from(r.scores).every(Number.isNaN)).toBe(true);
    expect(r.facets.family?.map((f) => f.value).sort()).toEqual(['even', 'odd']); // each field counted under the others' filters
    expect(calls).toEqual([]);
    // "Red rose" sorts after "Blue boat" whatever the case; numbers in names sort as numbers.
    const all = await rank(target, { parts: [], filters: { family: ['even', 'odd'] }, topK: 4 }, embed);
    expect(all.results.map((x) => target.models[x.index].name)).toEqual(['Blue boat 1', 'Blue boat 2', 'Blue boat 4', 'Blue boat 5']);
    expect(all.matched).toBe(COUNT);
    // No parts and no filters is still a question without anything to search with.
    await expect(rank(target, { parts: [], filters: {} }, embed)).rejects.toThrow(/Enter some text/);
  });

  it('names the thumbnail of each result\'s kept sample nearest the query (why this model)', async () => {
    // Models with 4 thumbnails: the nearest is the argmax of qᵀx over the first 4 kept samples.
    const withThumbs: RankableIndex = { ...target, models: target.models.map((m) => ({ ...m, thumbnails: ['a', 'b', 'c', 'd'].map((t) => `thumbs/${m.id}/${t}.webp`) })) };
    const { embed } = embedder();
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, j) => s + v * b[j], 0);
    const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));
    const expectNearest = (results: { index: number; nearestThumbnail: number }[], probe: Float32Array) => {
      for (const r of results) {
        const samples = target.samples[r.index];
        const first4 = Array.from({ length: 4 }, (_, s) => dot(samples.subarray(s * DIM, (s + 1) * DIM), probe));
        expect(r.nearestThumbnail, `model ${r.index}`).toBe(argmax(first4));
      }
    };
    const text = await rank(withThumbs, { parts: [{ part: { kind: 'text', text: 'a rose' }, weight: 1 }] }, embed);
    expectNearest(text.results, textVec);
    // More like this compares with the query model's mean.
    const like = await rank(withThumbs, { parts: [{ part: { kind: 'model', modelId: 'm4' }, weight: 1 }] }, embed);
    expectNearest(like.results, target.index.means.subarray(4 * DIM, 5 * DIM));
    // No thumbnails, or text + image (two directions): none.
    expect((await rank(target, { parts: [{ part: { kind: 'text', text: 'a rose' }, weight: 1 }] }, embed)).results.every((r) => r.nearestThumbnail === -1)).toBe(true);
    const both = await rank(withThumbs, { parts: [{ part: { kind: 'text', text: 'a rose' }, weight: 1 }, { part: { kind: 'image', image: 'p.png' }, weight: 1 }] }, embed);
    expect(both.results.every((r) => r.nearestThumbnail === -1)).toBe(true);
  });
});

describe('rank on a fine-tuned index', () => {
  it('"more like this" with the fine-tuned method compares projected means', async () => {
    const base = fixture();
    const next = mulberry32(3);
    const projection = Float32Array.from({ length: DIM * DIM }, () => next() - 0.5);
    const means = base.index.means;
    const index = readIndex(writeIndex({ dim: DIM, means, projection }));
    const target = { ...base, index };
    const like = { parts: [{ part: { kind: 'model' as const, modelId: 'm2' }, weight: 1 }] };
    const plain = await rank(target, like, embedder().embed);
    const tuned = await rank(target, { ...like, method: 'fine-tuned' }, embedder().embed);
    expect(plain.method).toBe('first-moment');
    expect(tuned.method).toBe('fine-tuned');
    expect(Array.from(tuned.scores)).toEqual(Array.from(projectedModelSimilarityScores(index, 2)));
    expect(tuned.scores[2]).toBeCloseTo(1, 5);
    expect(Array.from(tuned.scores)).not.toEqual(Array.from(plain.scores));
  });
});

describe('rank with sample images ("models like these images")', () => {
  /** Image "s<m>-<k>" embeds as model m's kept sample k: the rows its stored mean was computed from. */
  const sampleEmbedder = () => {
    const calls: string[] = [];
    const embed = async (part: EmbedPart<string>) => {
      if (part.kind !== 'image') throw new Error('only images here');
      calls.push(`${part.source}:${part.image}`);
      const [m, k] = part.image.slice(1).split('-').map(Number);
      return target.samples[m].slice(k * DIM, (k + 1) * DIM);
    };
    return { calls, embed };
  };
  const imagesOf = (m: number) => Array.from({ length: SAMPLES }, (_, k) => `s${m}-${k}`);
  const samplesQuery = (images: string[], extra: object = {}) => ({ parts: [{ part: { kind: 'samples' as const, images, label: 'mine' }, weight: 1 }], ...extra });

  it('scores exactly as "more like this" from a model whose stored mean is those images\' mean', async () => {
    const { calls, embed } = sampleEmbedder();
    const r = await rank(target, samplesQuery(imagesOf(4), { method: 'gaussian' }), embed);
    expect(calls).toEqual(imagesOf(4).map((i) => `file:${i}`));
    expect(r.method).toBe('first-moment');
    expect(r.kinds).toEqual(['model']);
    expect(Array.from(r.scores)).toEqual(Array.from(modelSimilarityScores(target.index, 4)));
    // Not a model of the index: nothing is left out, so the model built from the same images is first.
    expect(r.queryModel).toBe(-1);
    expect(r.results[0].index).toBe(4);
    expect(r.results.map((x) => x.index)).toEqual(order(r.scores).slice(0, SEARCH_DEFAULTS.topK));
  });

  it('meanSimilarityScores of a stored mean is modelSimilarityScores of its model', () => {
    for (const m of [0, 5, COUNT - 1]) {
      const mean = target.index.means.slice(m * DIM, (m + 1) * DIM);
      expect(Array.from(meanSimilarityScores(target.index, mean))).toEqual(Array.from(modelSimilarityScores(target.index, m)));
    }
    expect(() => meanSimilarityScores(target.index, new Float32Array(DIM + 1))).toThrow(/dimensions/);
  });

  it('uses the projected means when the fine-tuned method is asked for and the index has it', async () => {
    const next = mulberry32(3);
    const projection = Float32Array.from({ length: DIM * DIM }, () => next() - 0.5);
    const index = readIndex(writeIndex({ dim: DIM, means: target.index.means, projection }));
    const tuned = await rank({ ...target, index }, samplesQuery(imagesOf(2), { method: 'fine-tuned' }), sampleEmbedder().embed);
    expect(tuned.method).toBe('fine-tuned');
    const mean = target.index.means.slice(2 * DIM, 3 * DIM);
    expect(Array.from(tuned.scores)).toEqual(Array.from(projectedMeanSimilarityScores(index, mean)));
    // The stored projected means are f16-free here: the same order as the model's own "more like this".
    const like = projectedModelSimilarityScores(index, 2);
    tuned.scores.forEach((s, i) => expect(s).toBeCloseTo(like[i], 5));
    // Without the projection, fine-tuned falls back to the 1st moment as a model query does.
    expect((await rank(target, samplesQuery(imagesOf(2), { method: 'fine-tuned' }), sampleEmbedder().embed)).method).toBe('first-moment');
  });

  it('refuses no images, too many, and samples mixed with other parts, before anything is encoded', async () => {
    const { calls, embed } = sampleEmbedder();
    await expect(rank(target, samplesQuery([]), embed)).rejects.toMatchObject({ code: 'bad-query', message: expect.stringMatching(/at least 1 image/) });
    const many = Array.from({ length: MAX_SAMPLE_IMAGES + 1 }, () => 's0-0');
    await expect(rank(target, samplesQuery(many), embed)).rejects.toThrow(`at most ${MAX_SAMPLE_IMAGES} images (this one has ${MAX_SAMPLE_IMAGES + 1})`);
    const mixed = { parts: [...samplesQuery(imagesOf(1)).parts, { part: { kind: 'text' as const, text: 'red' }, weight: 1 }] };
    expect(() => planQuery(target, mixed)).toThrow(/on their own/);
    expect(() => planQuery(target, { parts: [{ part: { kind: 'samples', images: 'x' as unknown as string[] }, weight: 1 }] })).toThrow(/at least 1 image/);
    expect(calls).toEqual([]);
    // 1000 is allowed: the plan accepts it.
    expect(planQuery(target, samplesQuery(Array.from({ length: MAX_SAMPLE_IMAGES }, () => 's0-0'))).method).toBe('first-moment');
  });

  it('refuses an image the encoder cannot embed for this index', async () => {
    await expect(rank(target, samplesQuery(['a']), async () => new Float32Array(DIM + 1))).rejects.toMatchObject({ code: 'encoder-mismatch' });
  });
});
