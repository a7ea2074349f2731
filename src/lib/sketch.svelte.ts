/**
 * State of the sketch pad (strokes, stroke in progress, pen size) persisted to sessionStorage,
 * plus rendering of strokes to a 2D canvas and to a PNG for image queries.
 */
import {
  SKETCH_SIZE,
  MAX_POINTS,
  addStroke,
  canUndo,
  clampPoint,
  clear,
  createHistory,
  outlinePathData,
  parseSketch,
  serializeSketch,
  strokeOutline,
  strokePathData,
  undo,
  type SketchHistory,
  type SketchPoint,
  type Stroke,
} from './sketchStrokes.ts';

export const SKETCH_STORAGE_KEY = 'model-search:sketch';
export const MIN_PEN_SIZE = 2;
export const MAX_PEN_SIZE = 40;
export const DEFAULT_PEN_SIZE = 10;

/** sessionStorage, or null where it is missing or access throws (private mode, sandboxed frames). */
function sessionStore(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

export class SketchState {
  private history = $state.raw<SketchHistory>(createHistory());
  /** The stroke being drawn (not yet in the history), or null. */
  current = $state.raw<Stroke | null>(null);
  #size = $state(DEFAULT_PEN_SIZE);

  private readonly storageKey: string;

  constructor(storageKey: string = SKETCH_STORAGE_KEY) {
    this.storageKey = storageKey;
    try {
      const saved = sessionStore()?.getItem(storageKey);
      if (saved) this.history = createHistory(parseSketch(saved));
    } catch {
      // storage unavailable: start empty
    }
  }

  /** Finished strokes, oldest first. */
  get strokes(): readonly Stroke[] {
    return this.history.strokes;
  }

  /** Pen diameter in internal units, kept within MIN_PEN_SIZE..MAX_PEN_SIZE. */
  get size(): number {
    return this.#size;
  }
  set size(value: number) {
    const v = Number(value);
    this.#size = Number.isFinite(v) ? Math.min(MAX_PEN_SIZE, Math.max(MIN_PEN_SIZE, v)) : DEFAULT_PEN_SIZE;
  }

  get isEmpty(): boolean {
    return this.history.strokes.length === 0 && this.current === null;
  }

  get canUndo(): boolean {
    return canUndo(this.history);
  }

  /** Starts a stroke at `point` (clamped into the sketch); a stroke in progress is finished first. */
  begin(point: SketchPoint): void {
    if (this.current) this.end();
    this.current = { points: [clampPoint(...point)], size: this.size };
  }

  /** Adds points to the stroke in progress (ignored when none); a very long stroke continues as a new one. */
  extend(...points: SketchPoint[]): void {
    const cur = this.current;
    if (!cur || points.length === 0) return;
    let next = [...cur.points];
    for (const raw of points) {
      const p = clampPoint(...raw);
      const last = next[next.length - 1];
      if (last[0] === p[0] && last[1] === p[1] && last[2] === p[2]) continue;
      if (next.length >= MAX_POINTS) {
        this.commit({ points: next, size: cur.size });
        next = [last];
      }
      next.push(p);
    }
    this.current = { points: next, size: cur.size };
  }

  /** Finishes the stroke in progress and saves the sketch. */
  end(): void {
    const cur = this.current;
    if (!cur) return;
    this.current = null;
    this.commit(cur);
  }

  undo(): void {
    this.current = null;
    this.update(undo(this.history));
  }

  clear(): void {
    this.current = null;
    this.update(clear(this.history));
  }

  /** Back to an empty sketch with no undo history and the default pen (for tests); also saved. */
  reset(): void {
    this.current = null;
    this.#size = DEFAULT_PEN_SIZE;
    this.update(createHistory());
  }

  private commit(stroke: Stroke): void {
    this.update(addStroke(this.history, stroke));
  }

  private update(next: SketchHistory): void {
    if (next === this.history) return;
    this.history = next;
    try {
      const store = sessionStore();
      if (next.strokes.length === 0) store?.removeItem(this.storageKey);
      else store?.setItem(this.storageKey, serializeSketch(next.strokes));
    } catch {
      // quota exceeded or storage blocked: the sketch just isn't kept across reloads
    }
  }
}

type Ctx2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

const STROKE_COLOUR = '#111111';
const pathObjects = new WeakMap<Stroke, Path2D>();

function strokePath(stroke: Stroke): Path2D {
  let p = pathObjects.get(stroke);
  if (!p) {
    p = new Path2D(strokePathData(stroke));
    pathObjects.set(stroke, p);
  }
  return p;
}

/**
 * Draws the sketch on `ctx`: white background, then each stroke filled in near-black. The drawing
 * is scaled from SKETCH_SIZE units to the canvas size. Finished strokes' paths are cached.
 */
export function renderSketch(ctx: Ctx2D, strokes: readonly Stroke[], current?: Stroke | null): void {
  const { width, height } = ctx.canvas;
  ctx.save();
  ctx.setTransform(width / SKETCH_SIZE, 0, 0, height / SKETCH_SIZE, 0, 0);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, SKETCH_SIZE, SKETCH_SIZE);
  ctx.fillStyle = STROKE_COLOUR;
  for (const s of strokes) ctx.fill(strokePath(s));
  if (current) ctx.fill(new Path2D(outlinePathData(strokeOutline(current, false))));
  ctx.restore();
}

/** The sketch as a SKETCH_SIZE × SKETCH_SIZE PNG, black strokes on white (as the zoo's sketch queries). */
export async function sketchToBlob(strokes: readonly Stroke[]): Promise<Blob> {
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(SKETCH_SIZE, SKETCH_SIZE);
    const ctx = canvas.getContext('2d');
    if (ctx) {
      renderSketch(ctx, strokes);
      return canvas.convertToBlob({ type: 'image/png' });
    }
  }
  const canvas = document.createElement('canvas');
  canvas.width = SKETCH_SIZE;
  canvas.height = SKETCH_SIZE;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('Canvas 2D is not available to render the sketch.');
  renderSketch(ctx, strokes);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('Could not encode the sketch as PNG.'))), 'image/png'),
  );
}
