import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cleansingMask } from '../../src/core/scoring/styleDistance.ts';
import { contentSets, MAX_REFERENCE } from '../../tools/style-zoo/content.ts';
import { rankOf, styleZooConfig } from '../../tools/style-zoo/eval.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import {
  composedTrainingStyles,
  pixelMse,
  STYLE_TRANSFORMS,
  stylesOf,
  type RgbaPixels,
} from '../../tools/style-zoo/transforms.ts';

/** A small deterministic test card: gradients, a disc and stripes (so every transform has work). */
function testCard(size = 48): RgbaPixels {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = (y * size + x) * 4;
      const inDisc = (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 4) ** 2;
      data[p] = inDisc ? 220 : (x * 255) / size;
      data[p + 1] = inDisc ? 40 : (y * 255) / size;
      data[p + 2] = (x >> 2) % 2 ? 200 : 60;
      data[p + 3] = 255;
    }
  }
  return { data, width: size, height: size };
}

describe('style transforms', () => {
  it('has ≥ 60 distinct, named transforms in ≥ 20 families, split into eval and train', () => {
    expect(STYLE_TRANSFORMS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(STYLE_TRANSFORMS.map((t) => t.id)).size).toBe(STYLE_TRANSFORMS.length);
    expect(new Set(STYLE_TRANSFORMS.map((t) => t.name)).size).toBe(STYLE_TRANSFORMS.length);
    expect(new Set(STYLE_TRANSFORMS.map((t) => t.family)).size).toBeGreaterThanOrEqual(20);
    expect(stylesOf('eval').length).toBeGreaterThanOrEqual(60);
    expect(stylesOf('train').length).toBeGreaterThanOrEqual(60);
    for (const t of STYLE_TRANSFORMS) expect(t.id).toMatch(/^[a-z0-9.-]+$/);
  });

  it('every transform is deterministic, keeps the size and alpha, and changes the test card', () => {
    const img = testCard();
    const copy = img.data.slice();
    for (const t of STYLE_TRANSFORMS) {
      const a = t.apply(img);
      const b = t.apply(img);
      expect(a.width, t.id).toBe(img.width);
      expect(a.height, t.id).toBe(img.height);
      expect(a.data.length, t.id).toBe(img.data.length);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data)), `${t.id} is not deterministic`).toBe(true);
      for (let p = 3; p < a.data.length; p += 4) if (a.data[p] !== 255) throw new Error(`${t.id} changed alpha`);
      expect(pixelMse(img, a), t.id).toBeGreaterThan(0);
    }
    expect(Buffer.from(img.data).equals(Buffer.from(copy)), 'a transform modified its input').toBe(true);
  });

  it('composed training styles only use training transforms and never collide with evaluation ids', () => {
    const evalIds = new Set(stylesOf('eval').map((t) => t.id));
    const trainIds = new Set(stylesOf('train').map((t) => t.id));
    const composed = composedTrainingStyles(64);
    expect(composed.length).toBe(64);
    expect(composedTrainingStyles(64).map((t) => t.id)).toEqual(composed.map((t) => t.id));
    for (const t of composed) {
      expect(t.split).toBe('train');
      expect(evalIds.has(t.id)).toBe(false);
      for (const part of t.id.split('+')) expect(trainIds.has(part), part).toBe(true);
    }
  });

  it('pixelMse is on the [0,1] scale: black vs white is 1, identical is 0', () => {
    const black = { data: new Uint8ClampedArray(16).fill(0), width: 2, height: 2 };
    const white = { data: new Uint8ClampedArray(16).fill(255), width: 2, height: 2 };
    for (const im of [black, white]) for (let p = 3; p < 16; p += 4) im.data[p] = 255;
    expect(pixelMse(black, white)).toBeCloseTo(1, 10);
    expect(pixelMse(white, white)).toBe(0);
    // The seed's rule on real pixels: a barely-changed image is dropped, a restyled one kept.
    const card = testCard();
    const nudged = { ...card, data: card.data.map((v, i) => (i % 4 === 3 ? v : Math.min(255, v + 5))) };
    const invert = STYLE_TRANSFORMS.find((t) => t.id === 'invert')!.apply(card);
    expect(Array.from(cleansingMask(Float32Array.from([pixelMse(card, nudged), pixelMse(card, invert)])))).toEqual([0, 1]);
  });
});

describe('style zoo splits', () => {
  it('reference set, query content and training content are disjoint zoo models; quick sets are prefixes', () => {
    const full = styleZooConfig(false);
    const quick = styleZooConfig(true);
    const { reference, query, train } = full.content;
    expect(reference.length).toBe(16);
    expect(reference.length).toBeLessThanOrEqual(MAX_REFERENCE);
    const specs = (xs: { spec: { id: string } }[]) => new Set(xs.map((x) => x.spec.id));
    const [r, q, t] = [specs(reference), specs(query), specs(train)];
    for (const id of q) expect(r.has(id)).toBe(false);
    for (const id of t) expect(r.has(id) || q.has(id)).toBe(false);
    expect(reference.every((c) => c.spec.split === 'eval' && c.spec.style === 'flat')).toBe(true);
    expect(query.every((c) => c.spec.split === 'eval' && c.spec.style === 'flat')).toBe(true);
    expect(train.every((c) => c.spec.split === 'train' && c.spec.style === 'flat')).toBe(true);
    expect(quick.content.reference.map((c) => c.key)).toEqual(reference.slice(0, quick.content.reference.length).map((c) => c.key));
    expect(quick.content.query.map((c) => c.key)).toEqual(query.slice(0, quick.content.query.length).map((c) => c.key));
    // Evaluation and training styles never overlap.
    const evalIds = new Set(full.evalStyles.map((s) => s.id));
    expect(full.trainStyles.some((s) => evalIds.has(s.id))).toBe(false);
    expect(full.queriesPerStyle).toBeGreaterThanOrEqual(2);
    expect(quick.queriesPerStyle).toBeGreaterThanOrEqual(2);
  });

  it('content sets are deterministic', () => {
    const a = contentSets({ reference: 4, query: 3, train: 2 });
    const b = contentSets({ reference: 4, query: 3, train: 2 });
    expect(a.reference.map((c) => c.key)).toEqual(b.reference.map((c) => c.key));
    expect(a.train.map((c) => c.key)).toEqual(b.train.map((c) => c.key));
  });
});

describe('rankOf', () => {
  it('ranks by score, counting ties and NaN against the truth', () => {
    expect(rankOf(Float32Array.from([0.1, 0.9, 0.5]), 1)).toBe(1);
    expect(rankOf(Float32Array.from([0.1, 0.9, 0.5]), 0)).toBe(3);
    expect(rankOf(Float32Array.from([0.5, 0.5, 0.1]), 0)).toBe(2);
    expect(rankOf(Float32Array.from([-Infinity, -Infinity, 0]), 0)).toBe(3);
    expect(rankOf(Float32Array.from([NaN, 1, 0]), 0)).toBe(3);
  });
});

const PYTHON = process.env.STYLE_ZOO_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasTorch)('train_style_projection.py', () => {
  it('learns a projection that separates styles on synthetic data, deterministically', () => {
    // Features = content (large, random) + style (small, per style): P must suppress content.
    const dir = mkdtempSync(join(tmpdir(), 'style-proj-'));
    try {
      const D = 8, styles = 10, contents = 8;
      const next = mulberry32(7);
      const rand = () => next() * 2 - 1;
      const content = Array.from({ length: contents }, () => Array.from({ length: D }, (_, j) => (j < 4 ? rand() : 0)));
      const style = Array.from({ length: styles }, () => Array.from({ length: D }, (_, j) => (j >= 4 ? 0.3 * rand() : 0)));
      const feats = new Float32Array(styles * contents * D);
      const st: number[] = [], ct: number[] = [];
      for (let s = 0; s < styles; s++) for (let c = 0; c < contents; c++) {
        for (let j = 0; j < D; j++) feats[(s * contents + c) * D + j] = content[c][j] + style[s][j];
        st.push(s);
        ct.push(c);
      }
      writeFileSync(join(dir, 'features.f32'), new Uint8Array(feats.buffer));
      writeFileSync(join(dir, 'meta.json'), JSON.stringify({ n: st.length, dim: D, styles: st, contents: ct }));
      const script = fileURLToPath(new URL('../../tools/style-zoo/train_style_projection.py', import.meta.url));
      const run = (out: string) => {
        const r = spawnSync(PYTHON, [script, dir, join(dir, out), '--steps', '200', '--styles-per-batch', '6', '--contents-per-batch', '4', '--val-frac', '0.3'], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(readFileSync(join(dir, out), 'utf8')) as { matrix: number[][]; validation: { mrrPlain: number; mrrProjected: number } };
      };
      const a = run('a.json');
      const b = run('b.json');
      expect(a.matrix.length).toBe(D);
      expect(a.matrix.every((row) => row.length === D && row.every(Number.isFinite))).toBe(true);
      expect(b.matrix).toEqual(a.matrix);
      // Content dimensions are shrunk relative to style dimensions.
      const colNorm = (j: number) => Math.hypot(...a.matrix.map((row) => row[j]));
      const contentGain = [0, 1, 2, 3].reduce((s, j) => s + colNorm(j), 0);
      const styleGain = [4, 5, 6, 7].reduce((s, j) => s + colNorm(j), 0);
      expect(styleGain).toBeGreaterThan(contentGain);
      expect(a.validation.mrrProjected).toBeGreaterThanOrEqual(a.validation.mrrPlain);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
