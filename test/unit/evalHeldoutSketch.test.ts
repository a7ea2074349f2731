/**
 * The held-out sketch renderer (tools/eval/heldoutSketch.ts): never used by the training export
 * (nothing there imports or mentions it), shares no code with tools/zoo/sketch.ts, and its pure
 * parts do what they say (deterministic for a seed, dark strokes on white, a sensible amount of ink).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  convolveSeparable,
  coverageToRgb,
  gaussianKernel,
  heldOutSketch,
  hysteresis,
  removeSpecks,
  seedOf,
  sketchCoverage,
  thin,
} from '../../tools/eval/heldoutSketch.ts';
import { nodeCanvasFactory } from '../../tools/zoo/node.ts';
import { renderSample } from '../../tools/zoo/render.ts';
import { importClosure } from '../support/importClosure.ts';
import { makeZoo } from '../../tools/zoo/spec.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A few zoo renders (RGB, 224 × 224) of eval-zoo models. */
function renders(count: number): { id: string; rgb: Uint8Array }[] {
  return makeZoo('eval', count, 0).map((spec) => {
    const rgba = renderSample(spec, 1, nodeCanvasFactory);
    const rgb = new Uint8Array((rgba.length / 4) * 3);
    for (let i = 0, j = 0; j < rgba.length; i += 3, j += 4) (rgb[i] = rgba[j]), (rgb[i + 1] = rgba[j + 1]), (rgb[i + 2] = rgba[j + 2]);
    return { id: spec.id, rgb };
  });
}

describe('the held-out sketch renderer stays out of training', () => {
  it('the training export and its worker never import it (nor anything of tools/eval/)', () => {
    for (const entry of ['tools/zoo/export-training-data.ts', 'tools/zoo/export-worker.ts']) {
      const closure = importClosure(entry);
      expect(closure.length).toBeGreaterThan(3);
      expect(closure, entry).not.toContain('tools/eval/heldoutSketch.ts');
      expect(closure.filter((f) => f.startsWith('tools/eval/')), entry).toEqual([]);
    }
  });

  it('no file of tools/zoo/ or tools/zoo-encoder/ mentions it', () => {
    for (const dir of ['tools/zoo', 'tools/zoo-encoder']) {
      for (const f of readdirSync(join(ROOT, dir))) {
        if (!/\.(ts|py|md|json|sh)$/.test(f)) continue;
        const src = readFileSync(join(ROOT, dir, f), 'utf8');
        expect(src, `${dir}/${f}`).not.toMatch(/heldoutSketch|heldOutSketch|heldout-sketch|held-out sketch/i);
      }
    }
  });

  it('shares no code with the zoo: it imports nothing of tools/ but itself, only the project PRNG from src/', () => {
    const closure = importClosure('tools/eval/heldoutSketch.ts');
    expect(closure.sort()).toEqual(['src/core/math/prng.ts', 'tools/eval/heldoutSketch.ts']);
    const src = readFileSync(join(ROOT, 'tools/eval/heldoutSketch.ts'), 'utf8');
    expect(src).not.toMatch(/from ['"][^'"]*zoo\//);
  });

  it('the eval uses it only from the robustness suites', () => {
    const users = readdirSync(join(ROOT, 'tools/eval'))
      .filter((f) => f.endsWith('.ts') && f !== 'heldoutSketch.ts')
      .filter((f) => /heldoutSketch\.ts/.test(readFileSync(join(ROOT, 'tools/eval', f), 'utf8')));
    expect(users.sort()).toEqual(['robustness.ts', 'run.ts']);
  });
});

describe('the renderer’s parts', () => {
  it('a Gaussian kernel sums to 1, is symmetric, and convolution keeps a constant plane', () => {
    const k = gaussianKernel(1.4);
    expect(k.length).toBe(2 * Math.ceil(4.2) + 1);
    expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    for (let i = 0; i < k.length; i++) expect(k[i]).toBeCloseTo(k[k.length - 1 - i], 7);
    const flat = new Float32Array(20 * 10).fill(0.3);
    for (const v of convolveSeparable(flat, 20, 10, k)) expect(v).toBeCloseTo(0.3, 6);
  });

  it('hysteresis keeps weak pixels connected to strong ones; specks go; thinning leaves a one-pixel line', () => {
    const w = 12;
    const resp = new Float32Array(w * 3);
    resp.set([0, 1, 0.5, 0.5, 0, 0, 0.5, 0.5, 0, 0, 0, 0], 0);
    const m = hysteresis(resp, w, 3, 0.9, 0.4);
    expect([...m.slice(0, w)]).toEqual([0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const specks = new Uint8Array(w * 3);
    specks.set([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], 0);
    removeSpecks(specks, w, 3, 3);
    expect([...specks]).toEqual(new Array(w * 3).fill(0));
    // a 3-pixel-thick bar thins to (about) one pixel per column
    const bw = 20;
    const bar = new Uint8Array(bw * 7);
    for (let y = 2; y <= 4; y++) for (let x = 2; x < 18; x++) bar[y * bw + x] = 1;
    thin(bar, bw, 7);
    for (let x = 4; x < 16; x++) expect(bar[2 * bw + x] + bar[3 * bw + x] + bar[4 * bw + x]).toBe(1);
  });

  it('a flat image stays blank', () => {
    const rgb = new Uint8Array(64 * 64 * 3).fill(180);
    expect(Math.max(...sketchCoverage(rgb, 64, 64, 7))).toBe(0);
  });

  it('is deterministic for a seed, and the seed changes the strokes', () => {
    const [{ id, rgb }] = renders(1);
    const a = sketchCoverage(rgb, 224, 224, seedOf(id));
    expect(sketchCoverage(rgb, 224, 224, seedOf(id))).toEqual(a);
    const b = sketchCoverage(rgb, 224, 224, seedOf(`${id}-other`));
    expect(b).not.toEqual(a);
    expect(seedOf(id)).toBe(seedOf(id));
  });

  it('draws dark strokes on white with 2–30 % ink on zoo renders', () => {
    for (const { id, rgb } of renders(6)) {
      const out = coverageToRgb(sketchCoverage(rgb, 224, 224, seedOf(id)));
      let ink = 0;
      let white = 0;
      for (let i = 0; i < out.length; i += 3) {
        const [r, g, b] = [out[i], out[i + 1], out[i + 2]];
        // grey-blue ink or white paper only: no colour of the render survives
        expect(Math.max(r, g, b) - Math.min(r, g, b), id).toBeLessThanOrEqual(14);
        if (r < 200) ink++; // coverage ≥ ¼: a visible stroke
        if (r === 255) white++;
      }
      const n = out.length / 3;
      expect(ink / n, id).toBeGreaterThan(0.02);
      expect(ink / n, id).toBeLessThan(0.3);
      expect(white / n, id).toBeGreaterThan(0.6);
    }
  });

  it('heldOutSketch turns PNG bytes into a same-size PNG', async () => {
    const [{ id, rgb }] = renders(1);
    const png = await sharp(Buffer.from(rgb), { raw: { width: 224, height: 224, channels: 3 } }).png().toBuffer();
    const out = await heldOutSketch(png, seedOf(id));
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([224, 224, 'png']);
    expect(await heldOutSketch(png, seedOf(id))).toEqual(out);
  });
});
