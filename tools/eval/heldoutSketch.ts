/**
 * The held-out sketch renderer of the robustness suites (docs/eval.md "Robustness suites"): an
 * eval-only route from a clean render to a hand-like sketch that shares no code and no parameter
 * with tools/zoo/sketch.ts (what made the zoo encoder's sketch training data), so the
 * "sketch, held-out renderer" suite measures generalisation, not memory.
 *
 * Route (every step its own code, here):
 *   1. luminance with Rec. 709 weights, and two chroma axes (CIE-like a = R−G, b = (R+G)/2−B),
 *      in [0, 1];
 *   2. difference of Gaussians at two scales (true sampled Gaussian kernels, σ = 1.4 and 3.2 px,
 *      each against 1.6 σ, separable convolution; the coarse one ×0.7, so it only wins where the fine one is weak): ink on the dark side of luminance edges (DoG < 0), and on either side of
 *      colour edges at half weight;
 *   3. hysteresis thresholding on the response's own distribution (strong: the 93rd percentile,
 *      weak: half of it; never below an absolute floor so flat images stay blank), then specks
 *      (connected components under 20 px) removed;
 *   4. Zhang–Suen thinning to one-pixel centre lines, then re-inking with a round pen whose radius
 *      wanders along the image (a smooth seeded field, 0.6–1.9 px): stroke thickness like a hand's;
 *   5. hand-like jitter: the strokes are displaced by a smooth seeded random field (bilinear
 *      between a 6 × 6 grid of offsets up to ±2.6 px), and a few pen lifts (short gaps) are cut;
 *   6. dark grey-blue ink (pencil-like, not pure black) on white, 224 × 224 PNG.
 *
 * Seeded with src/core/math/prng.ts mulberry32 (the project's one PRNG). Nothing under tools/zoo/
 * or tools/zoo-encoder/ imports or mentions this file (test/unit/evalHeldoutSketch.test.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../src/core/math/prng.ts';

/** Bump when the renderer changes (it keys the cached sketches). */
export const HELDOUT_SKETCH_VERSION = 1;

/** For the report. */
export const HELDOUT_SKETCH_LABEL = 'sketch, held-out renderer (DoG edges, thinned, re-inked with a wandering pen, jittered)';

/** Salt of the renderer's random stream (mixed with the query's id). */
const SALT = 0x6e7d_51a3;

/** The ink colour (R, G, B): a soft graphite, far from white. */
const INK = [38, 40, 52] as const;

/** FNV-1a of a string: the per-query seed (the query's file name or model id). */
export function seedOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h ^ SALT) >>> 0;
}

/** A normalised sampled Gaussian kernel of standard deviation `sigma` (radius ⌈3σ⌉). */
export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Separable convolution of a w × h plane with a symmetric kernel, edges clamped. */
export function convolveSeparable(src: Float32Array, w: number, h: number, k: Float32Array): Float32Array {
  const r = (k.length - 1) >> 1;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * src[y * w + Math.min(w - 1, Math.max(0, x + i))];
      tmp[y * w + x] = s;
    }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x];
      out[y * w + x] = s;
    }
  return out;
}

/** Edge response (≥ 0) of an RGB image (3 bytes per pixel): DoG of luminance (dark side) and of two chroma axes. */
export function dogResponse(rgb: Uint8Array, w: number, h: number): Float32Array {
  const n = w * h;
  const lum = new Float32Array(n);
  const ca = new Float32Array(n);
  const cb = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = rgb[j] / 255;
    const g = rgb[j + 1] / 255;
    const b = rgb[j + 2] / 255;
    lum[i] = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    ca[i] = r - g;
    cb[i] = (r + g) / 2 - b;
  }
  // Two scales: the fine one traces crisp renders, the coarse one still finds the outlines of
  // blurred ("dreamy", soft-focus) renders, where a person would draw them too.
  const out = new Float32Array(n);
  for (const [sigma, gain] of [
    [1.4, 1],
    [3.2, 0.7],
  ] as const) {
    const k1 = gaussianKernel(sigma);
    const k2 = gaussianKernel(sigma * 1.6);
    const dog = (p: Float32Array) => {
      const a = convolveSeparable(p, w, h, k1);
      const b = convolveSeparable(p, w, h, k2);
      for (let i = 0; i < n; i++) a[i] -= b[i];
      return a;
    };
    const dl = dog(lum);
    const da = dog(ca);
    const db = dog(cb);
    for (let i = 0; i < n; i++) out[i] = Math.max(out[i], gain * Math.max(-dl[i], 0.5 * Math.abs(da[i]), 0.5 * Math.abs(db[i])));
  }
  return out;
}

/** The value below which a share `q` of the positive responses lies (0 when none is positive). */
function quantile(v: Float32Array, q: number): number {
  const pos = Array.from(v).filter((x) => x > 1e-6).sort((a, b) => a - b);
  if (!pos.length) return 0;
  return pos[Math.min(pos.length - 1, Math.floor(q * pos.length))];
}

const N8 = [
  [-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1],
] as const;

/** Calls `visit` with the index of every 8-neighbour of pixel `i` inside the w × h image. */
function forEachNeighbour8(i: number, w: number, h: number, visit: (j: number) => void): void {
  const x = i % w;
  const y = (i - x) / w;
  for (const [dx, dy] of N8) {
    const xx = x + dx;
    const yy = y + dy;
    if (xx >= 0 && yy >= 0 && xx < w && yy < h) visit(yy * w + xx);
  }
}

/** Hysteresis: strong pixels, and weak ones 8-connected to a strong one. */
export function hysteresis(resp: Float32Array, w: number, h: number, strong: number, weak: number): Uint8Array {
  const m = new Uint8Array(w * h);
  const stack: number[] = [];
  for (let i = 0; i < m.length; i++) if (resp[i] >= strong) (m[i] = 1), stack.push(i);
  while (stack.length)
    forEachNeighbour8(stack.pop()!, w, h, (j) => {
      if (!m[j] && resp[j] >= weak) (m[j] = 1), stack.push(j);
    });
  return m;
}

/** Removes 8-connected components smaller than `minSize` pixels. In place. */
export function removeSpecks(m: Uint8Array, w: number, h: number, minSize: number): void {
  const seen = new Uint8Array(m.length);
  for (let s = 0; s < m.length; s++) {
    if (!m[s] || seen[s]) continue;
    const comp = [s];
    seen[s] = 1;
    for (let k = 0; k < comp.length; k++)
      forEachNeighbour8(comp[k], w, h, (j) => {
        if (m[j] && !seen[j]) (seen[j] = 1), comp.push(j);
      });
    if (comp.length < minSize) for (const i of comp) m[i] = 0;
  }
}

/** Zhang–Suen thinning of a binary mask to one-pixel lines. In place. */
export function thin(m: Uint8Array, w: number, h: number): void {
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : m[y * w + x]);
  for (let changed = true, guard = 0; changed && guard < 64; guard++) {
    changed = false;
    for (const step of [0, 1]) {
      const del: number[] = [];
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          if (!m[y * w + x]) continue;
          // P2…P9 clockwise from north
          const p = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x - 1, y), at(x - 1, y - 1)];
          const b = p.reduce((s, v) => s + v, 0);
          if (b < 2 || b > 6) continue;
          let a = 0;
          for (let i = 0; i < 8; i++) if (!p[i] && p[(i + 1) % 8]) a++;
          if (a !== 1) continue;
          if (step === 0 ? p[0] * p[2] * p[4] || p[2] * p[4] * p[6] : p[0] * p[2] * p[6] || p[0] * p[4] * p[6]) continue;
          del.push(y * w + x);
        }
      for (const i of del) m[i] = 0;
      if (del.length) changed = true;
    }
  }
}

/** A smooth random field on w × h: bilinear between a g × g grid of values drawn by `draw`. */
function smoothField(w: number, h: number, g: number, draw: () => number): Float32Array {
  const grid = Array.from({ length: (g + 1) * (g + 1) }, draw);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const gx = (x / (w - 1)) * g;
      const gy = (y / (h - 1)) * g;
      const x0 = Math.min(g - 1, Math.floor(gx));
      const y0 = Math.min(g - 1, Math.floor(gy));
      const fx = gx - x0;
      const fy = gy - y0;
      const v = (i: number, j: number) => grid[j * (g + 1) + i];
      out[y * w + x] = (1 - fy) * ((1 - fx) * v(x0, y0) + fx * v(x0 + 1, y0)) + fy * ((1 - fx) * v(x0, y0 + 1) + fx * v(x0 + 1, y0 + 1));
    }
  return out;
}

/**
 * The sketch (ink coverage in [0, 1] per pixel) of an RGB image: steps 2–5 of the file comment.
 * Pure and deterministic for a seed.
 */
export function sketchCoverage(rgb: Uint8Array, w: number, h: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const resp = dogResponse(rgb, w, h);
  // Thresholds from the response's own distribution; the floor keeps flat or near-flat images blank.
  const strong = Math.max(0.012, quantile(resp, 0.93));
  const mask = hysteresis(resp, w, h, strong, strong * 0.5);
  removeSpecks(mask, w, h, 20);
  thin(mask, w, h);
  // Jitter field (pixels) and pen radius field; pen lifts where a third field is high.
  const jx = smoothField(w, h, 6, () => (rand() * 2 - 1) * 2.6);
  const jy = smoothField(w, h, 6, () => (rand() * 2 - 1) * 2.6);
  const baseRadius = 0.9 + rand() * 0.5;
  const radius = smoothField(w, h, 5, () => Math.min(1.9, Math.max(0.6, baseRadius + (rand() * 2 - 1) * 0.5)));
  const lift = smoothField(w, h, 14, () => rand());
  const cov = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i] || lift[i] > 0.93) continue;
      const cx = x + jx[i];
      const cy = y + jy[i];
      const r = radius[i];
      const R = Math.ceil(r + 1);
      for (let yy = Math.max(0, Math.floor(cy) - R); yy <= Math.min(h - 1, Math.ceil(cy) + R); yy++)
        for (let xx = Math.max(0, Math.floor(cx) - R); xx <= Math.min(w - 1, Math.ceil(cx) + R); xx++) {
          // anti-aliased round pen: full inside r, fading over one pixel
          const d = Math.hypot(xx - cx, yy - cy);
          const a = Math.min(1, Math.max(0, r + 0.5 - d));
          const j = yy * w + xx;
          if (a > cov[j]) cov[j] = a;
        }
    }
  return cov;
}

/** Coverage → RGB bytes: ink on white. */
export function coverageToRgb(cov: Float32Array): Uint8Array {
  const out = new Uint8Array(cov.length * 3);
  for (let i = 0; i < cov.length; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(255 - (255 - INK[c]) * cov[i]);
  return out;
}

/** The held-out sketch of an encoded image (PNG/JPEG bytes) as PNG bytes, same size. */
export async function heldOutSketch(input: Uint8Array, seed: number): Promise<Buffer> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(data.buffer, data.byteOffset, data.length);
  const cov = sketchCoverage(rgb, info.width, info.height, seed);
  return sharp(Buffer.from(coverageToRgb(cov)), { raw: { width: info.width, height: info.height, channels: 3 } }).png().toBuffer();
}

/**
 * Writes the held-out sketch of every clean query image into `outDir` (reused when a marker of
 * this version is there) and returns the files in the input order. The seed is the file's name.
 */
export async function heldOutSketchAll(files: string[], outDir: string): Promise<string[]> {
  const marker = join(outDir, `complete-v${HELDOUT_SKETCH_VERSION}.json`);
  const done = existsSync(marker);
  await mkdir(outDir, { recursive: true });
  const out: string[] = [];
  for (let i = 0; i < files.length; i += 8) {
    await Promise.all(
      files.slice(i, i + 8).map(async (f, j) => {
        const name = basename(f).replace(/\.[a-z]+$/i, '');
        const path = join(outDir, `${name}.png`);
        out[i + j] = path;
        if (!done || !existsSync(path)) await writeFile(path, await heldOutSketch(new Uint8Array(await readFile(f)), seedOf(name)));
      }),
    );
  }
  if (!done) await writeFile(marker, JSON.stringify({ version: HELDOUT_SKETCH_VERSION, files: files.length }) + '\n');
  return out;
}
