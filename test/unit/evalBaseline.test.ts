import { describe, expect, it } from 'vitest';
import type { ModelMeta } from '../../src/core/index/manifest.ts';
import { metadataBaseline } from '../../tools/eval/baseline.ts';
import { queryMetrics } from '../../tools/eval/metrics.ts';

const model = (id: string, name: string, description: string, family: string, creator = 'someone'): ModelMeta => ({
  id,
  name,
  description,
  family,
  creator,
  licence: 'CC0-1.0',
  resolution: '224×224',
  links: [],
  thumbnails: [],
});

const MODELS = [
  model('a', 'Neon Koi Halftone', 'Generates a koi fish in neon colours on a plain background.', 'fish'),
  model('b', 'Ocean Cat Pixel', 'Generates two cats in ocean blue colours on stripes, pixel art.', 'cat'),
  model('c', 'Golden Kitty Film', 'Generates a kitten in gold colours on a landscape, film grain.', 'cat'),
  model('d', 'Pastel Cottage Vector', 'Generates a house in pastel colours on polka dots.', 'house', 'velvet_otter42'),
];

describe('metadata baseline', () => {
  const baseline = metadataBaseline(MODELS);

  it('scores one value per model, 0 for models the search does not return', () => {
    const s = baseline.scores('koi');
    expect(s).toHaveLength(MODELS.length);
    expect(s[0]).toBeGreaterThan(0);
    expect([s[1], s[2], s[3]]).toEqual([0, 0, 0]);
  });

  it('searches name, description, family and creator', () => {
    expect(baseline.scores('cottage')[3]).toBeGreaterThan(0); // name
    expect(baseline.scores('polka')[3]).toBeGreaterThan(0); // description
    expect(baseline.scores('house')[3]).toBeGreaterThan(0); // family + description
    expect(baseline.scores('velvet_otter42')[3]).toBeGreaterThan(0); // creator
  });

  it('a subject word finds the models whose card names it (prefix: "cat" also finds "cats")', () => {
    const s = baseline.scores('cat');
    expect(s[1]).toBeGreaterThan(0);
    expect(s[2]).toBeGreaterThan(0); // family "cat"
    expect(s[0]).toBe(0);
  });

  it('ignores stop words and query filler', () => {
    expect([...baseline.scores('show me a picture of the')]).toEqual([0, 0, 0, 0]);
  });

  it('an unmatched query ranks every model at chance', () => {
    const m = queryMetrics(baseline.scores('zeppelin'), [2]);
    expect(m.topK[1]).toBeCloseTo(1 / MODELS.length, 12);
  });
});
