/**
 * Sketch views of zoo samples, for sketch queries and sketch-aware training:
 * - `lineDrawing`: edge detection of a render → black strokes on white (what a person tracing the
 *   image would draw);
 * - `strokeSketch`: the subject outlines drawn programmatically as wobbly black strokes on white,
 *   without palette, background or style;
 * - `pencilSketch`: a pencil / charcoal rendering of a render (colour-dodge of the luminance by
 *   its blur, plus a chroma term), soft grey strokes with grain and optional hatching;
 * - `contourSketch`: "stroke simplification" of a render: colour clusters → region boundaries →
 *   simplified polylines → redrawn as freehand strokes of varying thickness (perfect-freehand).
 * `trainingSketch` picks one family per exported image (`TRAINING_SKETCH_FAMILIES[n % 4]`).
 */
import { getStroke } from 'perfect-freehand';
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

// ---------------------------------------------------------------------------------------------
// Shared helpers for the image-space sketch families
// ---------------------------------------------------------------------------------------------

/** Salts of the per-family random streams (distinct from the render and stroke-sketch streams). */
export const PENCIL_SALT = 0x7e4c11;
export const CONTOUR_SALT = 0x2c0a70;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
const smoothstep = (t: number) => {
  const u = clamp01(t);
  return u * u * (3 - 2 * u);
};

/** Luminance and two opponent colour channels (red–green, yellow–blue) of an RGBA image. */
function opponentChannels(rgba: Uint8ClampedArray, n: number): [Float32Array, Float32Array, Float32Array] {
  const l = new Float32Array(n);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const r = rgba[j]!;
    const g = rgba[j + 1]!;
    const bl = rgba[j + 2]!;
    l[i] = 0.299 * r + 0.587 * g + 0.114 * bl;
    a[i] = r - g;
    b[i] = 0.5 * (r + g) - bl;
  }
  return [l, a, b];
}

/** Separable box blur of one w×h float channel (edges clamped), `passes` times. Returns a new array. */
function blurChannel(src: Float32Array, w: number, h: number, radius: number, passes = 1): Float32Array {
  const out = new Float32Array(src);
  const tmp = new Float32Array(w * h);
  const col = new Float32Array(w);
  const inv = 1 / (2 * radius + 1);
  for (let p = 0; p < passes; p++) {
    // horizontal: out -> tmp
    for (let y = 0; y < h; y++) {
      const row = y * w;
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += out[row + (k < 0 ? 0 : k >= w ? w - 1 : k)]!;
      for (let x = 0; x < w; x++) {
        tmp[row + x] = acc * inv;
        const xo = x - radius < 0 ? 0 : x - radius;
        const xi = x + radius + 1 >= w ? w - 1 : x + radius + 1;
        acc += out[row + xi]! - out[row + xo]!;
      }
    }
    // vertical: tmp -> out, row by row with running column sums (cache friendly)
    col.fill(0);
    for (let k = -radius; k <= radius; k++) {
      const row = (k < 0 ? 0 : k >= h ? h - 1 : k) * w;
      for (let x = 0; x < w; x++) col[x] += tmp[row + x]!;
    }
    for (let y = 0; y < h; y++) {
      const row = y * w;
      const ro = (y - radius < 0 ? 0 : y - radius) * w;
      const ri = (y + radius + 1 >= h ? h - 1 : y + radius + 1) * w;
      for (let x = 0; x < w; x++) {
        out[row + x] = col[x]! * inv;
        col[x] += tmp[ri + x]! - tmp[ro + x]!;
      }
    }
  }
  return out;
}

/** The value below which a fraction `q` of `v` (assumed in [0, maxV]) lies, from a 512-bin histogram. */
function quantile(v: Float32Array, q: number, maxV: number): number {
  const bins = 512;
  const hist = new Uint32Array(bins);
  const k = (bins - 1) / maxV;
  for (let i = 0; i < v.length; i++) {
    const b = (v[i]! * k + 0.5) | 0;
    hist[b < 0 ? 0 : b >= bins ? bins - 1 : b]!++;
  }
  const target = q * v.length;
  let acc = 0;
  for (let b = 0; b < bins; b++) {
    acc += hist[b]!;
    if (acc >= target) return b / k;
  }
  return maxV;
}

// ---------------------------------------------------------------------------------------------
// Pencil / charcoal
// ---------------------------------------------------------------------------------------------

/**
 * Pencil / charcoal sketch (RGBA, black-grey on off-white paper) of an RGBA render.
 *
 * The classic pencil filter: colour-dodge of the (lightly smoothed) luminance by a blurred inverted
 * copy, i.e. darkness ∝ (blur(L) − L) / blur(L) (with an offset so dark renders do not blow up
 * noise), which darkens the dark side of every outline and leaves flat regions and smooth
 * gradients white. A chroma term (distance of the opponent colour channels from their blur) keeps
 * edges between equally bright colours. The darkness is scaled adaptively (high percentile,
 * clamped so flat images stay blank), passed through a contrast curve and textured with diagonal
 * pencil grain; darker regions of contrasty renders optionally get faint seeded hatching.
 */
export function pencilSketch(rgba: Uint8ClampedArray, size: number, seed: number): Uint8ClampedArray {
  const rand = prng(seed >>> 0);
  const n = size * size;
  const scale = size / 224;
  const [l0, a0, b0] = opponentChannels(rgba, n);
  const pre = Math.max(1, Math.round(scale));
  const l = blurChannel(l0, size, size, pre, 1);
  const a = blurChannel(a0, size, size, pre, 1);
  const b = blurChannel(b0, size, size, pre, 1);
  const radius = Math.max(2, Math.round((2.2 + rand() * 1.6) * scale));
  const lw = blurChannel(l, size, size, radius, 2);
  const aw = blurChannel(a, size, size, radius + 1, 1);
  const bw = blurChannel(b, size, size, radius + 1, 1);

  // darkness: luminance dodge (one-sided, the darker side of an edge) + colour difference
  const chromaWeight = 0.55 + rand() * 0.25;
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const dl = Math.max(0, lw[i]! - l[i]!) / (0.5 * lw[i]! + 35);
    const da = aw[i]! - a[i]!;
    const db = bw[i]! - b[i]!;
    const dc = Math.sqrt(da * da + db * db) / 110;
    d[i] = Math.min(1.5, dl + chromaWeight * dc);
  }
  const p = quantile(d, 0.965, 1.5);
  const lo = Math.min(0.08, Math.max(0.012, p * 0.22));
  const span = Math.min(0.45, Math.max(0.03, p * (0.55 + rand() * 0.2)));

  // hatching in darker regions of contrasty renders (optional, seeded)
  const lp5 = quantile(l, 0.05, 255);
  const lp95 = quantile(l, 0.95, 255);
  const range = lp95 - lp5;
  const hatchAmt = rand() < 0.35 || range < 60 ? 0 : 0.12 + rand() * 0.14;
  const tone = hatchAmt > 0 ? lw : null;
  const ang = (rand() < 0.5 ? 1 : -1) * (0.5 + rand() * 0.4);
  const ca = Math.cos(ang);
  const sa = Math.sin(ang);
  const spacing = (4.5 + rand() * 2.5) * scale;
  const phase = rand() * spacing;
  const lineHalf = 0.55 * Math.max(1, scale);

  // pencil grain: per-pixel noise averaged along a diagonal (streaky graphite texture)
  const noise = new Float32Array(n);
  for (let i = 0; i < n; i++) noise[i] = rand();
  const grainAmt = 0.25 + rand() * 0.2;
  const paper = 246 + rand() * 8;
  const lead = 20 + rand() * 25;
  // contrast curve: smoothstep, bent towards lighter (s²) or darker (√s) strokes per seed
  const bend = rand() * 2 - 1;

  const out = new Uint8ClampedArray(n * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const s0 = smoothstep((d[i]! - lo) / span);
      let ink = s0 === 0 ? 0 : bend > 0 ? s0 + bend * (Math.sqrt(s0) - s0) : s0 - bend * (s0 * s0 - s0);
      if (tone) {
        const t = (lp95 - tone[i]!) / range;
        if (t > 0.5) {
          const u = x * ca + y * sa + phase;
          const f = u - Math.floor(u / spacing) * spacing - spacing / 2;
          let h = Math.max(0, 1 - Math.abs(f) / lineHalf);
          if (t > 0.8) {
            const u2 = x * sa - y * ca + phase;
            const f2 = u2 - Math.floor(u2 / spacing) * spacing - spacing / 2;
            h = Math.max(h, Math.max(0, 1 - Math.abs(f2) / lineHalf));
          }
          const hatch = h * hatchAmt * smoothstep((t - 0.5) / 0.35);
          ink = 1 - (1 - ink) * (1 - hatch);
        }
      }
      let g = noise[i]!;
      if (x > 1 && y > 1) g = (g + noise[i - size - 1]! + noise[i - 2 * size - 2]!) / 3;
      ink *= 1 - grainAmt + grainAmt * 1.6 * g;
      const v = paper - (paper - lead) * clamp01(ink);
      const j = i * 4;
      out[j] = v;
      out[j + 1] = v;
      out[j + 2] = v;
      out[j + 3] = 255;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Contour (stroke simplification)
// ---------------------------------------------------------------------------------------------

type Pt = [number, number];

/** Ramer–Douglas–Peucker simplification of an open polyline. */
function simplifyRdp(pts: Pt[], eps: number): Pt[] {
  if (pts.length < 3) return pts.slice();
  const keep = new Uint8Array(pts.length);
  keep[0] = 1;
  keep[pts.length - 1] = 1;
  const stack: [number, number][] = [[0, pts.length - 1]];
  const eps2 = eps * eps;
  while (stack.length) {
    const [s, e] = stack.pop()!;
    const [ax, ay] = pts[s]!;
    const [bx, by] = pts[e]!;
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    let best = -1;
    let bestD = eps2;
    for (let k = s + 1; k < e; k++) {
      const [px, py] = pts[k]!;
      let d2: number;
      if (len2 === 0) d2 = (px - ax) ** 2 + (py - ay) ** 2;
      else {
        const cr = (px - ax) * dy - (py - ay) * dx;
        d2 = (cr * cr) / len2;
      }
      if (d2 > bestD) {
        bestD = d2;
        best = k;
      }
    }
    if (best >= 0) {
      keep[best] = 1;
      stack.push([s, best], [best, e]);
    }
  }
  return pts.filter((_, k) => keep[k]);
}

function polylineLength(pts: Pt[]): number {
  let s = 0;
  for (let k = 1; k < pts.length; k++) s += Math.hypot(pts[k]![0] - pts[k - 1]![0], pts[k]![1] - pts[k - 1]![1]);
  return s;
}

/**
 * Chains the marked cells of a w×h grid (a boundary band 1–2 cells wide) into polylines of cell
 * coordinates: a greedy tracker that starts at loose ends (then anywhere left), steps to the
 * unvisited 8-neighbour that keeps its heading best, and retires the other neighbours of every
 * cell it passes so a 2-cell band yields one line. A chain ending next to its start is closed.
 */
function traceMarkedCells(w: number, h: number, marked: Uint8Array): { pts: Pt[]; closed: boolean }[] {
  const DX = [1, 1, 0, -1, -1, -1, 0, 1];
  const DY = [0, 1, 1, 1, 0, -1, -1, -1];
  const visited = new Uint8Array(w * h); // on a chain: no chain enters it again
  const covered = new Uint8Array(w * h); // beside a chain: no chain starts there; entering costs
  const nb = (x: number, y: number, d: number) => {
    const xx = x + DX[d]!;
    const yy = y + DY[d]!;
    return xx < 0 || yy < 0 || xx >= w || yy >= h ? -1 : yy * w + xx;
  };
  const chains: { pts: Pt[]; closed: boolean }[] = [];
  const trace = (i0: number) => {
    let x = i0 % w;
    let y = (i0 - x) / w;
    const pts: Pt[] = [[x, y]];
    visited[i0] = 1;
    let hx = 0;
    let hy = 0;
    let onCovered = 0;
    for (;;) {
      let best = -1;
      let bestScore = -Infinity;
      const hl = Math.hypot(hx, hy);
      for (let d = 0; d < 8; d++) {
        const j = nb(x, y, d);
        if (j < 0 || !marked[j] || visited[j]) continue;
        const len = d & 1 ? Math.SQRT2 : 1;
        const dot = (DX[d]! * hx + DY[d]! * hy) / len;
        if (dot < -0.1 * hl) continue; // no sharp turns back
        // prefer keeping the heading, fresh cells, then 4-neighbours (closer)
        const score = dot - 0.1 * len - (covered[j] ? 0.6 : 0);
        if (score > bestScore) {
          bestScore = score;
          best = d;
        }
      }
      if (best < 0) break;
      x += DX[best]!;
      y += DY[best]!;
      const i = y * w + x;
      if (covered[i]) onCovered++;
      visited[i] = 1;
      // heading: smoothed direction of travel
      hx = 0.5 * hx + 0.5 * DX[best]!;
      hy = 0.5 * hy + 0.5 * DY[best]!;
      pts.push([x, y]);
      // retire the marked cells beside the path (the band's other rows), not those ahead
      const hn = Math.hypot(hx, hy) || 1;
      for (let d = 0; d < 8; d++) {
        const j = nb(x, y, d);
        if (j < 0 || !marked[j]) continue;
        const len = d & 1 ? Math.SQRT2 : 1;
        if (Math.abs(DX[d]! * hx + DY[d]! * hy) / (len * hn) < 0.75) covered[j] = 1;
      }
    }
    // a chain running mostly beside another one is a duplicate
    if (onCovered > 0.6 * (pts.length - 1)) return;
    const [sx, sy] = pts[0]!;
    const closed = pts.length > 6 && Math.abs(x - sx) <= 2 && Math.abs(y - sy) <= 2;
    if (closed) pts.push([sx, sy]);
    if (pts.length >= 2) chains.push({ pts, closed });
  };
  // loose ends first (one marked neighbour), then whatever is left (loops)
  for (let i = 0; i < w * h; i++) {
    if (!marked[i] || visited[i] || covered[i]) continue;
    const x = i % w;
    const y = (i - x) / w;
    let n = 0;
    for (let d = 0; d < 8; d++) {
      const j = nb(x, y, d);
      if (j >= 0 && marked[j]) n++;
    }
    if (n === 1) trace(i);
  }
  for (let i = 0; i < w * h; i++) if (marked[i] && !visited[i] && !covered[i]) trace(i);
  return chains;
}

/** Moving-average smoothing of a polyline (endpoints fixed unless closed), `passes` times. */
function smoothPolyline(pts: Pt[], closed: boolean, passes: number): Pt[] {
  let cur = pts;
  const n = pts.length - (closed ? 1 : 0); // a closed chain repeats its first point at the end
  if (n < 3) return pts;
  for (let p = 0; p < passes; p++) {
    const next: Pt[] = [];
    for (let k = 0; k < n; k++) {
      if (!closed && (k === 0 || k === n - 1)) {
        next.push(cur[k]!);
        continue;
      }
      const a = cur[(k - 1 + n) % n]!;
      const b = cur[k]!;
      const c = cur[(k + 1) % n]!;
      next.push([(a[0] + 2 * b[0] + c[0]) / 4, (a[1] + 2 * b[1] + c[1]) / 4]);
    }
    if (closed) next.push(next[0]!);
    cur = next;
  }
  return cur;
}

/** Points every ≈`spacing` along a polyline (keeping its corners). */
function resample(pts: Pt[], spacing: number): Pt[] {
  const out: Pt[] = [pts[0]!];
  for (let k = 1; k < pts.length; k++) {
    const [ax, ay] = pts[k - 1]!;
    const [bx, by] = pts[k]!;
    const segs = Math.max(1, Math.round(Math.hypot(bx - ax, by - ay) / spacing));
    for (let s = 1; s <= segs; s++) out.push([ax + ((bx - ax) * s) / segs, ay + ((by - ay) * s) / segs]);
  }
  return out;
}

/**
 * Contour ("stroke simplification") sketch (RGBA, dark strokes on white) of an RGBA render.
 *
 * The render is block-averaged to a ≈112² grid (luminance + opponent colour) and clustered into
 * 4–6 colours by seeded k-means (k-means++ start, a few Lloyd steps on a subsample); isolated
 * cells are relabelled. Region boundaries are marked as a band of grid cells (once per boundary:
 * on a thin feature, else on the darker side; only where the colour really steps), the band is
 * followed into polylines by a heading-keeping tracker, and the polylines are smoothed,
 * simplified with Ramer–Douglas–Peucker, filtered by length, kept up to an ink budget, split into
 * hand-length pieces and redrawn as perfect-freehand strokes with wobble, offset, overshoot,
 * pressure and thickness variation.
 */
export function contourSketch(rgba: Uint8ClampedArray, size: number, seed: number, createCanvas: CanvasFactory): Uint8ClampedArray {
  const rand = prng(seed >>> 0);
  const scale = size / 224;
  const f = Math.max(1, Math.round(size / 112));
  const w = Math.floor(size / f);
  const h = w;
  const m = w * h;
  // block average in (L, a, b); no further blur by default: thin lines (outlines, stripes) must
  // keep their colour to get a cluster of their own
  const gl = new Float32Array(m);
  const ga = new Float32Array(m);
  const gb = new Float32Array(m);
  const chroma = 0.6;
  const cellX = new Int32Array(w * f);
  for (let x = 0; x < w * f; x++) cellX[x] = Math.floor(x / f);
  const norm = 1 / (f * f);
  for (let y = 0; y < h * f; y++) {
    const crow = Math.floor(y / f) * w;
    for (let x = 0, j = y * size * 4; x < w * f; x++, j += 4) {
      const r = rgba[j]!;
      const g = rgba[j + 1]!;
      const bl = rgba[j + 2]!;
      const ci = crow + cellX[x]!;
      gl[ci] += 0.299 * r + 0.587 * g + 0.114 * bl;
      ga[ci] += r - g;
      gb[ci] += 0.5 * (r + g) - bl;
    }
  }
  for (let i = 0; i < m; i++) {
    gl[i] *= norm;
    ga[i] *= norm * chroma;
    gb[i] *= norm * chroma;
  }

  // segment and mark boundaries; a render whose boundaries are everywhere (scanlines and other
  // fine periodic textures) is segmented again from a blurred grid
  const segment = (fl: Float32Array, fa: Float32Array, fb: Float32Array): Uint8Array => {
    // k-means (k-means++ init) on a subsample, features packed for speed
    const k = 5 + Math.floor(rand() * 3);
    const stride = 5;
    const ns = Math.floor((m - 1) / stride) + 1;
    const sf = new Float32Array(ns * 3);
    const off = Math.floor(rand() * stride);
    let ns2 = 0;
    for (let i = off; i < m; i += stride, ns2++) {
      sf[ns2 * 3] = fl[i]!;
      sf[ns2 * 3 + 1] = fa[i]!;
      sf[ns2 * 3 + 2] = fb[i]!;
    }
    const cen = new Float32Array(k * 3);
    const first = Math.floor(rand() * ns2) * 3;
    cen[0] = sf[first]!;
    cen[1] = sf[first + 1]!;
    cen[2] = sf[first + 2]!;
    const dmin = new Float32Array(ns2).fill(Infinity);
    for (let c = 1; c < k; c++) {
      const px = cen[(c - 1) * 3]!;
      const py = cen[(c - 1) * 3 + 1]!;
      const pz = cen[(c - 1) * 3 + 2]!;
      let tot = 0;
      for (let s = 0, q = 0; s < ns2; s++, q += 3) {
        const dl = sf[q]! - px;
        const da = sf[q + 1]! - py;
        const db = sf[q + 2]! - pz;
        const d = dl * dl + da * da + db * db;
        if (d < dmin[s]!) dmin[s] = d;
        tot += dmin[s]!;
      }
      let pick = 0;
      if (tot > 0) {
        let r = rand() * tot;
        for (let s = 0; s < ns2; s++) {
          r -= dmin[s]!;
          if (r <= 0) {
            pick = s;
            break;
          }
        }
      }
      cen[c * 3] = sf[pick * 3]!;
      cen[c * 3 + 1] = sf[pick * 3 + 1]!;
      cen[c * 3 + 2] = sf[pick * 3 + 2]!;
    }
    const nearest = (x: number, y: number, z: number) => {
      let best = 0;
      let bd = Infinity;
      for (let c = 0, q = 0; c < k; c++, q += 3) {
        const dl = x - cen[q]!;
        const da = y - cen[q + 1]!;
        const db = z - cen[q + 2]!;
        const d = dl * dl + da * da + db * db;
        if (d < bd) {
          bd = d;
          best = c;
        }
      }
      return best;
    };
    const acc = new Float64Array(k * 4);
    for (let it = 0; it < 3; it++) {
      acc.fill(0);
      for (let q = 0; q < ns2 * 3; q += 3) {
        const c = nearest(sf[q]!, sf[q + 1]!, sf[q + 2]!) * 4;
        acc[c] += sf[q]!;
        acc[c + 1] += sf[q + 1]!;
        acc[c + 2] += sf[q + 2]!;
        acc[c + 3]++;
      }
      for (let c = 0; c < k; c++) {
        const cnt = acc[c * 4 + 3]!;
        if (cnt > 0) {
          cen[c * 3] = acc[c * 4]! / cnt;
          cen[c * 3 + 1] = acc[c * 4 + 1]! / cnt;
          cen[c * 3 + 2] = acc[c * 4 + 2]! / cnt;
        }
      }
    }
    const lab0 = new Uint8Array(m);
    for (let i = 0; i < m; i++) lab0[i] = nearest(fl[i]!, fa[i]!, fb[i]!);
    // isolated cells (no 8-neighbour of their cluster: grain, halftone speckle) take the majority
    // label of their neighbours; 1-cell-wide lines (line art, stripes) stay
    const lab = Uint8Array.from(lab0);
    const cnt = new Uint8Array(8);
    const nbs = new Int32Array(8);
    for (let y = 0; y < h; y++) {
      // (at the border the missing neighbours are mirrored)
      const r0 = (y > 0 ? y - 1 : y + 1) * w;
      const r1 = y * w;
      const r2 = (y < h - 1 ? y + 1 : y - 1) * w;
      for (let x = 0; x < w; x++) {
        const own = lab0[r1 + x]!;
        const x0 = x > 0 ? x - 1 : x + 1;
        const x2 = x < w - 1 ? x + 1 : x - 1;
        if (
          lab0[r0 + x0] === own || lab0[r0 + x] === own || lab0[r0 + x2] === own || lab0[r1 + x0] === own ||
          lab0[r1 + x2] === own || lab0[r2 + x0] === own || lab0[r2 + x] === own || lab0[r2 + x2] === own
        ) {
          continue;
        }
        nbs[0] = r0 + x0;
        nbs[1] = r0 + x;
        nbs[2] = r0 + x2;
        nbs[3] = r1 + x0;
        nbs[4] = r1 + x2;
        nbs[5] = r2 + x0;
        nbs[6] = r2 + x;
        nbs[7] = r2 + x2;
        cnt.fill(0);
        for (let q = 0; q < 8; q++) cnt[lab0[nbs[q]!]!]!++;
        let best = own;
        for (let c = 0; c < k; c++) if (cnt[c]! > cnt[best]!) best = c;
        lab[r1 + x] = best;
      }
    }

    // colour change across a pair of 4-neighbour cells of different clusters, looking one cell
    // further on each side so soft (blurred) steps count in full
    const colourStep2 = (i: number, j: number) => {
      const dl = fl[i]! - fl[j]!;
      const da = fa[i]! - fa[j]!;
      const db = fb[i]! - fb[j]!;
      return dl * dl + da * da + db * db;
    };
    // a step (edge) shows across the outer pair, a ridge (thin line) between a side and the far side
    const crackStep = (a: number, b: number, a2: number, b2: number) =>
      Math.sqrt(Math.max(colourStep2(a2, b2), Math.min(colourStep2(a, b2), colourStep2(a, a2)), Math.min(colourStep2(b, a2), colourStep2(b, b2))));
    // thin features: cells in a run of ≤ 2 equal labels bounded by other labels (rows or columns)
    const ridge = new Uint8Array(m);
    const runs = (i0: number, di: number, n: number) => {
      let s0 = 0;
      for (let t = 1; t <= n; t++) {
        if (t < n && lab[i0 + t * di] === lab[i0 + s0 * di]) continue;
        if (t - s0 <= 2 && s0 > 0 && t < n) for (let u = s0; u < t; u++) ridge[i0 + u * di] = 1;
        s0 = t;
      }
    };
    for (let y = 0; y < h; y++) runs(y * w, 1, w);
    for (let x = 0; x < w; x++) runs(x, w, h);
    const cellL = (i: number) => cen[lab[i]! * 3]!;
    // boundary cells: where the cluster changes and the colour really steps (threshold adapted to
    // the render's contrast, within bounds, so k-means bands across smooth gradients are not drawn).
    // Each boundary is marked once: on the thin feature itself, else on its darker side.
    // pairs (i, j) of differing 4-neighbours, with their step
    const pi = new Int32Array(2 * m);
    const pj = new Int32Array(2 * m);
    const steps = new Float32Array(2 * m);
    let np = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (x + 1 < w && lab[i] !== lab[i + 1]) {
          pi[np] = i;
          pj[np] = i + 1;
          steps[np++] = crackStep(i, i + 1, y * w + Math.max(0, x - 1), y * w + Math.min(w - 1, x + 2));
        }
        if (y + 1 < h && lab[i] !== lab[i + w]) {
          pi[np] = i;
          pj[np] = i + w;
          steps[np++] = crackStep(i, i + w, Math.max(0, y - 1) * w + x, Math.min(h - 1, y + 2) * w + x);
        }
      }
    }
    const sorted = steps.slice(0, np).sort();
    const q80 = np ? sorted[Math.floor(np * 0.8)]! : 0;
    const stepMin = Math.min(12, Math.max(6, q80 * 0.3));
    const marked = new Uint8Array(m);
    for (let t = 0; t < np; t++) {
      if (steps[t]! < stepMin) continue;
      const i = pi[t]!;
      const j = pj[t]!;
      if (ridge[i] && !ridge[j]) marked[i] = 1;
      else if (ridge[j] && !ridge[i]) marked[j] = 1;
      else if (ridge[i] && ridge[j]) marked[i] = marked[j] = 1;
      else {
        const li = cellL(i);
        const lj = cellL(j);
        marked[li < lj || (li === lj && lab[i]! < lab[j]!) ? i : j] = 1;
      }
    }
    return marked;
  };
  let marked = segment(gl, ga, gb);
  for (let r = 1; r <= 2; r++) {
    let count = 0;
    for (let i = 0; i < m; i++) count += marked[i]!;
    if (count <= 0.5 * m) break;
    marked = segment(blurChannel(gl, w, h, r, 1), blurChannel(ga, w, h, r, 1), blurChannel(gb, w, h, r, 1));
  }

  // trace, smooth, simplify, filter
  const chains = traceMarkedCells(w, h, marked);
  const minLen = (9 + rand() * 4) * scale;
  const eps = (0.7 + rand() * 0.5) * f;
  let polys: { pts: Pt[]; len: number; closed: boolean }[] = [];
  for (const ch of chains) {
    const sm = smoothPolyline(ch.pts, ch.closed, 3).map(([x, y]) => [(x + 0.5) * f, (y + 0.5) * f] as Pt);
    const simp = simplifyRdp(sm, eps);
    const len = polylineLength(simp);
    if (len >= minLen && simp.length >= 2) polys.push({ pts: simp, len, closed: ch.closed });
  }
  // keep the longest boundaries up to an ink budget (textured renders make many tiny loops);
  // lines running into the image border (mostly background texture) count for half
  const margin = 3 * scale;
  const atBorder = ([x, y]: Pt) => x < margin || y < margin || x > size - margin || y > size - margin;
  const priority = (p: { pts: Pt[]; len: number }) => p.len * (atBorder(p.pts[0]!) || atBorder(p.pts[p.pts.length - 1]!) ? 0.5 : 1);
  polys.sort((p, q) => priority(q) - priority(p));
  const budget = (4000 + rand() * 1500) * scale;
  let used = 0;
  polys = polys.filter((p) => (used += p.len) <= budget || p === polys[0]);

  // redraw as freehand strokes
  const c = getContext2d(createCanvas, size, size);
  c.fillStyle = '#ffffff';
  c.fillRect(0, 0, size, size);
  const baseWidth = (1.7 + rand() * 0.9) * scale;
  const wobbleAmp = (0.3 + rand() * 0.6) * scale;
  for (const poly of polys) {
    // split long boundaries into hand-length pieces (slightly overlapping)
    const dense = resample(poly.pts, 4 * scale);
    const pieces: Pt[][] = [];
    let start = 0;
    while (start < dense.length - 1) {
      const pieceLen = Math.round((45 + rand() * 70) / 4);
      const end = Math.min(dense.length - 1, start + pieceLen);
      const piece = dense.slice(start, end + 1);
      if (dense.length - 1 - end < 4) {
        piece.push(...dense.slice(end + 1));
        pieces.push(piece);
        break;
      }
      pieces.push(piece);
      start = Math.max(start + 1, end - 1 - Math.floor(rand() * 2));
    }
    for (const piece of pieces) {
      if (piece.length < 2) continue;
      // per-stroke offset, small rotation about the centre, low-frequency wobble, overshoot
      let cx = 0;
      let cy = 0;
      for (const [x, y] of piece) {
        cx += x;
        cy += y;
      }
      cx /= piece.length;
      cy /= piece.length;
      const ox = (rand() * 2 - 1) * 0.8 * scale;
      const oy = (rand() * 2 - 1) * 0.8 * scale;
      const rot = (rand() * 2 - 1) * 0.025;
      const cr = Math.cos(rot);
      const sr = Math.sin(rot);
      const lambda = (18 + rand() * 30) * scale;
      const ph = rand() * Math.PI * 2;
      const ph2 = rand() * Math.PI * 2;
      const pts: number[][] = [];
      let run = 0;
      for (let q = 0; q < piece.length; q++) {
        const [x, y] = piece[q]!;
        if (q > 0) run += Math.hypot(x - piece[q - 1]![0], y - piece[q - 1]![1]);
        const a = piece[Math.max(0, q - 1)]!;
        const b = piece[Math.min(piece.length - 1, q + 1)]!;
        const tl = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
        const nx = -(b[1] - a[1]) / tl;
        const ny = (b[0] - a[0]) / tl;
        const wob = wobbleAmp * Math.sin((run / lambda) * Math.PI * 2 + ph) + (rand() * 2 - 1) * 0.15 * scale;
        const rx = x - cx;
        const ry = y - cy;
        const pressure = 0.55 + 0.3 * Math.sin((run / lambda) * Math.PI + ph2) + (rand() * 2 - 1) * 0.08;
        pts.push([cx + rx * cr - ry * sr + ox + nx * wob, cy + rx * sr + ry * cr + oy + ny * wob, clamp01(pressure)]);
      }
      // overshoot the ends a little along their tangents
      const over = (q0: number, q1: number) => {
        const a = pts[q0]!;
        const b = pts[q1]!;
        const dl = Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!) || 1;
        const e = (0.5 + rand() * 2.5) * scale;
        return [a[0]! + ((a[0]! - b[0]!) / dl) * e, a[1]! + ((a[1]! - b[1]!) / dl) * e, a[2]! * 0.7];
      };
      if (!poly.closed || pieces.length > 1) {
        pts.unshift(over(0, 1));
        pts.push(over(pts.length - 1, pts.length - 2));
      }
      const outlineDense = getStroke(pts, {
        size: baseWidth * (0.75 + rand() * 0.6),
        thinning: 0.5 + rand() * 0.2,
        smoothing: 0.6,
        streamline: 0.25 + rand() * 0.2,
        simulatePressure: false,
        last: true,
        start: { taper: (2 + rand() * 8) * scale, cap: true },
        end: { taper: (2 + rand() * 8) * scale, cap: true },
      });
      // (fewer vertices: each path call crosses into the canvas backend)
      const outline = simplifyRdp(outlineDense as Pt[], 0.3 * scale);
      if (outline.length < 3) continue;
      const grey = Math.round(10 + rand() * 50);
      c.fillStyle = `rgb(${grey},${grey},${grey})`;
      c.globalAlpha = 0.8 + rand() * 0.2;
      c.beginPath();
      c.moveTo(outline[0]![0], outline[0]![1]);
      for (let q = 1; q < outline.length; q++) c.lineTo(outline[q]![0], outline[q]![1]);
      c.closePath();
      c.fill();
    }
  }
  c.globalAlpha = 1;
  const px = new Uint8ClampedArray(c.getImageData(0, 0, size, size).data);
  for (let j = 3; j < px.length; j += 4) px[j] = 255;
  return px;
}

// ---------------------------------------------------------------------------------------------
// Dispatcher
// ---------------------------------------------------------------------------------------------

/** The sketch families of the training export, cycled by exported image number. */
export const TRAINING_SKETCH_FAMILIES = ['line', 'stroke', 'pencil', 'contour'] as const;
export type TrainingSketchFamily = (typeof TRAINING_SKETCH_FAMILIES)[number];

/**
 * The sketch view of exported image number `n` (render `rgba` of sample `sampleSeed` of `spec`):
 * family `TRAINING_SKETCH_FAMILIES[n % 4]`, RGBA size×size, alpha 255, deterministic.
 */
export function trainingSketch(n: number, rgba: Uint8ClampedArray, spec: ZooModelSpec, sampleSeed: number, createCanvas: CanvasFactory, size: number): Uint8ClampedArray {
  const family = TRAINING_SKETCH_FAMILIES[((n % 4) + 4) % 4]!;
  const base = combineSeeds(spec.seed, sampleSeed);
  switch (family) {
    case 'line':
      return lineDrawing(rgba, size);
    case 'stroke':
      return strokeSketch(spec, sampleSeed, createCanvas, size);
    case 'pencil':
      return pencilSketch(rgba, size, (base ^ PENCIL_SALT) >>> 0);
    case 'contour':
      return contourSketch(rgba, size, (base ^ CONTOUR_SALT) >>> 0, createCanvas);
  }
}
