import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../io/errors.ts';
import { RRF_K, applyFilterMask, createMetadataSearch, hybridScores, metadataRelevance } from './hybrid.ts';
import { parseModels, type ModelMeta } from '../index/manifest.ts';
import { countMatching } from './queryFilters.ts';
import { topK } from './topK.ts';

function model(name: string, family: string, creator: string, description = ''): ModelMeta {
  return { id: name.toLowerCase().replace(/\s+/g, '-'), name, description, family, creator, licence: 'CC0-1.0', resolution: '', links: [], thumbnails: [] };
}

const MODELS: ModelMeta[] = [
  model('Watercolour Lighthouse', 'lighthouse', 'alice', 'Soft washes of a coastal lighthouse.'),
  model('Neon Rocket', 'rocket', 'bob', 'A rocket in neon colours.'),
  model('Pixel Rocket XL', 'rocket', 'carol'),
  model('Calm Forest', 'tree', 'dave', 'Trees and a rocket-shaped cloud.'),
  model('Amber Bird', 'bird', 'rocketeer'),
];

const order = (scores: Float32Array) => topK(scores, scores.length).map((r) => r.index);

describe('metadata search', () => {
  const search = createMetadataSearch(MODELS);

  it('scores matching models and leaves the rest at 0', () => {
    const rel = metadataRelevance(search, 'rocket', MODELS.length);
    expect(rel).toHaveLength(MODELS.length);
    expect(rel[0]).toBe(0);
    for (const i of [1, 2, 3, 4]) expect(rel[i]).toBeGreaterThan(0);
    // A name hit (boost 3) beats a description hit (boost 1).
    expect(rel[1]).toBeGreaterThan(rel[3]);
  });

  it('finds a model by a misspelt name (fuzzy) and by a prefix', () => {
    const typo = metadataRelevance(search, 'lighthuose', MODELS.length);
    expect(order(typo)[0]).toBe(0);
    expect(typo[0]).toBeGreaterThan(0);
    const prefix = metadataRelevance(search, 'waterc', MODELS.length);
    expect(order(prefix)[0]).toBe(0);
  });

  it('gives all zeros for empty text', () => {
    expect(Array.from(metadataRelevance(search, '   ', MODELS.length))).toEqual([0, 0, 0, 0, 0]);
  });

  it('finds a demo model by a typo in its name', () => {
    const models = parseModels(JSON.parse(readFileSync(new URL('../../../public/index/demo/models.json', import.meta.url), 'utf8')), 300);
    const target = models.findIndex((m) => m.name === 'Amber Bird Poster XL');
    expect(target).toBeGreaterThanOrEqual(0);
    const rel = metadataRelevance(createMetadataSearch(models), 'ambr bird postr', models.length);
    expect(order(rel)[0]).toBe(target);
  });
});

describe('hybridScores', () => {
  // Content order: 2, 0, 3, 1, 4 (index 4 is non-finite and ranks last).
  const content = new Float32Array([5, -1200, 9, 0.5, NaN]);
  // Text matches: 4 best, then 1; the rest do not match.
  const relevance = new Float32Array([0, 3, 0, 0, 7]);

  it('w = 0 reproduces the content order exactly', () => {
    expect(order(hybridScores(content, relevance, 0))).toEqual([2, 0, 3, 1, 4]);
    const scales = new Float32Array([0.31, 0.29, 0.31, -0.5, 0.99, 0.3]);
    expect(order(hybridScores(scales, new Float32Array(6).fill(1), 0))).toEqual(order(scales));
  });

  it('w = 1 puts matches first, by relevance', () => {
    expect(order(hybridScores(content, relevance, 1)).slice(0, 2)).toEqual([4, 1]);
  });

  it('computes the weighted reciprocal-rank fusion', () => {
    const w = 0.25;
    const s = hybridScores(content, relevance, w);
    const rrf = (rank: number) => 1 / (RRF_K + rank);
    const expected = [
      (1 - w) * rrf(2),
      (1 - w) * rrf(4) + w * rrf(2),
      (1 - w) * rrf(1),
      (1 - w) * rrf(3),
      (1 - w) * rrf(5) + w * rrf(1),
    ];
    expected.forEach((e, i) => expect(s[i]).toBeCloseTo(e, 7));
    // Near the top, RRF terms differ little between ranks, so even a quarter weight on a text match
    // lifts it past the best content-only model.
    expect(order(s)).toEqual([1, 4, 2, 0, 3]);
  });

  it('ranks ties by index and every non-finite score last', () => {
    const s = hybridScores(new Float32Array([1, Infinity, 1, -Infinity, 2]), new Float32Array(5), 0);
    expect(order(s)).toEqual([4, 0, 2, 1, 3]);
  });

  it('rejects a text weight outside [0, 1]', () => {
    for (const w of [-0.1, 1.5, NaN, Infinity]) {
      expect(() => hybridScores(content, relevance, w)).toThrow(AppError);
    }
    try {
      hybridScores(content, relevance, 2);
    } catch (e) {
      expect((e as AppError).code).toBe('bad-query');
    }
  });
});

describe('applyFilterMask', () => {
  it('sets models that fail the filters to -Infinity, on a copy', () => {
    const scores = new Float32Array([0.1, 0.9, 0.5, 0.7, 0.3]);
    const filters = { family: ['rocket', 'bird'] };
    const masked = applyFilterMask(scores, MODELS, filters);
    expect(Array.from(masked)).toEqual([-Infinity, Math.fround(0.9), Math.fround(0.5), -Infinity, Math.fround(0.3)]);
    expect(scores[0]).toBeCloseTo(0.1);
    expect(countMatching(MODELS, filters)).toBe(3);
    expect(topK(masked, 3).map((r) => r.index)).toEqual([1, 2, 4]);
    expect(Array.from(applyFilterMask(scores, MODELS, {}))).toEqual(Array.from(scores));
  });

  it('topK does not skip -Infinity by itself: drop non-finite results (or cap k)', () => {
    const masked = applyFilterMask(new Float32Array([1, 2, 3, 4, 5]), MODELS, { creator: ['alice'] });
    expect(topK(masked, 3).map((r) => r.score)).toEqual([1, -Infinity, -Infinity]);
  });

  it('masks after fusion, with masked content ranking last before it', () => {
    const filters = { family: ['rocket'] };
    const content = applyFilterMask(new Float32Array([9, 1, 2, 8, 3]), MODELS, filters);
    const relevance = new Float32Array([5, 0, 1, 0, 9]);
    const fused = applyFilterMask(hybridScores(content, relevance, 0.5), MODELS, filters);
    expect(topK(fused, 5).filter((r) => r.score > -Infinity).map((r) => r.index)).toEqual([2, 1]);
  });
});
