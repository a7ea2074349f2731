/**
 * The skeleton's demo "generators": seeded programs that paint 224×224 RGBA images of shapes in a
 * palette. Each model samples from its own distribution (background, shape kind, count, sizes), so
 * two seeds give different images of the same kind. The full procedural zoo replaces this later.
 */
import { mulberry32 } from '../../src/core/math/prng.ts';

type Rgb = [number, number, number];

export interface PaintedModel {
  id: string;
  name: string;
  description: string;
  family: string;
  background: Rgb;
  palette: Rgb[];
  shape: 'circle' | 'square' | 'stripe';
}

export const PAINTED_MODELS: PaintedModel[] = [
  { id: 'crimson-bloom', name: 'Crimson Bloom', description: 'Red blossoms scattered over a dark red field.', family: 'florals', background: [120, 10, 20], palette: [[220, 20, 60], [255, 40, 40], [180, 0, 30]], shape: 'circle' },
  { id: 'deep-sea', name: 'Deep Sea Blues', description: 'Bubbles and currents in deep blue water.', family: 'water', background: [0, 20, 110], palette: [[0, 60, 220], [20, 90, 255], [0, 0, 160]], shape: 'circle' },
  { id: 'forest-canopy', name: 'Forest Canopy', description: 'Layers of green leaves in a dense forest.', family: 'nature', background: [10, 80, 20], palette: [[0, 160, 0], [40, 190, 40], [0, 110, 30]], shape: 'square' },
  { id: 'sunflower-fields', name: 'Sunflower Fields', description: 'Bright yellow blooms on a golden meadow.', family: 'florals', background: [210, 180, 20], palette: [[255, 230, 0], [255, 210, 40], [240, 200, 0]], shape: 'circle' },
  { id: 'midnight-ink', name: 'Midnight Ink', description: 'Dark ink blots on a black page.', family: 'abstract', background: [8, 8, 12], palette: [[30, 30, 40], [0, 0, 0], [50, 45, 60]], shape: 'stripe' },
  { id: 'snowfield', name: 'Snowfield', description: 'White drifts and pale snow under a white sky.', family: 'nature', background: [240, 242, 248], palette: [[255, 255, 255], [225, 230, 240], [250, 250, 255]], shape: 'square' },
  { id: 'tangerine-dream', name: 'Tangerine Dream', description: 'Orange citrus slices and warm stripes.', family: 'food', background: [230, 110, 0], palette: [[255, 140, 0], [255, 120, 20], [240, 160, 40]], shape: 'stripe' },
  { id: 'violet-hour', name: 'Violet Hour', description: 'Purple dusk skies with violet clouds.', family: 'sky', background: [70, 0, 110], palette: [[128, 0, 128], [150, 40, 200], [100, 20, 160]], shape: 'circle' },
  { id: 'bubblegum', name: 'Bubblegum Pop', description: 'Pink candy shapes on a soft pink backdrop.', family: 'food', background: [250, 170, 200], palette: [[255, 105, 180], [255, 182, 193], [255, 140, 200]], shape: 'circle' },
  { id: 'cocoa-beans', name: 'Cocoa Beans', description: 'Brown beans and chocolate squares.', family: 'food', background: [90, 50, 20], palette: [[139, 69, 19], [120, 60, 25], [160, 90, 40]], shape: 'square' },
  { id: 'teal-lagoon', name: 'Teal Lagoon', description: 'Calm teal water with cyan ripples.', family: 'water', background: [0, 110, 110], palette: [[0, 128, 128], [0, 180, 180], [20, 150, 140]], shape: 'stripe' },
  { id: 'lime-pop', name: 'Lime Pop', description: 'Lime green geometric tiles.', family: 'abstract', background: [120, 200, 0], palette: [[50, 205, 50], [150, 230, 20], [0, 255, 0]], shape: 'square' },
];

export const IMAGE_SIZE = 224;

/** Mulberry32 (src/core/math/prng.ts): every sample is reproducible. */
const prng = mulberry32;

function jitter(c: Rgb, rand: () => number, amount: number): Rgb {
  return c.map((v) => Math.max(0, Math.min(255, Math.round(v + (rand() * 2 - 1) * amount)))) as Rgb;
}

/** Paints sample `seed` of `model` as RGBA pixels. */
export function paintSample(model: PaintedModel, seed: number, size = IMAGE_SIZE): Uint8ClampedArray {
  const rand = prng(seed * 7919 + model.id.length * 104729);
  const px = new Uint8ClampedArray(size * size * 4);
  const bg = jitter(model.background, rand, 18);
  for (let i = 0; i < size * size; i++) {
    const n = (rand() * 2 - 1) * 10; // film-grain noise
    px[i * 4] = bg[0] + n;
    px[i * 4 + 1] = bg[1] + n;
    px[i * 4 + 2] = bg[2] + n;
    px[i * 4 + 3] = 255;
  }
  const shapes = 3 + Math.floor(rand() * 6);
  for (let s = 0; s < shapes; s++) {
    const color = jitter(model.palette[Math.floor(rand() * model.palette.length)], rand, 20);
    const cx = rand() * size;
    const cy = rand() * size;
    const r = size * (0.08 + rand() * 0.18);
    const angle = rand() * Math.PI;
    const [ca, sa] = [Math.cos(angle), Math.sin(angle)];
    for (let y = Math.max(0, Math.floor(cy - 2 * r)); y < Math.min(size, cy + 2 * r); y++) {
      for (let x = 0; x < size; x++) {
        const dx = x - cx;
        const dy = y - cy;
        let inside: boolean;
        if (model.shape === 'circle') inside = dx * dx + dy * dy < r * r;
        else if (model.shape === 'square') inside = Math.abs(dx) < r && Math.abs(dy) < r;
        else inside = Math.abs(dx * sa - dy * ca) < r * 0.35; // a band through (cx, cy)
        if (!inside) continue;
        const o = (y * size + x) * 4;
        px[o] = color[0];
        px[o + 1] = color[1];
        px[o + 2] = color[2];
      }
    }
  }
  return px;
}
