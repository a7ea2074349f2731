import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { flattenAlpha, preprocessRgba, type PreprocessOptions, type RgbaImage } from './preprocess.ts';
import { mulberry32 as rng } from '../math/prng.ts';

const CLIP: PreprocessOptions = {
  size: 224,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};
const PLANE = 224 * 224;

/** The normalised value of an 8-bit channel value. */
const norm = (v: number, c: number) => (v / 255 - CLIP.mean[c]) / CLIP.std[c];

function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number?]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = pixel(x, y);
      data.set([r, g, b, a], (y * width + x) * 4);
    }
  }
  return { data, width, height };
}

/** Value of channel c at (x, y) of a CHW output of side `size`. */
const at = (out: Float32Array, c: number, x: number, y: number, size = 224) => out[c * size * size + y * size + x];

describe('preprocessRgba basics', () => {
  it('is the identity resample for a 224×224 input: output = (rgb/255 − mean)/std in CHW', () => {
    const r = rng(1);
    const img = image(224, 224, () => [Math.floor(r() * 256), Math.floor(r() * 256), Math.floor(r() * 256), 255]);
    const out = preprocessRgba(img, CLIP);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out).toHaveLength(3 * PLANE);
    let maxErr = 0;
    for (let y = 0; y < 224; y++) {
      for (let x = 0; x < 224; x++) {
        const p = (y * 224 + x) * 4;
        for (let c = 0; c < 3; c++) {
          maxErr = Math.max(maxErr, Math.abs(at(out, c, x, y) - norm(img.data[p + c], c)));
        }
      }
    }
    expect(maxErr).toBeLessThan(1e-5);
  });

  it('accepts a Uint8Array as well as a Uint8ClampedArray, with the same result', () => {
    const r = rng(2);
    const img = image(50, 40, () => [Math.floor(r() * 256), Math.floor(r() * 256), Math.floor(r() * 256)]);
    const a = preprocessRgba(img, CLIP);
    const b = preprocessRgba({ ...img, data: new Uint8Array(img.data) }, CLIP);
    expect(b).toEqual(a);
  });

  it('flattens transparency onto black (colour × alpha), as a browser canvas keeps it', () => {
    const r = rng(3);
    const rgba = image(64, 48, () => [Math.floor(r() * 256), Math.floor(r() * 256), Math.floor(r() * 256), Math.floor(r() * 256)]);
    const flattened = image(64, 48, (x, y) => {
      const p = (y * 64 + x) * 4;
      const a = rgba.data[p + 3] / 255;
      return [rgba.data[p] * a, rgba.data[p + 1] * a, rgba.data[p + 2] * a, 255];
    });
    const out = preprocessRgba(rgba, CLIP);
    const ref = preprocessRgba(flattened, CLIP);
    // The reference went through 8-bit storage (half a grey level, a little more after bicubic).
    for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - ref[i])).toBeLessThan(1 / 255 / 0.26);
    // What was stored under a fully transparent pixel does not count: a browser canvas has lost it.
    const hidden = image(40, 40, (x) => (x < 20 ? [255, 0, 0, 0] : [0, 0, 255, 255]));
    const black = image(40, 40, (x) => (x < 20 ? [0, 0, 0, 255] : [0, 0, 255, 255]));
    expect(preprocessRgba(hidden, CLIP)).toEqual(preprocessRgba(black, CLIP));
  });

  it('leaves opaque images exactly as they are', () => {
    const r = rng(4);
    const opaque = image(64, 48, () => [Math.floor(r() * 256), Math.floor(r() * 256), Math.floor(r() * 256), 255]);
    expect(flattenAlpha(opaque.data, 64 * 48)).toBe(opaque.data);
  });

  it('writes into the provided output array and returns it', () => {
    const img = image(30, 30, () => [10, 20, 30]);
    const backing = new Float32Array(3 * PLANE + 10).fill(-99);
    const out = backing.subarray(5, 5 + 3 * PLANE);
    const result = preprocessRgba(img, CLIP, out);
    expect(result).toBe(out);
    expect(backing[4]).toBe(-99);
    expect(backing[5 + 3 * PLANE]).toBe(-99);
    expect(Array.from(out).some((v) => v === -99)).toBe(false);
  });

  it('honours a different output size', () => {
    const out = preprocessRgba(image(100, 60, () => [255, 0, 0]), { ...CLIP, size: 16 });
    expect(out).toHaveLength(3 * 16 * 16);
    for (let i = 0; i < 256; i++) expect(out[i]).toBeCloseTo(norm(255, 0), 5);
  });

  it.each([
    ['width 0', { data: new Uint8Array(0), width: 0, height: 10 }],
    ['height 0', { data: new Uint8Array(40), width: 10, height: 0 }],
    ['NaN width', { data: new Uint8Array(40), width: NaN, height: 10 }],
    ['one byte short', { data: new Uint8Array(10 * 10 * 4 - 1), width: 10, height: 10 }],
    ['RGB instead of RGBA', { data: new Uint8Array(10 * 10 * 3), width: 10, height: 10 }],
    ['empty data', { data: new Uint8Array(0), width: 3, height: 3 }],
  ])('throws on %s', (_label, img) => {
    expect(() => preprocessRgba(img, CLIP)).toThrow(/empty or truncated/);
  });
});

describe('preprocessRgba geometry', () => {
  it('maps a solid 640×480 image to a constant per channel', () => {
    const colour: [number, number, number] = [200, 100, 50];
    const out = preprocessRgba(image(640, 480, () => colour), CLIP);
    expect(out).toHaveLength(3 * PLANE);
    for (let c = 0; c < 3; c++) {
      const expected = norm(colour[c], c);
      let maxErr = 0;
      for (let i = 0; i < PLANE; i++) maxErr = Math.max(maxErr, Math.abs(out[c * PLANE + i] - expected));
      expect(maxErr).toBeLessThan(1e-5);
    }
  });

  it('keeps pure black and pure white exact (clamped, no overshoot)', () => {
    for (const v of [0, 255]) {
      const out = preprocessRgba(image(333, 517, () => [v, v, v]), CLIP);
      for (let c = 0; c < 3; c++) expect(Math.abs(at(out, c, 111, 222) - norm(v, c))).toBeLessThan(1e-5);
    }
  });

  it('300×200 left red / right blue: red on the left, blue on the right after resize + centre crop', () => {
    // Shortest edge 200 → 224, so 300 → 336 and the crop keeps resized columns 56..279, i.e. source
    // columns 50..249. The split at source x = 150 lands at output column (150 − 50) × 224/200 = 112.
    // Source columns < 50 and ≥ 250 are green: they are cropped away and may only bleed into the
    // outermost columns through the 2-pixel bicubic support.
    const img = image(300, 200, (x) => (x < 50 || x >= 250 ? [0, 255, 0] : x < 150 ? [255, 0, 0] : [0, 0, 255]));
    const out = preprocessRgba(img, CLIP);
    const red = [norm(255, 0), norm(0, 1), norm(0, 2)];
    const blue = [norm(0, 0), norm(0, 1), norm(255, 2)];
    for (let y = 0; y < 224; y += 13) {
      for (let x = 3; x <= 108; x++) for (let c = 0; c < 3; c++) expect(Math.abs(at(out, c, x, y) - red[c])).toBeLessThan(1e-5);
      for (let x = 116; x <= 220; x++) for (let c = 0; c < 3; c++) expect(Math.abs(at(out, c, x, y) - blue[c])).toBeLessThan(1e-5);
    }
    // Across the edge red falls and blue rises monotonically, crossing halfway at column 111/112.
    const rRow = Array.from({ length: 10 }, (_, i) => at(out, 0, 107 + i, 100));
    const bRow = Array.from({ length: 10 }, (_, i) => at(out, 2, 107 + i, 100));
    for (let i = 1; i < 10; i++) {
      expect(rRow[i]).toBeLessThanOrEqual(rRow[i - 1] + 1e-6);
      expect(bRow[i]).toBeGreaterThanOrEqual(bRow[i - 1] - 1e-6);
    }
    const mid = (norm(255, 0) + norm(0, 0)) / 2;
    expect(at(out, 0, 111, 100)).toBeGreaterThan(mid);
    expect(at(out, 0, 112, 100)).toBeLessThan(mid);
    // Every row is the same (the image has no vertical structure).
    for (let c = 0; c < 3; c++) {
      for (let x = 0; x < 224; x += 7) expect(at(out, c, x, 223)).toBe(at(out, c, x, 0));
    }
    // Green only bleeds into the outer 3 columns, and only a little.
    for (let y = 0; y < 224; y += 50) {
      for (const x of [0, 1, 2, 221, 222, 223]) expect(at(out, 1, x, y)).toBeLessThan(norm(40, 1));
    }
  });

  it('200×300 top red / bottom blue: the crop is vertical for portrait images', () => {
    const img = image(200, 300, (_x, y) => (y < 150 ? [255, 0, 0] : [0, 0, 255]));
    const out = preprocessRgba(img, CLIP);
    for (let x = 0; x < 224; x += 11) {
      expect(Math.abs(at(out, 0, x, 20) - norm(255, 0))).toBeLessThan(1e-5);
      expect(Math.abs(at(out, 2, x, 20) - norm(0, 2))).toBeLessThan(1e-5);
      expect(Math.abs(at(out, 0, x, 200) - norm(0, 0))).toBeLessThan(1e-5);
      expect(Math.abs(at(out, 2, x, 200) - norm(255, 2))).toBeLessThan(1e-5);
    }
  });
});

// Reference from tools/reference/make_preprocess_fixture.py (Pillow + numpy).
// Regenerate with: /usr/bin/python3 tools/reference/make_preprocess_fixture.py
interface PreprocessCase {
  name: string;
  width: number;
  height: number;
  size: number;
  resized: [number, number];
  rgbBase64: string;
  positions: number[];
  /** Hugging Face CLIPImageProcessor pipeline with Pillow (8-bit intermediate). */
  pil: number[];
  /** Same filter evaluated in float64 without rounding (intermediate clipped like Pillow). */
  float: number[];
}
const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/preprocess-case.json', import.meta.url), 'utf8'),
) as { mean: [number, number, number]; std: [number, number, number]; cases: PreprocessCase[] };

/**
 * Tolerance against Pillow, in normalised units. Pillow rounds to uint8 after the horizontal pass
 * (≤ 0.5 grey level, amplified by at most Σ|w| = 1.25 of the bicubic taps in the vertical pass) and
 * after the vertical pass (≤ 0.5): ≤ 1.125 grey levels, i.e. 1.125 / 255 / 0.2613 (smallest std)
 * ≈ 0.0169, plus Pillow's 22-bit fixed-point weights (negligible). 0.02 leaves a little headroom.
 */
const PIL_TOLERANCE = 0.02;
/**
 * Against the float64 reference only the fixture's 5-decimal rounding (≤ 5e-6) and float32
 * accumulation (~1e-6) remain; measured max 5.2e-6.
 */
const FLOAT_TOLERANCE = 2e-5;

describe.each(fixture.cases)('preprocessRgba vs reference: $name', (c) => {
  const rgb = Buffer.from(c.rgbBase64, 'base64');
  const rgba = new Uint8Array(c.width * c.height * 4);
  for (let i = 0; i < c.width * c.height; i++) {
    rgba[i * 4] = rgb[i * 3];
    rgba[i * 4 + 1] = rgb[i * 3 + 1];
    rgba[i * 4 + 2] = rgb[i * 3 + 2];
    rgba[i * 4 + 3] = 255;
  }
  const out = preprocessRgba({ data: rgba, width: c.width, height: c.height }, { size: c.size, mean: fixture.mean, std: fixture.std });

  it('has the expected input and output sizes', () => {
    expect(rgb.byteLength).toBe(c.width * c.height * 3);
    expect(out).toHaveLength(3 * c.size * c.size);
    expect(c.positions.length).toBe(c.pil.length);
    expect(c.positions.length).toBe(c.float.length);
  });

  it(`matches the float64 re-implementation of Pillow's filter within ${FLOAT_TOLERANCE}`, () => {
    let maxErr = 0;
    c.positions.forEach((p, i) => (maxErr = Math.max(maxErr, Math.abs(out[p] - c.float[i]))));
    expect(maxErr).toBeLessThan(FLOAT_TOLERANCE);
  });

  it(`matches Hugging Face / Pillow within ${PIL_TOLERANCE} (≈ 1.3 grey levels)`, () => {
    let maxErr = 0;
    let sumErr = 0;
    c.positions.forEach((p, i) => {
      const e = Math.abs(out[p] - c.pil[i]);
      maxErr = Math.max(maxErr, e);
      sumErr += e;
    });
    expect(maxErr).toBeLessThan(PIL_TOLERANCE);
    // Rounding errors average well below the worst case.
    expect(sumErr / c.positions.length).toBeLessThan(0.006);
  });
});
