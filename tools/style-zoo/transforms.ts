/**
 * The style zoo's "LoRAs": deterministic, parametrised image-to-image style transforms on RGBA
 * pixels (typed arrays only, no canvas). A style model m is one transform; its "samples" are the
 * transform applied to a fixed reference set of content images.
 *
 * Every transform belongs to a family with a parameter grid (posterise levels, blur radius, hue
 * angle, named tints, duotone pairs, …). Within each family the grid alternates between the
 * `eval` and the `train` split, so the styles a learned projection is trained on are never the
 * styles it is evaluated on (they are neighbouring parameters or sibling colours of the same
 * families, plus a few families that exist only on one side).
 */
import { mulberry32 } from '../../src/core/math/prng.ts';

export interface RgbaPixels {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

export type StyleSplit = 'eval' | 'train';

export interface StyleTransform {
  /** Stable id, e.g. `posterise-4`. */
  id: string;
  /** Human name, e.g. `Posterise (4 levels)`. */
  name: string;
  family: string;
  split: StyleSplit;
  apply(img: RgbaPixels): RgbaPixels;
}

type Rgb = readonly [number, number, number];

// ---------------------------------------------------------------------------------------------
// Pixel helpers

function blank(img: RgbaPixels): RgbaPixels {
  return { data: new Uint8ClampedArray(img.data.length), width: img.width, height: img.height };
}

/** Applies a per-pixel colour function (alpha copied). `f` writes r,g,b into `o`. */
function mapRgb(img: RgbaPixels, f: (r: number, g: number, b: number, o: number[], x: number, y: number) => void): RgbaPixels {
  const out = blank(img);
  const s = img.data;
  const d = out.data;
  const o = [0, 0, 0];
  const w = img.width;
  for (let i = 0, p = 0; p < s.length; i++, p += 4) {
    f(s[p], s[p + 1], s[p + 2], o, i % w, (i / w) | 0);
    d[p] = o[0];
    d[p + 1] = o[1];
    d[p + 2] = o[2];
    d[p + 3] = s[p + 3];
  }
  return out;
}

/** A 3×3 colour matrix (row-major) plus offset. */
function colourMatrix(img: RgbaPixels, m: readonly number[], offset: Rgb = [0, 0, 0]): RgbaPixels {
  return mapRgb(img, (r, g, b, o) => {
    o[0] = m[0] * r + m[1] * g + m[2] * b + offset[0];
    o[1] = m[3] * r + m[4] * g + m[5] * b + offset[1];
    o[2] = m[6] * r + m[7] * g + m[8] * b + offset[2];
  });
}

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/** Luminance plane in [0,255]. */
function lumaPlane(img: RgbaPixels): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const s = img.data;
  for (let i = 0; i < n; i++) out[i] = luma(s[4 * i], s[4 * i + 1], s[4 * i + 2]);
  return out;
}

/** One horizontal + vertical box-blur pass (radius r, clamped edges) over a float plane set. */
function boxBlurPlanes(planes: Float32Array[], w: number, h: number, r: number): void {
  const tmp = new Float32Array(w * h);
  const win = 2 * r + 1;
  for (const pl of planes) {
    for (let y = 0; y < h; y++) {
      const row = y * w;
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += pl[row + Math.min(w - 1, Math.max(0, k))];
      for (let x = 0; x < w; x++) {
        tmp[row + x] = acc / win;
        acc += pl[row + Math.min(w - 1, x + r + 1)] - pl[row + Math.max(0, x - r)];
      }
    }
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += tmp[Math.min(h - 1, Math.max(0, k)) * w + x];
      for (let y = 0; y < h; y++) {
        pl[y * w + x] = acc / win;
        acc += tmp[Math.min(h - 1, y + r + 1) * w + x] - tmp[Math.max(0, y - r) * w + x];
      }
    }
  }
}

function toPlanes(img: RgbaPixels): Float32Array[] {
  const n = img.width * img.height;
  const planes = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planes[c][i] = img.data[4 * i + c];
  return planes;
}

function fromPlanes(img: RgbaPixels, planes: Float32Array[]): RgbaPixels {
  const out = blank(img);
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out.data[4 * i + c] = planes[c][i];
    out.data[4 * i + 3] = img.data[4 * i + 3];
  }
  return out;
}

/** Approximate Gaussian blur: three box passes of radius r. */
function blurImage(img: RgbaPixels, r: number): RgbaPixels {
  const planes = toPlanes(img);
  for (let k = 0; k < 3; k++) boxBlurPlanes(planes, img.width, img.height, r);
  return fromPlanes(img, planes);
}

/** Sobel gradient magnitude of the luminance, [0, ~1443]. */
function sobel(img: RgbaPixels): Float32Array {
  const { width: w, height: h } = img;
  const L = lumaPlane(img);
  const out = new Float32Array(w * h);
  const at = (x: number, y: number) => L[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      out[y * w + x] = Math.hypot(gx, gy);
    }
  }
  return out;
}

/** Binary mask dilated by a (2r+1)² square. */
function dilate(mask: Uint8Array, w: number, h: number, r: number): Uint8Array {
  if (r <= 0) return mask;
  const tmp = new Uint8Array(w * h);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r) && !v; k++) v = mask[y * w + k];
      tmp[y * w + x] = v;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r) && !v; k++) v = tmp[k * w + x];
      out[y * w + x] = v;
    }
  }
  return out;
}

/**
 * A deterministic per-pixel hash in [0,1): noise as a function of (x, y, seed), so any pixel's
 * value is found without drawing a sequence — a hash, not a generator (mulberry32 is the PRNG).
 */
function hash01(x: number, y: number, seed: number): number {
  let t = (Math.imul(x, 0x27d4eb2d) ^ Math.imul(y, 0x165667b1) ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** FNV-1a hash of a name: a seed for hash01 (a hash, not a generator). */
function strSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Primitive styles

/**
 * Posterise to `levels` per channel. `bins`: equal-width input bins (bin k of 256/levels → output
 * k·255/(levels−1), the usual image-editor posterise); otherwise round to the nearest level.
 */
function posterise(img: RgbaPixels, levels: number, bins = false): RgbaPixels {
  const step = 255 / (levels - 1);
  const q = bins ? (v: number) => Math.min(levels - 1, Math.floor((v * levels) / 256)) * step : (v: number) => Math.round(v / step) * step;
  return mapRgb(img, (r, g, b, o) => {
    o[0] = q(r);
    o[1] = q(g);
    o[2] = q(b);
  });
}

function pixelate(img: RgbaPixels, block: number): RgbaPixels {
  const { width: w, height: h, data: s } = img;
  const out = blank(img);
  for (let by = 0; by < h; by += block) {
    for (let bx = 0; bx < w; bx += block) {
      const ye = Math.min(h, by + block);
      const xe = Math.min(w, bx + block);
      let r = 0, g = 0, b = 0, n = 0;
      for (let y = by; y < ye; y++) for (let x = bx; x < xe; x++) {
        const p = (y * w + x) * 4;
        r += s[p]; g += s[p + 1]; b += s[p + 2]; n++;
      }
      for (let y = by; y < ye; y++) for (let x = bx; x < xe; x++) {
        const p = (y * w + x) * 4;
        out.data[p] = r / n; out.data[p + 1] = g / n; out.data[p + 2] = b / n; out.data[p + 3] = s[p + 3];
      }
    }
  }
  return out;
}

/** CSS filter hue-rotate matrix. */
function hueRotate(img: RgbaPixels, deg: number): RgbaPixels {
  const a = (deg * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  return colourMatrix(img, [
    0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928,
    0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.14, 0.072 - c * 0.072 - s * 0.283,
    0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072,
  ]);
}

/** CSS filter saturate matrix (0 = grey, 1 = unchanged). */
function saturate(img: RgbaPixels, k: number): RgbaPixels {
  return colourMatrix(img, [
    0.213 + 0.787 * k, 0.715 - 0.715 * k, 0.072 - 0.072 * k,
    0.213 - 0.213 * k, 0.715 + 0.285 * k, 0.072 - 0.072 * k,
    0.213 - 0.213 * k, 0.715 - 0.715 * k, 0.072 + 0.928 * k,
  ]);
}

function contrast(img: RgbaPixels, k: number): RgbaPixels {
  return mapRgb(img, (r, g, b, o) => {
    o[0] = (r - 128) * k + 128;
    o[1] = (g - 128) * k + 128;
    o[2] = (b - 128) * k + 128;
  });
}

function gamma(img: RgbaPixels, gm: number): RgbaPixels {
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = 255 * Math.pow(v / 255, gm);
  return mapRgb(img, (r, g, b, o) => {
    o[0] = lut[r]; o[1] = lut[g]; o[2] = lut[b];
  });
}

/** S-curve (sigmoid) tone curve of strength k, renormalised to [0,255]. */
function sCurve(img: RgbaPixels, k: number): RgbaPixels {
  const sig = (t: number) => 1 / (1 + Math.exp(-k * (t - 0.5)));
  const lo = sig(0), hi = sig(1);
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = (255 * (sig(v / 255) - lo)) / (hi - lo);
  return mapRgb(img, (r, g, b, o) => {
    o[0] = lut[r]; o[1] = lut[g]; o[2] = lut[b];
  });
}

/** Brightness shift plus fade (lifted blacks): v → lift + v·(1 − lift/255)·k. */
function fade(img: RgbaPixels, lift: number): RgbaPixels {
  const k = 1 - lift / 255;
  return mapRgb(img, (r, g, b, o) => {
    o[0] = lift + r * k * 0.9; o[1] = lift + g * k * 0.9; o[2] = lift + b * k * 0.9;
  });
}

function blur(img: RgbaPixels, radius: number): RgbaPixels {
  return blurImage(img, radius);
}

/** Unsharp mask: v + amount·(v − blur(v)). */
function sharpen(img: RgbaPixels, amount: number, radius = 2): RgbaPixels {
  const b = blurImage(img, radius);
  const out = blank(img);
  for (let p = 0; p < img.data.length; p++) {
    out.data[p] = (p & 3) === 3 ? img.data[p] : img.data[p] + amount * (img.data[p] - b.data[p]);
  }
  return out;
}

/** Mono halftone: each cell's darkness becomes a dot of `ink` on `paper`. */
function halftone(img: RgbaPixels, cell: number, ink: Rgb = [20, 20, 20], paper: Rgb = [250, 248, 240], colour = false): RgbaPixels {
  const { width: w, height: h, data: s } = img;
  const out = blank(img);
  for (let by = 0; by < h; by += cell) {
    for (let bx = 0; bx < w; bx += cell) {
      const ye = Math.min(h, by + cell), xe = Math.min(w, bx + cell);
      let r = 0, g = 0, b = 0, n = 0;
      for (let y = by; y < ye; y++) for (let x = bx; x < xe; x++) {
        const p = (y * w + x) * 4;
        r += s[p]; g += s[p + 1]; b += s[p + 2]; n++;
      }
      r /= n; g /= n; b /= n;
      const dark = 1 - luma(r, g, b) / 255;
      const rad = Math.sqrt(dark) * cell * 0.72;
      const cx = bx + cell / 2, cy = by + cell / 2;
      const dot: Rgb = colour ? [r * 0.8, g * 0.8, b * 0.8] : ink;
      for (let y = by; y < ye; y++) for (let x = bx; x < xe; x++) {
        const p = (y * w + x) * 4;
        const inside = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 < rad * rad;
        const c = inside ? dot : paper;
        out.data[p] = c[0]; out.data[p + 1] = c[1]; out.data[p + 2] = c[2]; out.data[p + 3] = s[p + 3];
      }
    }
  }
  return out;
}

/** Ink outlines: Sobel edges above `threshold`, thickened by `thick`, painted in `ink` over `base`. */
function inkEdges(img: RgbaPixels, base: RgbaPixels, threshold: number, thick: number, ink: Rgb): RgbaPixels {
  const { width: w, height: h } = img;
  const mag = sobel(img);
  const mask = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) mask[i] = mag[i] > threshold ? 1 : 0;
  const m = dilate(mask, w, h, thick);
  const out = blank(img);
  for (let i = 0; i < w * h; i++) {
    const p = 4 * i;
    if (m[i]) {
      out.data[p] = ink[0]; out.data[p + 1] = ink[1]; out.data[p + 2] = ink[2];
    } else {
      out.data[p] = base.data[p]; out.data[p + 1] = base.data[p + 1]; out.data[p + 2] = base.data[p + 2];
    }
    out.data[p + 3] = img.data[p + 3];
  }
  return out;
}

/** Pencil sketch: inverted edge magnitude on paper (grey lines, white elsewhere). */
function sketch(img: RgbaPixels, gain: number, paper: Rgb = [245, 242, 232]): RgbaPixels {
  const mag = sobel(img);
  return mapRgb(img, (_r, _g, _b, o, x, y) => {
    const t = Math.min(1, (mag[y * img.width + x] * gain) / 255);
    o[0] = paper[0] * (1 - t) + 40 * t; o[1] = paper[1] * (1 - t) + 40 * t; o[2] = paper[2] * (1 - t) + 45 * t;
  });
}

/** Colour tint: blend towards a named colour, keeping luminance structure (overlay by luma). */
function tint(img: RgbaPixels, colour: Rgb, amount: number): RgbaPixels {
  return mapRgb(img, (r, g, b, o) => {
    const l = luma(r, g, b) / 255;
    o[0] = (1 - amount) * r + amount * colour[0] * l * 1.6;
    o[1] = (1 - amount) * g + amount * colour[1] * l * 1.6;
    o[2] = (1 - amount) * b + amount * colour[2] * l * 1.6;
  });
}

function grain(img: RgbaPixels, amount: number, seed: number, mono = true): RgbaPixels {
  return mapRgb(img, (r, g, b, o, x, y) => {
    const n0 = (hash01(x, y, seed) - 0.5) * 2 * amount;
    const n1 = mono ? n0 : (hash01(x, y, seed + 1) - 0.5) * 2 * amount;
    const n2 = mono ? n0 : (hash01(x, y, seed + 2) - 0.5) * 2 * amount;
    o[0] = r + n0; o[1] = g + n1; o[2] = b + n2;
  });
}

function vignette(img: RgbaPixels, strength: number, colour: Rgb = [0, 0, 0]): RgbaPixels {
  const cx = img.width / 2, cy = img.height / 2;
  const rmax = Math.hypot(cx, cy);
  return mapRgb(img, (r, g, b, o, x, y) => {
    const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) / rmax;
    const t = Math.min(1, strength * d * d * 1.5);
    o[0] = r * (1 - t) + colour[0] * t; o[1] = g * (1 - t) + colour[1] * t; o[2] = b * (1 - t) + colour[2] * t;
  });
}

function duotone(img: RgbaPixels, dark: Rgb, light: Rgb): RgbaPixels {
  return mapRgb(img, (r, g, b, o) => {
    const t = luma(r, g, b) / 255;
    o[0] = dark[0] + (light[0] - dark[0]) * t; o[1] = dark[1] + (light[1] - dark[1]) * t; o[2] = dark[2] + (light[2] - dark[2]) * t;
  });
}

function sepia(img: RgbaPixels, amount: number): RgbaPixels {
  const a = amount;
  return colourMatrix(img, [
    0.393 + 0.607 * (1 - a), 0.769 - 0.769 * (1 - a), 0.189 - 0.189 * (1 - a),
    0.349 - 0.349 * (1 - a), 0.686 + 0.314 * (1 - a), 0.168 - 0.168 * (1 - a),
    0.272 - 0.272 * (1 - a), 0.534 - 0.534 * (1 - a), 0.131 + 0.869 * (1 - a),
  ]);
}

function invert(img: RgbaPixels): RgbaPixels {
  return mapRgb(img, (r, g, b, o) => {
    o[0] = 255 - r; o[1] = 255 - g; o[2] = 255 - b;
  });
}

/** Solarise: invert every channel value above the threshold. */
function solarise(img: RgbaPixels, threshold: number): RgbaPixels {
  const f = (v: number) => (v > threshold ? 255 - v : v);
  return mapRgb(img, (r, g, b, o) => {
    o[0] = f(r); o[1] = f(g); o[2] = f(b);
  });
}

/** Emboss: directional derivative of luminance on mid grey, mixed with `keep` of the colour. */
function emboss(img: RgbaPixels, strength: number, keep: number): RgbaPixels {
  const { width: w, height: h } = img;
  const L = lumaPlane(img);
  const at = (x: number, y: number) => L[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
  return mapRgb(img, (r, g, b, o, x, y) => {
    const e = 128 + strength * (at(x + 1, y + 1) - at(x - 1, y - 1));
    o[0] = e * (1 - keep) + r * keep; o[1] = e * (1 - keep) + g * keep; o[2] = e * (1 - keep) + b * keep;
  });
}

/** Channel permutation: out channel c takes input channel perm[c]. */
function swapChannels(img: RgbaPixels, perm: readonly [number, number, number]): RgbaPixels {
  return mapRgb(img, (r, g, b, o) => {
    const v = [r, g, b];
    o[0] = v[perm[0]]; o[1] = v[perm[1]]; o[2] = v[perm[2]];
  });
}

/** Dark horizontal scanlines every `period` rows. */
function scanlines(img: RgbaPixels, period: number, darkness: number): RgbaPixels {
  return mapRgb(img, (r, g, b, o, _x, y) => {
    const k = y % period === 0 ? 1 - darkness : 1;
    o[0] = r * k; o[1] = g * k; o[2] = b * k;
  });
}

/** Chromatic aberration: red shifted left, blue shifted right by `shift` pixels. */
function chromaticAberration(img: RgbaPixels, shift: number): RgbaPixels {
  const { width: w, data: s } = img;
  return mapRgb(img, (_r, g, _b, o, x, y) => {
    const xr = Math.min(w - 1, Math.max(0, x + shift));
    const xb = Math.min(w - 1, Math.max(0, x - shift));
    o[0] = s[(y * w + xr) * 4]; o[1] = g; o[2] = s[(y * w + xb) * 4 + 2];
  });
}

/** Sinusoidal warp (nearest-pixel resampling). */
function wave(img: RgbaPixels, amplitude: number, period: number): RgbaPixels {
  const { width: w, height: h, data: s } = img;
  return mapRgb(img, (_r, _g, _b, o, x, y) => {
    const sx = Math.min(w - 1, Math.max(0, Math.round(x + amplitude * Math.sin((2 * Math.PI * y) / period))));
    const sy = Math.min(h - 1, Math.max(0, Math.round(y + amplitude * Math.sin((2 * Math.PI * x) / period))));
    const p = (sy * w + sx) * 4;
    o[0] = s[p]; o[1] = s[p + 1]; o[2] = s[p + 2];
  });
}

/** Nearest-colour quantisation to a fixed palette. */
function paletteMap(img: RgbaPixels, palette: readonly Rgb[]): RgbaPixels {
  return mapRgb(img, (r, g, b, o) => {
    let best = 0, bd = Infinity;
    for (let k = 0; k < palette.length; k++) {
      const c = palette[k];
      const d = (r - c[0]) ** 2 + (g - c[1]) ** 2 + (b - c[2]) ** 2;
      if (d < bd) { bd = d; best = k; }
    }
    o[0] = palette[best][0]; o[1] = palette[best][1]; o[2] = palette[best][2];
  });
}

const BAYER4 = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5];

/** Ordered (Bayer 4×4) dithering to `levels` per channel. */
function ditherOrdered(img: RgbaPixels, levels: number, mono: boolean): RgbaPixels {
  const step = 255 / (levels - 1);
  const q = (v: number, t: number) => Math.min(255, Math.floor(v / step + t) * step);
  return mapRgb(img, (r, g, b, o, x, y) => {
    const t = (BAYER4[(y & 3) * 4 + (x & 3)] + 0.5) / 16;
    if (mono) {
      const l = q(luma(r, g, b), t);
      o[0] = l; o[1] = l; o[2] = l;
    } else {
      o[0] = q(r, t); o[1] = q(g, t); o[2] = q(b, t);
    }
  });
}

/** Two-colour threshold at `level` of luminance. */
function threshold(img: RgbaPixels, level: number, dark: Rgb = [0, 0, 0], light: Rgb = [255, 255, 255]): RgbaPixels {
  return mapRgb(img, (r, g, b, o) => {
    const c = luma(r, g, b) >= level ? light : dark;
    o[0] = c[0]; o[1] = c[1]; o[2] = c[2];
  });
}

/** Crosshatch engraving: darker luminance bands get more diagonal hatch directions. */
function crosshatch(img: RgbaPixels, spacing: number, ink: Rgb = [25, 25, 40], paper: Rgb = [248, 244, 230]): RgbaPixels {
  return mapRgb(img, (r, g, b, o, x, y) => {
    const l = luma(r, g, b);
    const on =
      (l < 200 && (x + y) % spacing === 0) ||
      (l < 140 && (x - y + 4096) % spacing === 0) ||
      (l < 90 && x % spacing === 0) ||
      (l < 45 && y % spacing === 0);
    const c = on ? ink : paper;
    o[0] = c[0]; o[1] = c[1]; o[2] = c[2];
  });
}

/** Mosaic tiles: pixelate with dark grout lines between the tiles. */
function mosaic(img: RgbaPixels, tile: number): RgbaPixels {
  const p = pixelate(img, tile);
  return mapRgb(p, (r, g, b, o, x, y) => {
    const grout = x % tile === 0 || y % tile === 0;
    o[0] = grout ? 40 : r; o[1] = grout ? 36 : g; o[2] = grout ? 32 : b;
  });
}

/** Flat "cel" shading: blur, then posterise (the cartoon base). */
function cel(img: RgbaPixels, levels: number): RgbaPixels {
  return posterise(blurImage(img, 2), levels);
}

/** Infrared / false colour: channel mix that maps green to pinks and reds. */
function falseColour(img: RgbaPixels, m: readonly number[]): RgbaPixels {
  return colourMatrix(img, m);
}

// ---------------------------------------------------------------------------------------------
// The zoo

const TINTS: [string, Rgb][] = [
  ['red', [230, 30, 30]], ['orange', [250, 140, 20]], ['gold', [235, 190, 40]], ['lime', [150, 230, 40]],
  ['green', [30, 170, 60]], ['teal', [20, 160, 150]], ['cyan', [40, 210, 235]], ['azure', [40, 120, 250]],
  ['indigo', [70, 50, 200]], ['violet', [150, 60, 220]], ['magenta', [230, 40, 200]], ['rose', [245, 110, 150]],
];

const DUOTONES: [string, Rgb, Rgb][] = [
  ['navy-gold', [15, 25, 80], [250, 210, 90]],
  ['purple-orange', [60, 10, 90], [255, 160, 60]],
  ['teal-pink', [0, 80, 90], [255, 170, 200]],
  ['black-red', [10, 10, 10], [230, 40, 40]],
  ['green-yellow', [10, 70, 30], [240, 250, 120]],
  ['blue-white', [10, 40, 140], [240, 245, 255]],
  ['brown-cream', [70, 40, 20], [250, 235, 200]],
  ['maroon-mint', [90, 10, 30], [170, 250, 210]],
  ['indigo-peach', [40, 20, 100], [255, 200, 160]],
  ['forest-lilac', [20, 60, 30], [220, 190, 250]],
];

const PALETTES: [string, string, Rgb[]][] = [
  ['gameboy', 'Game Boy', [[15, 56, 15], [48, 98, 48], [139, 172, 15], [155, 188, 15]]],
  ['cga', 'CGA', [[0, 0, 0], [85, 255, 255], [255, 85, 255], [255, 255, 255]]],
  ['pico8', 'PICO-8', [[0, 0, 0], [29, 43, 83], [126, 37, 83], [0, 135, 81], [171, 82, 54], [95, 87, 79], [194, 195, 199], [255, 241, 232], [255, 0, 77], [255, 163, 0], [255, 236, 39], [0, 228, 54], [41, 173, 255], [131, 118, 156], [255, 119, 168], [255, 204, 170]]],
  ['sunset', 'Sunset', [[40, 20, 60], [140, 40, 90], [230, 90, 70], [250, 180, 90], [255, 240, 180]]],
  ['ocean', 'Ocean', [[5, 20, 50], [10, 70, 120], [40, 150, 180], [150, 220, 230], [240, 250, 255]]],
  ['earth', 'Earth tones', [[40, 30, 20], [100, 70, 40], [160, 120, 70], [200, 180, 130], [120, 130, 70]]],
  ['neon', 'Neon', [[10, 0, 20], [255, 0, 150], [0, 255, 200], [255, 255, 0], [120, 0, 255]]],
  ['pastel', 'Pastel', [[255, 200, 210], [200, 230, 255], [210, 255, 210], [255, 250, 200], [230, 210, 255]]],
];

const PERMS: [string, [number, number, number]][] = [
  ['brg', [2, 0, 1]], ['gbr', [1, 2, 0]], ['bgr', [2, 1, 0]], ['rbg', [0, 2, 1]], ['grb', [1, 0, 2]],
];

interface Def {
  id: string;
  name: string;
  apply: (img: RgbaPixels) => RgbaPixels;
}

/** A family: its members in grid order; members alternate eval/train (first member eval). */
function family(name: string, defs: Def[], firstSplit: StyleSplit = 'eval'): StyleTransform[] {
  const other: StyleSplit = firstSplit === 'eval' ? 'train' : 'eval';
  return defs.map((d, i) => ({ ...d, family: name, split: i % 2 === 0 ? firstSplit : other }));
}

function buildZoo(): StyleTransform[] {
  const zoo: StyleTransform[] = [];
  const add = (ts: StyleTransform[]) => zoo.push(...ts);

  add(family('posterise', [2, 3, 4, 5, 6].map((n) => ({ id: `posterise-${n}`, name: `Punchy posterise (${n} levels)`, apply: (i) => posterise(contrast(i, 1.4), n, true) }))));
  add(family('pixelate', [4, 6, 8, 11, 14, 18, 24, 32].map((n) => ({ id: `pixelate-${n}`, name: `Pixel art (${n} px blocks, 5 levels)`, apply: (i) => posterise(pixelate(i, n), 5, true) }))));
  add(family('hue', [40, 80, 120, 160, 200, 240, 280, 320].map((d) => ({ id: `hue-${d}`, name: `Vivid hue shift ${d}°`, apply: (i) => saturate(hueRotate(i, d), 1.6) }))));
  add(family('saturation', [0, 0.15, 2.6, 3.4, 4.5].map((k) => ({ id: `saturation-${k}`, name: k === 0 ? 'Greyscale' : `Saturation ×${k}`, apply: (i) => saturate(i, k) }))));
  add(family('contrast', [0.3, 0.5, 1.7, 2.2, 3].map((k) => ({ id: `contrast-${k}`, name: `Contrast ×${k}`, apply: (i) => contrast(i, k) }))));
  add(family('gamma', [0.35, 0.5, 1.8, 2.4, 3.2].map((g) => ({ id: `gamma-${g}`, name: `Gamma ${g}`, apply: (i) => gamma(i, g) }))));
  add(family('s-curve', [12, 18, 25].map((k) => ({ id: `s-curve-${k}`, name: `S-curve (strength ${k})`, apply: (i) => sCurve(i, k) }))));
  add(family('fade', [70, 100, 130].map((l) => ({ id: `fade-${l}`, name: `Faded film (lift ${l})`, apply: (i) => fade(i, l) }))));
  add(family('blur', [2, 3, 4, 6, 8, 11].map((r) => ({ id: `blur-${r}`, name: `Dreamy soft focus (blur radius ${r}, low contrast)`, apply: (i) => contrast(blur(i, r), 0.6) }))));
  add(family('sharpen', [6, 10, 16].map((a) => ({ id: `sharpen-${a}`, name: `Over-sharpened (×${a})`, apply: (i) => sharpen(i, a, 3) }))));
  add(family('halftone', [4, 5, 6, 8, 10, 12].map((c) => ({ id: `halftone-${c}`, name: `Halftone (${c} px dots)`, apply: (i) => halftone(i, c) }))));
  add(family('colour-halftone', [5, 7, 9, 12].map((c) => ({ id: `colour-halftone-${c}`, name: `Colour halftone (${c} px dots)`, apply: (i) => halftone(i, c, undefined, [255, 255, 255], true) }))));
  add(family('ink', [
    { t: 60, k: 1, ink: [0, 0, 0] as Rgb, label: 'black' },
    { t: 60, k: 2, ink: [0, 0, 0] as Rgb, label: 'heavy black' },
    { t: 60, k: 1, ink: [20, 30, 140] as Rgb, label: 'blue' },
    { t: 60, k: 3, ink: [0, 0, 0] as Rgb, label: 'bold black' },
    { t: 60, k: 2, ink: [150, 20, 20] as Rgb, label: 'red' },
    { t: 60, k: 2, ink: [255, 255, 255] as Rgb, label: 'white' },
  ].map((o) => ({ id: `ink-${o.label.replace(' ', '-')}`, name: `Ink outlines (${o.label})`, apply: (i: RgbaPixels) => inkEdges(i, i, o.t, o.k, o.ink) }))));
  add(family('cartoon', [3, 4, 5, 6].map((n) => ({ id: `cartoon-${n}`, name: `Cartoon (${n}-level cel + ink)`, apply: (i) => inkEdges(i, cel(i, n), 140, 1, [10, 10, 10]) }))));
  add(family('sketch', [1.5, 2.5, 4].map((g) => ({ id: `sketch-${g}`, name: `Pencil sketch (gain ${g})`, apply: (i) => sketch(i, g) }))));
  add(family('tint', TINTS.map(([n, c]) => ({ id: `tint-${n}`, name: `${n[0].toUpperCase()}${n.slice(1)} tint`, apply: (i) => tint(i, c, 0.7) }))));
  add(family('grain', [45, 70, 100, 130].map((a) => ({ id: `grain-${a}`, name: `Film grain (${a})`, apply: (i) => grain(i, a, strSeed(`grain-${a}`)) }))));
  add(family('colour-noise', [60, 90, 120].map((a) => ({ id: `colour-noise-${a}`, name: `Colour noise (${a})`, apply: (i) => grain(i, a, strSeed(`cn-${a}`), false) }))));
  add(family('vignette', [
    { s: 0.8, c: [0, 0, 0] as Rgb, label: 'black' },
    { s: 1.2, c: [0, 0, 0] as Rgb, label: 'heavy black' },
    { s: 0.9, c: [255, 255, 255] as Rgb, label: 'white' },
    { s: 1.0, c: [90, 10, 60] as Rgb, label: 'plum' },
  ].map((o) => ({ id: `vignette-${o.label.replace(' ', '-')}`, name: `Vignette (${o.label})`, apply: (i: RgbaPixels) => vignette(i, o.s, o.c) }))));
  add(family('duotone', DUOTONES.map(([n, a, b]) => ({ id: `duotone-${n}`, name: `Duotone ${n.replace('-', ' / ')}`, apply: (i) => duotone(i, a, b) }))));
  add(family('sepia', [0.7, 0.85, 1].map((a) => ({ id: `sepia-${a}`, name: `Sepia (${Math.round(a * 100)}%)`, apply: (i) => sepia(i, a) }))));
  add(family('invert', [{ id: 'invert', name: 'Negative (inverted)', apply: invert }]));
  add(family('solarise', [90, 128, 170].map((t) => ({ id: `solarise-${t}`, name: `Solarise (threshold ${t})`, apply: (i) => solarise(i, t) }))));
  add(family('emboss', [
    { s: 2, k: 0, label: 'grey' },
    { s: 3, k: 0.4, label: 'tinted' },
    { s: 4, k: 0, label: 'deep grey' },
    { s: 2, k: 0.6, label: 'light tinted' },
  ].map((o) => ({ id: `emboss-${o.label.replace(' ', '-')}`, name: `Emboss (${o.label})`, apply: (i: RgbaPixels) => emboss(i, o.s, o.k) }))));
  add(family('channels', PERMS.map(([n, p]) => ({ id: `channels-${n}`, name: `Channel swap RGB→${n.toUpperCase()}`, apply: (i) => swapChannels(i, p) }))));
  add(family('scanlines', [2, 3, 4, 6].map((p) => ({ id: `scanlines-${p}`, name: `CRT scanlines (every ${p} rows)`, apply: (i) => scanlines(i, p, 0.75) }))));
  add(family('chromatic', [6, 10, 16].map((s) => ({ id: `chromatic-${s}`, name: `Glitch chromatic aberration (${s} px, vivid)`, apply: (i) => saturate(chromaticAberration(i, s), 1.8) }))));
  add(family('wave', [
    { a: 8, p: 20 }, { a: 12, p: 36 }, { a: 16, p: 28 }, { a: 20, p: 48 },
  ].map((o) => ({ id: `wave-${o.a}-${o.p}`, name: `Wavy warp (amplitude ${o.a}, period ${o.p})`, apply: (i: RgbaPixels) => wave(i, o.a, o.p) }))));
  add(family('palette', PALETTES.map(([id, label, pal]) => ({ id: `palette-${id}`, name: `${label} palette`, apply: (i) => paletteMap(i, pal) }))));
  add(family('dither', [
    { n: 2, mono: true }, { n: 2, mono: false }, { n: 3, mono: true }, { n: 3, mono: false },
  ].map((o) => ({ id: `dither-${o.mono ? 'mono' : 'rgb'}-${o.n}`, name: `Ordered dither (${o.mono ? 'mono' : 'RGB'}, ${o.n} levels)`, apply: (i: RgbaPixels) => ditherOrdered(i, o.n, o.mono) }))));
  add(family('threshold', [
    { l: 100, d: [0, 0, 0] as Rgb, w: [255, 255, 255] as Rgb, label: 'black-white' },
    { l: 128, d: [20, 20, 90] as Rgb, w: [255, 240, 200] as Rgb, label: 'blueprint-cream' },
    { l: 150, d: [0, 0, 0] as Rgb, w: [255, 255, 255] as Rgb, label: 'black-white-high' },
    { l: 110, d: [120, 0, 0] as Rgb, w: [255, 220, 220] as Rgb, label: 'red-pink' },
  ].map((o) => ({ id: `threshold-${o.label}`, name: `Two-tone threshold (${o.label.replace(/-/g, ' ')})`, apply: (i: RgbaPixels) => threshold(i, o.l, o.d, o.w) }))));
  add(family('crosshatch', [4, 5, 6, 8].map((s) => ({ id: `crosshatch-${s}`, name: `Crosshatch engraving (${s} px)`, apply: (i) => crosshatch(i, s) }))));
  add(family('mosaic', [8, 12, 16, 20].map((t) => ({ id: `mosaic-${t}`, name: `Mosaic tiles (${t} px)`, apply: (i) => mosaic(i, t) }))));
  add(family('false-colour', [
    { id: 'infrared', name: 'Infrared false colour', m: [0.2, 1.2, 0, 0.3, 0.2, 0.6, 0.1, 0.1, 0.9] },
    { id: 'thermal', name: 'Thermal false colour', m: [1.4, 0.2, -0.4, 0.2, 0.6, 0, -0.3, 0.3, 0.2] },
    { id: 'cross-process', name: 'Cross-processed', m: [1.1, 0.1, -0.1, 0, 1.2, -0.1, 0.2, 0, 0.5] },
    { id: 'bleach', name: 'Bleach bypass', m: [0.7, 0.4, 0.1, 0.25, 0.8, 0.1, 0.25, 0.4, 0.5] },
  ].map((o) => ({ id: `false-colour-${o.id}`, name: o.name, apply: (i: RgbaPixels) => falseColour(i, o.m) }))));

  // Combinations of two families.
  add(family('combo', [
    { id: 'posterise-ink', name: 'Posterise 4 + black ink', apply: (i: RgbaPixels) => inkEdges(i, posterise(i, 4), 120, 1, [0, 0, 0]) },
    { id: 'pixel-hue', name: 'Pixelate 10 + hue 120°', apply: (i: RgbaPixels) => hueRotate(pixelate(i, 10), 120) },
    { id: 'blur-grain', name: 'Soft focus + heavy grain', apply: (i: RgbaPixels) => grain(blur(i, 4), 60, 7) },
    { id: 'duotone-halftone', name: 'Navy/gold duotone halftone', apply: (i: RgbaPixels) => duotone(halftone(i, 7), [15, 25, 80], [250, 210, 90]) },
    { id: 'sepia-vignette', name: 'Old photo (sepia + vignette + grain)', apply: (i: RgbaPixels) => grain(vignette(sepia(i, 1), 1), 25, 11) },
    { id: 'invert-blur', name: 'Negative + soft focus', apply: (i: RgbaPixels) => blur(invert(i), 3) },
    { id: 'gameboy-pixel', name: 'Game Boy pixel art', apply: (i: RgbaPixels) => paletteMap(pixelate(i, 6), PALETTES[0][2]) },
    { id: 'neon-edges', name: 'Neon edges on black', apply: (i: RgbaPixels) => inkEdges(i, fade(contrast(i, 0.2), 0), 80, 1, [0, 255, 200]) },
    { id: 'sat-contrast', name: 'Vivid (saturation ×2.5 + contrast ×1.6)', apply: (i: RgbaPixels) => contrast(saturate(i, 2.5), 1.6) },
    { id: 'grey-scanlines', name: 'Monochrome CRT', apply: (i: RgbaPixels) => scanlines(saturate(i, 0), 3, 0.8) },
    { id: 'teal-orange', name: 'Teal & orange grade', apply: (i: RgbaPixels) => duotone(sCurve(i, 10), [0, 70, 90], [255, 170, 80]) },
    { id: 'wave-hue', name: 'Psychedelic (wave + hue 200°)', apply: (i: RgbaPixels) => hueRotate(wave(saturate(i, 2), 8, 30), 200) },
    { id: 'emboss-tint', name: 'Bronze relief (emboss + gold tint)', apply: (i: RgbaPixels) => tint(emboss(i, 3, 0), [235, 170, 60], 0.7) },
    { id: 'mosaic-pastel', name: 'Pastel mosaic', apply: (i: RgbaPixels) => paletteMap(mosaic(i, 12), PALETTES[7][2]) },
    { id: 'crosshatch-sepia', name: 'Sepia engraving', apply: (i: RgbaPixels) => sepia(crosshatch(i, 5), 1) },
    { id: 'dither-duotone', name: 'Dithered purple/orange', apply: (i: RgbaPixels) => duotone(ditherOrdered(i, 3, true), [60, 10, 90], [255, 160, 60]) },
  ]));
  return zoo;
}

/** Every style transform, in a fixed order. */
export const STYLE_TRANSFORMS: readonly StyleTransform[] = buildZoo();

export function stylesOf(split: StyleSplit): StyleTransform[] {
  return STYLE_TRANSFORMS.filter((t) => t.split === split);
}

export function styleById(id: string): StyleTransform {
  const t = STYLE_TRANSFORMS.find((s) => s.id === id);
  if (!t) throw new Error(`Unknown style transform "${id}".`);
  return t;
}

/**
 * Extra TRAINING style instances for the learned projection: `count` compositions B∘A of two
 * training-split transforms from different families (combos excluded as components), chosen
 * deterministically from `seed`. They never use an evaluation transform, so they add style
 * variety to the training set without leaking evaluation styles.
 */
export function composedTrainingStyles(count: number, seed = 1): StyleTransform[] {
  const base = stylesOf('train').filter((t) => t.family !== 'combo');
  const rand = mulberry32(seed);
  const out: StyleTransform[] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < count && tries < count * 100; tries++) {
    const A = base[Math.floor(rand() * base.length)];
    const B = base[Math.floor(rand() * base.length)];
    const id = `${A.id}+${B.id}`;
    if (A.family === B.family || seen.has(id)) continue;
    seen.add(id);
    out.push({ id, name: `${A.name} + ${B.name}`, family: 'composed', split: 'train', apply: (img) => B.apply(A.apply(img)) });
  }
  return out;
}

/** Mean squared pixel difference of the RGB channels on the [0,1] scale (the cleansing measure). */
export function pixelMse(a: RgbaPixels, b: RgbaPixels): number {
  if (a.data.length !== b.data.length) throw new Error('pixelMse needs two images of the same size.');
  let s = 0;
  for (let p = 0; p < a.data.length; p += 4) {
    const dr = a.data[p] - b.data[p], dg = a.data[p + 1] - b.data[p + 1], db = a.data[p + 2] - b.data[p + 2];
    s += dr * dr + dg * dg + db * db;
  }
  return s / ((a.data.length / 4) * 3 * 255 * 255);
}
