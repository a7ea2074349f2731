/**
 * Sketch views of zoo samples, for sketch queries and sketch-aware training:
 * - `lineDrawing`: edge detection of a render → black strokes on white (what a person tracing the
 *   image would draw);
 * - `strokeSketch`: the subject outlines drawn programmatically as wobbly black strokes on white,
 *   without palette, background or style.
 */
import { combineSeeds, compositionDef, prng, type ZooModelSpec } from './spec.ts';
import { DEFAULT_SIZE, boxBlur, drawSubjects, edges, getContext2d, type CanvasFactory } from './render.ts';
import type { Ctx2D, Pen } from './subjects.ts';

/** Black-on-white line drawing (RGBA) of an RGBA image: smoothed Sobel edges, soft threshold. */
export function lineDrawing(rgba: Uint8ClampedArray, size: number): Uint8ClampedArray {
  const smooth = new Uint8ClampedArray(rgba);
  boxBlur(smooth, size, Math.max(1, Math.round(size / 112)), 2);
  const e = edges(smooth, size);
  // Adaptive threshold: soft (blurred) images have weak edges, so scale the ramp by a high
  // percentile of the edge strengths (clamped so flat images stay blank and sharp ones stay thin).
  const hist = new Uint32Array(256);
  for (let i = 0; i < e.length; i++) hist[Math.min(255, e[i]! | 0)]!++;
  let p = 255;
  for (let acc = 0, target = e.length * 0.03; p > 0; p--) {
    acc += hist[p]!;
    if (acc >= target) break;
  }
  const lo = Math.min(10, Math.max(3, p * 0.3));
  const span = Math.min(14, Math.max(4, p * 0.45));
  const out = new Uint8ClampedArray(size * size * 4);
  for (let i = 0, j = 0; i < e.length; i++, j += 4) {
    const m = Math.min(1, Math.max(0, (e[i]! - lo) / span));
    const v = 255 - 235 * m;
    out[j] = v;
    out[j + 1] = v;
    out[j + 2] = v;
    out[j + 3] = 255;
  }
  return out;
}

/** Salt for the stroke-sketch random stream (distinct from the render stream of the same seed). */
const SKETCH_SALT = 0x5ce7c4;

function sketchPen(c: Ctx2D, rand: () => number, pxWidth: () => number): Pen {
  const stroke = (build: (c: Ctx2D) => void, passes: number) => {
    for (let k = 0; k < passes; k++) {
      c.save();
      // jitter in unit-box units: small shift, rotation and scale, like an unsteady hand
      c.translate((rand() * 2 - 1) * 0.015, (rand() * 2 - 1) * 0.015);
      c.rotate((rand() * 2 - 1) * 0.03);
      const s = 1 + (rand() * 2 - 1) * 0.03;
      c.scale(s, s);
      c.beginPath();
      build(c);
      c.globalAlpha = k === 0 ? 0.95 : 0.6;
      c.lineWidth = pxWidth();
      c.stroke();
      c.restore();
    }
  };
  return {
    c,
    fill: (_role, build) => stroke(build, 2),
    line: (_role, _w, build) => stroke(build, 1),
  };
}

/** A hand-sketch-like stroke drawing (RGBA) of the subject(s) of `spec`, black on white. */
export function strokeSketch(spec: ZooModelSpec, sampleSeed: number, createCanvas: CanvasFactory, size = DEFAULT_SIZE): Uint8ClampedArray {
  const rand = prng(combineSeeds(spec.seed, sampleSeed) ^ SKETCH_SALT);
  const c = getContext2d(createCanvas, size, size);
  c.fillStyle = '#ffffff';
  c.fillRect(0, 0, size, size);
  c.strokeStyle = 'rgb(20,20,20)';
  // Stroke width ≈ basePx pixels: the pen works in unit-box units, so divide by the composition's
  // typical subject size in pixels (the midpoint of its scale range).
  const comp = compositionDef(spec.composition);
  const unitPx = ((comp.minScale + comp.maxScale) / 2) * size;
  const basePx = (2.2 + rand() * 1.0) * (size / 224);
  const pen = sketchPen(c, rand, () => basePx / unitPx);
  drawSubjects(c, spec, pen, rand, size);
  const px = new Uint8ClampedArray(c.getImageData(0, 0, size, size).data);
  for (let j = 3; j < px.length; j += 4) px[j] = 255;
  return px;
}
