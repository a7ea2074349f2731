/**
 * Renders samples of procedural zoo models.
 *
 * Only the standard Canvas 2D API is used (paths, gradients, getImageData), so the same code runs
 * on @napi-rs/canvas in Node and on OffscreenCanvas in a browser (worker). Styles are image-space
 * transforms on the RGBA typed array.
 *
 * Sample `sampleSeed` of model `spec` is a pure function of (spec.seed, sampleSeed, size): the
 * random stream is `prng(combineSeeds(spec.seed, sampleSeed))`.
 */
import { backgroundDef, combineSeeds, compositionDef, paletteDef, prng, styleDef, subjectDef, type PaletteDef, type Rgb, type ZooModelSpec } from './spec.ts';
import { SUBJECT_DRAW, placeSubjects, type Ctx2D, type Pen, type Role } from './subjects.ts';

export type { Ctx2D } from './subjects.ts';

/**
 * Makes a canvas of w×h pixels whose `getContext('2d')` returns a standard Canvas 2D context
 * (`(w, h) => new OffscreenCanvas(w, h)` in a browser, `nodeCanvasFactory` from `node.ts` in Node).
 */
export type CanvasFactory = (w: number, h: number) => { getContext(type: '2d'): unknown };

export const DEFAULT_SIZE = 224;

// ---------------------------------------------------------------------------------------------
// Colours
// ---------------------------------------------------------------------------------------------

interface SampleColours {
  bg: Rgb;
  bgAlt: Rgb;
  /** Indexed by Role: body, second, accent, ink, light. */
  roles: [Rgb, Rgb, Rgb, Rgb, Rgb];
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function css(c: Rgb, alpha = 1): string {
  const r = Math.round(clamp255(c[0]));
  const g = Math.round(clamp255(c[1]));
  const b = Math.round(clamp255(c[2]));
  return alpha >= 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`;
}

function jitter(c: Rgb, rand: () => number, amount: number): Rgb {
  const l = (rand() * 2 - 1) * amount;
  return [clamp255(c[0] + l + (rand() * 2 - 1) * amount * 0.4), clamp255(c[1] + l + (rand() * 2 - 1) * amount * 0.4), clamp255(c[2] + l + (rand() * 2 - 1) * amount * 0.4)];
}

/** Per-sample colour choices within a palette: background variant, role permutation, jitter. */
function sampleColours(p: PaletteDef, rand: () => number): SampleColours {
  const light = rand() < 0.7;
  const bg = jitter(light ? p.bg[0] : p.bg[1], rand, 10);
  const bgAlt = jitter(light ? p.bg[1] : p.bg[0], rand, 10);
  const fg = p.fg.map((c) => jitter(c, rand, 12)) as [Rgb, Rgb, Rgb];
  const perm = rand();
  if (perm < 0.2) [fg[0], fg[1]] = [fg[1], fg[0]];
  else if (perm < 0.35) [fg[0], fg[2]] = [fg[2], fg[0]];
  const lightC = mix(fg[1], [255, 255, 255], 0.6);
  return { bg, bgAlt, roles: [fg[0], fg[1], fg[2], jitter(p.ink, rand, 6), lightC] };
}

// ---------------------------------------------------------------------------------------------
// Backgrounds
// ---------------------------------------------------------------------------------------------

function drawBackground(c: Ctx2D, id: string, col: SampleColours, rand: () => number, size: number): void {
  c.fillStyle = css(col.bg);
  c.fillRect(0, 0, size, size);
  switch (id) {
    case 'plain':
      return;
    case 'gradient': {
      const a = rand() * Math.PI * 2;
      const h = size / 2;
      const dx = Math.cos(a) * h * 1.2;
      const dy = Math.sin(a) * h * 1.2;
      const g = c.createLinearGradient(h - dx, h - dy, h + dx, h + dy);
      const other = rand() < 0.5 ? col.bgAlt : mix(col.roles[1], col.bg, 0.3);
      g.addColorStop(0, css(col.bg));
      g.addColorStop(1, css(mix(col.bg, other, 0.75)));
      c.fillStyle = g;
      c.fillRect(0, 0, size, size);
      return;
    }
    case 'noise': {
      const blot = mix(col.bg, col.bgAlt, 0.5);
      for (let i = 0; i < 16; i++) {
        c.fillStyle = css(rand() < 0.5 ? blot : mix(col.bg, [255, 255, 255], 0.5), 0.18);
        c.beginPath();
        const r = (0.04 + rand() * 0.14) * size;
        const x = rand() * size;
        const y = rand() * size;
        c.moveTo(x + r, y);
        c.arc(x, y, r, 0, Math.PI * 2);
        c.fill();
      }
      const dark = css(mix(col.bg, col.bgAlt, 0.7), 0.45);
      const lite = css(mix(col.bg, [255, 255, 255], 0.6), 0.45);
      const n = Math.round((size * size) / 90);
      for (let i = 0; i < n; i++) {
        c.fillStyle = i & 1 ? dark : lite;
        const s = 1 + Math.floor(rand() * 2.5);
        c.fillRect(Math.floor(rand() * size), Math.floor(rand() * size), s, s);
      }
      return;
    }
    case 'stripes': {
      const angles = [0, Math.PI / 4, Math.PI / 2, -Math.PI / 4];
      const a = angles[Math.floor(rand() * angles.length)]! + (rand() * 2 - 1) * 0.15;
      const w = (0.045 + rand() * 0.06) * size;
      c.save();
      c.translate(size / 2, size / 2);
      c.rotate(a);
      c.fillStyle = css(mix(col.bg, rand() < 0.5 ? col.bgAlt : col.roles[1], 0.35));
      const ext = size * 0.75;
      for (let x = -ext; x < ext; x += 2 * w) c.fillRect(x, -ext, w, 2 * ext);
      c.restore();
      return;
    }
    case 'landscape': {
      const horizon = (0.55 + rand() * 0.15) * size;
      const sky = c.createLinearGradient(0, 0, 0, horizon);
      sky.addColorStop(0, css(mix(col.bg, col.bgAlt, 0.45)));
      sky.addColorStop(1, css(mix(col.bg, [255, 255, 255], 0.45)));
      c.fillStyle = sky;
      c.fillRect(0, 0, size, horizon + 2);
      // a soft glow
      const gx = rand() * size;
      const gy = horizon * (0.2 + rand() * 0.5);
      const glow = c.createRadialGradient(gx, gy, 0, gx, gy, size * 0.35);
      glow.addColorStop(0, css([255, 255, 240], 0.45));
      glow.addColorStop(1, css([255, 255, 240], 0));
      c.fillStyle = glow;
      c.fillRect(0, 0, size, size);
      // soft clouds
      for (let i = 0; i < 4; i++) {
        c.fillStyle = css([255, 255, 255], 0.28);
        c.beginPath();
        const x = rand() * size;
        const y = rand() * horizon * 0.6;
        const rx = (0.08 + rand() * 0.1) * size;
        c.moveTo(x + rx, y);
        c.ellipse(x, y, rx, rx * 0.35, 0, 0, Math.PI * 2);
        c.fill();
      }
      // hills: far (hazy) then near
      const hillBase = mix(col.bgAlt, col.roles[1], 0.35);
      for (let layer = 0; layer < 3; layer++) {
        const t = layer / 2;
        c.fillStyle = css(mix(mix(col.bg, [255, 255, 255], 0.3), hillBase, 0.35 + 0.45 * t));
        const y0 = horizon + (layer - 1) * size * 0.08;
        c.beginPath();
        c.moveTo(0, size);
        c.lineTo(0, y0);
        const bumps = 2 + Math.floor(rand() * 2);
        for (let k = 0; k < bumps; k++) {
          const x0 = (k / bumps) * size;
          const x1 = ((k + 1) / bumps) * size;
          c.quadraticCurveTo((x0 + x1) / 2, y0 - (0.05 + rand() * 0.12) * size, x1, y0 + (rand() * 2 - 1) * 0.03 * size);
        }
        c.lineTo(size, size);
        c.closePath();
        c.fill();
      }
      return;
    }
    case 'dots': {
      c.fillStyle = css(mix(col.bg, rand() < 0.5 ? col.bgAlt : col.roles[2], 0.3));
      const sp = (0.07 + rand() * 0.06) * size;
      const r = sp * (0.18 + rand() * 0.14);
      const ox = rand() * sp;
      const oy = rand() * sp;
      c.beginPath();
      let row = 0;
      for (let y = oy - sp; y < size + sp; y += sp, row++) {
        for (let x = ox - sp + (row % 2) * sp * 0.5; x < size + sp; x += sp) {
          c.moveTo(x + r, y);
          c.arc(x, y, r, 0, Math.PI * 2);
        }
      }
      c.fill();
      return;
    }
    default:
      throw new Error(`unknown background "${id}"`);
  }
}

// ---------------------------------------------------------------------------------------------
// Subjects
// ---------------------------------------------------------------------------------------------

function colourPen(c: Ctx2D, col: SampleColours): Pen {
  const styles = col.roles.map((r) => css(r));
  return {
    c,
    fill(role: Role, build, evenOdd) {
      c.beginPath();
      build(c);
      c.fillStyle = styles[role]!;
      c.fill(evenOdd ? 'evenodd' : 'nonzero');
    },
    line(role: Role, width, build) {
      c.beginPath();
      build(c);
      c.strokeStyle = styles[role]!;
      c.lineWidth = width;
      c.stroke();
    },
  };
}

/** Draws the subjects of one sample with `pen`. `rand` drives placement and per-instance detail. */
export function drawSubjects(c: Ctx2D, spec: ZooModelSpec, pen: Pen, rand: () => number, size: number): void {
  const draw = SUBJECT_DRAW[subjectDef(spec.subject).id];
  if (!draw) throw new Error(`no drawing for subject "${spec.subject}"`);
  const places = placeSubjects(compositionDef(spec.composition), rand, size);
  c.lineCap = 'round';
  c.lineJoin = 'round';
  for (const pl of places) {
    c.save();
    c.translate(pl.x, pl.y);
    c.rotate(pl.rot);
    c.scale(pl.flip ? -pl.size : pl.size, pl.size);
    draw(pen, rand);
    c.restore();
  }
}

// ---------------------------------------------------------------------------------------------
// Styles (image space, in place on RGBA)
// ---------------------------------------------------------------------------------------------

/**
 * Edge magnitude (Sobel, normalised so a step of height h gives ≈ h) of luminance plus half the
 * red–blue opponent channel, so edges between equally bright colours still show.
 */
export function edges(px: Uint8ClampedArray, size: number): Float32Array {
  const n = size * size;
  const l = new Float32Array(n);
  const o = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    l[i] = 0.299 * px[j]! + 0.587 * px[j + 1]! + 0.114 * px[j + 2]!;
    o[i] = 0.5 * (px[j]! - px[j + 2]!);
  }
  const out = new Float32Array(n);
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1; x < size - 1; x++) {
      const i = y * size + x;
      const a = i - size;
      const b = i + size;
      const lgx = l[a + 1]! + 2 * l[i + 1]! + l[b + 1]! - l[a - 1]! - 2 * l[i - 1]! - l[b - 1]!;
      const lgy = l[b - 1]! + 2 * l[b]! + l[b + 1]! - l[a - 1]! - 2 * l[a]! - l[a + 1]!;
      const ogx = o[a + 1]! + 2 * o[i + 1]! + o[b + 1]! - o[a - 1]! - 2 * o[i - 1]! - o[b - 1]!;
      const ogy = o[b - 1]! + 2 * o[b]! + o[b + 1]! - o[a - 1]! - 2 * o[a]! - o[a + 1]!;
      out[i] = Math.max(Math.sqrt(lgx * lgx + lgy * lgy), Math.sqrt(ogx * ogx + ogy * ogy)) * 0.25;
    }
  }
  return out;
}

/** Separable box blur of the RGB channels, `passes` times (3 passes ≈ Gaussian). In place. */
export function boxBlur(px: Uint8ClampedArray, size: number, radius: number, passes = 1): void {
  const tmp = new Float32Array(size * size * 3);
  const win = 2 * radius + 1;
  for (let p = 0; p < passes; p++) {
    // horizontal: px -> tmp
    for (let y = 0; y < size; y++) {
      const row = y * size;
      for (let ch = 0; ch < 3; ch++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) acc += px[(row + Math.min(size - 1, Math.max(0, k))) * 4 + ch]!;
        for (let x = 0; x < size; x++) {
          tmp[(row + x) * 3 + ch] = acc / win;
          const xo = Math.max(0, x - radius);
          const xi = Math.min(size - 1, x + radius + 1);
          acc += px[(row + xi) * 4 + ch]! - px[(row + xo) * 4 + ch]!;
        }
      }
    }
    // vertical: tmp -> px
    for (let x = 0; x < size; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) acc += tmp[(Math.min(size - 1, Math.max(0, k)) * size + x) * 3 + ch]!;
        for (let y = 0; y < size; y++) {
          px[(y * size + x) * 4 + ch] = acc / win;
          const yo = Math.max(0, y - radius);
          const yi = Math.min(size - 1, y + radius + 1);
          acc += tmp[(yi * size + x) * 3 + ch]! - tmp[(yo * size + x) * 3 + ch]!;
        }
      }
    }
  }
}

function posterise(px: Uint8ClampedArray, levels: number): void {
  const q = (levels - 1) / 255;
  const s = 255 / (levels - 1);
  for (let j = 0; j < px.length; j += 4) {
    px[j] = Math.round(px[j]! * q) * s;
    px[j + 1] = Math.round(px[j + 1]! * q) * s;
    px[j + 2] = Math.round(px[j + 2]! * q) * s;
  }
}

/** Sum of three uniforms, centred: a cheap bell-shaped noise in [-1.5, 1.5]. */
function bell(rand: () => number): number {
  return rand() + rand() + rand() - 1.5;
}

/** Smooth value noise in [-1, 1] on a `cells`×`cells` grid, bilinear. */
function valueNoise(size: number, cells: number, rand: () => number): Float32Array {
  const g = cells + 1;
  const grid = new Float32Array(g * g);
  for (let i = 0; i < grid.length; i++) grid[i] = rand() * 2 - 1;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const fy = (y / size) * cells;
    const y0 = Math.floor(fy);
    const ty = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = (x / size) * cells;
      const x0 = Math.floor(fx);
      const tx = fx - x0;
      const a = grid[y0 * g + x0]!;
      const b = grid[y0 * g + x0 + 1]!;
      const c = grid[(y0 + 1) * g + x0]!;
      const d = grid[(y0 + 1) * g + x0 + 1]!;
      out[y * size + x] = (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
    }
  }
  return out;
}

type StyleOp = (px: Uint8ClampedArray, size: number, rand: () => number) => void;

const PAPER: Rgb = [250, 247, 238];

const STYLE_OPS: Record<string, StyleOp> = {
  flat: () => {},
  posterise: (px) => posterise(px, 3),
  pixel: (px, size) => {
    const b = Math.max(2, Math.round(size / 28));
    for (let by = 0; by < size; by += b) {
      for (let bx = 0; bx < size; bx += b) {
        let r = 0;
        let g = 0;
        let bl = 0;
        let n = 0;
        const ye = Math.min(size, by + b);
        const xe = Math.min(size, bx + b);
        for (let y = by; y < ye; y++) {
          for (let x = bx; x < xe; x++) {
            const j = (y * size + x) * 4;
            r += px[j]!;
            g += px[j + 1]!;
            bl += px[j + 2]!;
            n++;
          }
        }
        r /= n;
        g /= n;
        bl /= n;
        for (let y = by; y < ye; y++) {
          for (let x = bx; x < xe; x++) {
            const j = (y * size + x) * 4;
            px[j] = r;
            px[j + 1] = g;
            px[j + 2] = bl;
          }
        }
      }
    }
    posterise(px, 6);
  },
  halftone: (px, size) => {
    const cell = Math.max(3, Math.round(size / 32));
    const src = new Uint8ClampedArray(px);
    for (let cy = 0; cy < size; cy += cell) {
      for (let cx = 0; cx < size; cx += cell) {
        let r = 0;
        let g = 0;
        let b = 0;
        let n = 0;
        const ye = Math.min(size, cy + cell);
        const xe = Math.min(size, cx + cell);
        for (let y = cy; y < ye; y++) {
          for (let x = cx; x < xe; x++) {
            const j = (y * size + x) * 4;
            r += src[j]!;
            g += src[j + 1]!;
            b += src[j + 2]!;
            n++;
          }
        }
        r /= n;
        g /= n;
        b /= n;
        const lum = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
        const rad = cell * 0.75 * Math.sqrt(Math.max(0.04, 1 - lum * 0.85));
        const mx = cx + cell / 2;
        const my = cy + cell / 2;
        const dr = r * 0.85;
        const dg = g * 0.85;
        const db = b * 0.85;
        for (let y = cy; y < ye; y++) {
          for (let x = cx; x < xe; x++) {
            const j = (y * size + x) * 4;
            const d = Math.hypot(x + 0.5 - mx, y + 0.5 - my);
            const t = Math.min(1, Math.max(0, rad - d + 0.5));
            px[j] = PAPER[0] + (dr - PAPER[0]) * t;
            px[j + 1] = PAPER[1] + (dg - PAPER[1]) * t;
            px[j + 2] = PAPER[2] + (db - PAPER[2]) * t;
          }
        }
      }
    }
  },
  ink: (px, size) => {
    const e = edges(px, size);
    posterise(px, 4);
    for (let i = 0, j = 0; i < e.length; i++, j += 4) {
      const m = Math.min(1, Math.max(0, (e[i]! - 18) / 25));
      if (m > 0) {
        px[j] = px[j]! * (1 - m) + 15 * m;
        px[j + 1] = px[j + 1]! * (1 - m) + 15 * m;
        px[j + 2] = px[j + 2]! * (1 - m) + 20 * m;
      }
    }
  },
  blur: (px, size) => boxBlur(px, size, Math.max(1, Math.round(size / 64)), 2),
  grain: (px, _size, rand) => {
    for (let j = 0; j < px.length; j += 4) {
      const l = 0.299 * px[j]! + 0.587 * px[j + 1]! + 0.114 * px[j + 2]!;
      const n = bell(rand) * 28;
      px[j] = (px[j]! * 0.7 + l * 0.3 - 128) * 1.1 + 128 + n;
      px[j + 1] = (px[j + 1]! * 0.7 + l * 0.3 - 128) * 1.1 + 128 + n;
      px[j + 2] = (px[j + 2]! * 0.7 + l * 0.3 - 128) * 1.1 + 128 + n;
    }
  },
  vignette: (px, size) => {
    const h = size / 2;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = (x + 0.5 - h) / h;
        const dy = (y + 0.5 - h) / h;
        const f = Math.max(0.08, 1 - 0.55 * (dx * dx + dy * dy));
        const j = (y * size + x) * 4;
        px[j] = px[j]! * f * 1.04;
        px[j + 1] = px[j + 1]! * f;
        px[j + 2] = px[j + 2]! * f * 0.94;
      }
    }
  },
  watercolour: (px, size, rand) => {
    boxBlur(px, size, Math.max(1, Math.round(size / 100)), 1);
    const e = edges(px, size);
    const paper = valueNoise(size, 9, rand);
    for (let i = 0, j = 0; i < e.length; i++, j += 4) {
      const darken = 1 - Math.min(0.35, e[i]! / 160);
      const n = paper[i]! * 9 + (rand() - 0.5) * 8;
      px[j] = (px[j]! * 0.78 + PAPER[0] * 0.22) * darken + n;
      px[j + 1] = (px[j + 1]! * 0.78 + PAPER[1] * 0.22) * darken + n;
      px[j + 2] = (px[j + 2]! * 0.78 + PAPER[2] * 0.22) * darken + n;
    }
  },
  outline: (px, size) => {
    const e = edges(px, size);
    for (let i = 0, j = 0; i < e.length; i++, j += 4) {
      const m = Math.min(1, Math.max(0, (e[i]! - 14) / 22));
      px[j] = PAPER[0] + (px[j]! * 0.7 - PAPER[0]) * m;
      px[j + 1] = PAPER[1] + (px[j + 1]! * 0.7 - PAPER[1]) * m;
      px[j + 2] = PAPER[2] + (px[j + 2]! * 0.7 - PAPER[2]) * m;
    }
  },
  invert: (px) => {
    for (let j = 0; j < px.length; j += 4) {
      px[j] = 255 - px[j]!;
      px[j + 1] = 255 - px[j + 1]!;
      px[j + 2] = 255 - px[j + 2]!;
    }
  },
  scanlines: (px, size) => {
    const src = new Uint8ClampedArray(px);
    const shift = Math.max(1, Math.round(size / 112));
    for (let y = 0; y < size; y++) {
      const f = y % 3 === 2 ? 0.45 : 1.08;
      for (let x = 0; x < size; x++) {
        const j = (y * size + x) * 4;
        const r = src[(y * size + Math.max(0, x - shift)) * 4]!;
        const g = src[j + 1]!;
        const b = src[(y * size + Math.min(size - 1, x + shift)) * 4 + 2]!;
        const l = (r + g + b) / 3;
        px[j] = (l + (r - l) * 1.25) * f;
        px[j + 1] = (l + (g - l) * 1.25) * f;
        px[j + 2] = (l + (b - l) * 1.25) * f;
      }
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

export function getContext2d(createCanvas: CanvasFactory, w: number, h: number): Ctx2D {
  const c = createCanvas(w, h).getContext('2d') as Ctx2D | null;
  if (!c) throw new Error('renderSample: the canvas factory gave no 2d context');
  c.setTransform(1, 0, 0, 1, 0, 0);
  c.globalAlpha = 1;
  return c;
}

/** Background + subjects, before the style transform (RGBA). */
function renderScene(spec: ZooModelSpec, rand: () => number, createCanvas: CanvasFactory, size = DEFAULT_SIZE): Uint8ClampedArray {
  const c = getContext2d(createCanvas, size, size);
  const col = sampleColours(paletteDef(spec.palette), rand);
  drawBackground(c, backgroundDef(spec.background).id, col, rand, size);
  drawSubjects(c, spec, colourPen(c, col), rand, size);
  const img = c.getImageData(0, 0, size, size);
  const px = new Uint8ClampedArray(img.data);
  // Everything painted is opaque; force alpha so the output never depends on the backend's alpha.
  for (let j = 3; j < px.length; j += 4) px[j] = 255;
  return px;
}

/** Sample `sampleSeed` of model `spec`: RGBA, size×size, deterministic. */
export function renderSample(spec: ZooModelSpec, sampleSeed: number, createCanvas: CanvasFactory, size = DEFAULT_SIZE): Uint8ClampedArray {
  const rand = prng(combineSeeds(spec.seed, sampleSeed));
  const px = renderScene(spec, rand, createCanvas, size);
  const op = STYLE_OPS[styleDef(spec.style).id];
  if (!op) throw new Error(`no style op for "${spec.style}"`);
  op(px, size, rand);
  return px;
}
