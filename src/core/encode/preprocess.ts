/**
 * CLIP image preprocessing from raw RGBA, shared by the browser worker and the Node tools:
 * flatten transparency onto black, resize the shortest edge to `size` with bicubic (PIL-style,
 * antialiased when shrinking), centre-crop to size×size, scale to [0,1], normalise by mean/std,
 * and lay out as CHW float32.
 */
export interface RgbaImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

export interface PreprocessOptions {
  size: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** PIL's bicubic kernel (a = -0.5). */
function cubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

/** Per-output-pixel source taps for resampling `inSize` → `outSize` over the window [from, from+span). */
function computeTaps(inSize: number, outSize: number, from: number, span: number): Taps {
  const scale = span / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = from + (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    let total = 0;
    const n = Math.min(hi - lo, stride);
    for (let j = 0; j < n; j++) {
      const w = cubic((lo + j - center + 0.5) / filterScale);
      weights[i * stride + j] = w;
      total += w;
    }
    if (total !== 0) for (let j = 0; j < n; j++) weights[i * stride + j] /= total;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, stride };
}

/**
 * The pixels with transparency flattened onto black (colour × alpha), or `data` itself when every
 * pixel is opaque. A browser canvas keeps colours premultiplied by alpha — a transparent pixel's
 * colour is gone — while a file decoded in Node keeps what was stored under it; colour × alpha is
 * what both agree on (within rounding), so a transparent PNG embeds the same in the app and in an
 * index. Opaque images are untouched.
 */
export function flattenAlpha(data: Uint8Array | Uint8ClampedArray, pixels: number): Uint8Array | Uint8ClampedArray | Float32Array {
  let opaque = true;
  for (let p = 3; p < pixels * 4; p += 4) {
    if (data[p] !== 255) {
      opaque = false;
      break;
    }
  }
  if (opaque) return data;
  const flat = new Float32Array(pixels * 4);
  for (let p = 0; p < pixels * 4; p += 4) {
    const a = data[p + 3] / 255;
    flat[p] = data[p] * a;
    flat[p + 1] = data[p + 1] * a;
    flat[p + 2] = data[p + 2] * a;
    flat[p + 3] = 255;
  }
  return flat;
}

export function preprocessRgba(image: RgbaImage, opts: PreprocessOptions, out?: Float32Array): Float32Array {
  const { width: w, height: h } = image;
  if (!(w > 0 && h > 0) || image.data.length < w * h * 4) throw new Error('Image data is empty or truncated.');
  const data = flattenAlpha(image.data, w * h);
  const size = opts.size;
  // Shortest edge → size, then centre crop; expressed as a crop window in source pixels.
  // The long edge is truncated, int(size * long / short), as in transformers' CLIPImageProcessor
  // and torchvision's Resize; size * w is an exact integer, so exact ratios stay exact.
  const short = Math.min(w, h);
  const resizedW = Math.max(size, Math.floor((size * w) / short));
  const resizedH = Math.max(size, Math.floor((size * h) / short));
  const cropX = Math.floor((resizedW - size) / 2);
  const cropY = Math.floor((resizedH - size) / 2);
  const xTaps = computeTaps(w, size, (cropX * w) / resizedW, (size * w) / resizedW);
  const yTaps = computeTaps(h, size, (cropY * h) / resizedH, (size * h) / resizedH);

  // Horizontal pass over every source row → [h, size, 3], clamped to [0,255] like Pillow's 8-bit
  // intermediate image (bicubic overshoots at hard edges; clamping only at the end differs by
  // several grey levels there).
  const tmp = new Float32Array(h * size * 3);
  for (let y = 0; y < h; y++) {
    const rowBase = y * w * 4;
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0;
      const s0 = xTaps.start[x];
      const wo = x * xTaps.stride;
      for (let k = 0; k < xTaps.count[x]; k++) {
        const wt = xTaps.weights[wo + k];
        const p = rowBase + (s0 + k) * 4;
        r += wt * data[p];
        g += wt * data[p + 1];
        b += wt * data[p + 2];
      }
      const t = (y * size + x) * 3;
      tmp[t] = clamp255(r);
      tmp[t + 1] = clamp255(g);
      tmp[t + 2] = clamp255(b);
    }
  }
  // Vertical pass, clamp to the 8-bit range like an image library would, then normalise to CHW.
  const plane = size * size;
  const result = out ?? new Float32Array(3 * plane);
  const inv = [1 / (255 * opts.std[0]), 1 / (255 * opts.std[1]), 1 / (255 * opts.std[2])];
  const bias = [opts.mean[0] / opts.std[0], opts.mean[1] / opts.std[1], opts.mean[2] / opts.std[2]];
  for (let y = 0; y < size; y++) {
    const s0 = yTaps.start[y];
    const wo = y * yTaps.stride;
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < yTaps.count[y]; k++) {
        const wt = yTaps.weights[wo + k];
        const t = ((s0 + k) * size + x) * 3;
        r += wt * tmp[t];
        g += wt * tmp[t + 1];
        b += wt * tmp[t + 2];
      }
      const o = y * size + x;
      result[o] = clamp255(r) * inv[0] - bias[0];
      result[plane + o] = clamp255(g) * inv[1] - bias[1];
      result[2 * plane + o] = clamp255(b) * inv[2] - bias[2];
    }
  }
  return result;
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}
