/**
 * Pure sketch logic (no DOM, no runes): stroke types, an immutable undo history, stroke outlines
 * with perfect-freehand, SVG path data, and strict (de)serialisation of untrusted sketch JSON.
 */
import { getStroke, type StrokeOptions } from 'perfect-freehand';

/** Internal resolution of the sketch (square), in the units of every point. */
export const SKETCH_SIZE = 448;
export const MAX_STROKES = 500;
export const MAX_POINTS = 5000;
export const MIN_STROKE_SIZE = 1;
export const MAX_STROKE_SIZE = 64;
/** Pressure recorded for input devices without a pressure sensor (mouse, touch). */
export const DEFAULT_PRESSURE = 0.5;

/** `[x, y, pressure]`: x and y in 0..SKETCH_SIZE, pressure in 0..1. */
export type SketchPoint = [x: number, y: number, pressure: number];

export interface Stroke {
  points: SketchPoint[];
  /** Pen diameter in internal units. */
  size: number;
}

// ---------------------------------------------------------------------------------------------
// History

/** Strokes plus the snapshots undo goes back to. Never mutated: every operation returns a new one. */
export interface SketchHistory {
  readonly strokes: readonly Stroke[];
  readonly past: readonly (readonly Stroke[])[];
}

/** Undo depth; older snapshots are dropped. */
export const MAX_UNDO = 1000;

/** A history holding `strokes`, each of which undo removes one at a time (newest first). */
export function createHistory(strokes: readonly Stroke[] = []): SketchHistory {
  const past: (readonly Stroke[])[] = [];
  for (let i = Math.max(0, strokes.length - MAX_UNDO); i < strokes.length; i++) past.push(strokes.slice(0, i));
  return { strokes: [...strokes], past };
}

function push(h: SketchHistory, strokes: readonly Stroke[]): SketchHistory {
  const past = h.past.length >= MAX_UNDO ? h.past.slice(h.past.length - MAX_UNDO + 1) : h.past;
  return { strokes, past: [...past, h.strokes] };
}

/** Appends a stroke (unchanged when the stroke has no points or the sketch is full). */
export function addStroke(h: SketchHistory, stroke: Stroke): SketchHistory {
  if (stroke.points.length === 0 || h.strokes.length >= MAX_STROKES) return h;
  return push(h, [...h.strokes, stroke]);
}

/** Removes every stroke; undo brings them back. Unchanged when already empty. */
export function clear(h: SketchHistory): SketchHistory {
  return h.strokes.length === 0 ? h : push(h, []);
}

/** Goes back one step (the last stroke added, or the last clear). Unchanged when nothing to undo. */
export function undo(h: SketchHistory): SketchHistory {
  if (h.past.length === 0) return h;
  return { strokes: h.past[h.past.length - 1], past: h.past.slice(0, -1) };
}

export function canUndo(h: SketchHistory): boolean {
  return h.past.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Outlines

const BASE_OPTIONS: StrokeOptions = { thinning: 0.35, smoothing: 0.5, streamline: 0.45 };

/** True when some point carries a real sensor pressure (a pen), i.e. not the default for all. */
export function hasRealPressure(points: readonly SketchPoint[]): boolean {
  return points.some((p) => p[2] !== DEFAULT_PRESSURE);
}

/**
 * The filled outline polygon of a stroke. `complete` = the stroke is finished (perfect-freehand
 * then draws its end cap); pass false for the stroke still being drawn.
 */
export function strokeOutline(stroke: Stroke, complete = true): [number, number][] {
  return getStroke(stroke.points, {
    ...BASE_OPTIONS,
    size: stroke.size,
    simulatePressure: !hasRealPressure(stroke.points),
    last: complete,
  }) as [number, number][];
}

const avg = (a: number, b: number) => (a + b) / 2;
const fmt = (n: number) => n.toFixed(2);

/** SVG path data ("M … Q … T … Z") of an outline polygon; '' for fewer than 4 points. */
export function outlinePathData(outline: readonly (readonly number[])[]): string {
  const len = outline.length;
  if (len < 4) return '';
  const [a, b, c] = outline;
  let d = `M${fmt(a[0])},${fmt(a[1])} Q${fmt(b[0])},${fmt(b[1])} ${fmt(avg(b[0], c[0]))},${fmt(avg(b[1], c[1]))} T`;
  for (let i = 2; i < len - 1; i++) {
    const p = outline[i];
    const q = outline[i + 1];
    d += `${fmt(avg(p[0], q[0]))},${fmt(avg(p[1], q[1]))} `;
  }
  return `${d}Z`;
}

const pathCache = new WeakMap<Stroke, string>();

/** Path data of a finished stroke, cached per stroke object (strokes are never mutated). */
export function strokePathData(stroke: Stroke): string {
  let d = pathCache.get(stroke);
  if (d === undefined) {
    d = outlinePathData(strokeOutline(stroke));
    pathCache.set(stroke, d);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// Points and (de)serialisation

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** A point clamped into the sketch (non-finite values become 0, or the default pressure). */
export function clampPoint(x: number, y: number, pressure: number = DEFAULT_PRESSURE): SketchPoint {
  return [
    Number.isFinite(x) ? clamp(x, 0, SKETCH_SIZE) : 0,
    Number.isFinite(y) ? clamp(y, 0, SKETCH_SIZE) : 0,
    Number.isFinite(pressure) ? clamp(pressure, 0, 1) : DEFAULT_PRESSURE,
  ];
}

const SERIAL_VERSION = 1;
const round = (n: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/**
 * JSON of the strokes: `{"v":1,"strokes":[{"size":…,"points":[[x,y,p],…]},…]}`, coordinates rounded
 * to 0.01 units and pressure to 0.001 (far below a pixel; keeps session storage small).
 */
export function serializeSketch(strokes: readonly Stroke[]): string {
  return JSON.stringify({
    v: SERIAL_VERSION,
    strokes: strokes.map((s) => ({
      size: round(s.size, 2),
      points: s.points.map(([x, y, p]) => [round(x, 2), round(y, 2), round(p, 3)]),
    })),
  });
}

const inRange = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

function parsePoint(v: unknown): SketchPoint | null {
  if (!Array.isArray(v) || v.length !== 3) return null;
  const [x, y, p] = v as unknown[];
  if (!inRange(x, 0, SKETCH_SIZE) || !inRange(y, 0, SKETCH_SIZE) || !inRange(p, 0, 1)) return null;
  return [x, y, p];
}

function parseStroke(v: unknown): Stroke | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const { size, points } = v as Record<string, unknown>;
  if (!inRange(size, MIN_STROKE_SIZE, MAX_STROKE_SIZE)) return null;
  if (!Array.isArray(points) || points.length === 0 || points.length > MAX_POINTS) return null;
  const out: SketchPoint[] = [];
  for (const raw of points) {
    const p = parsePoint(raw);
    if (!p) return null;
    out.push(p);
  }
  return { points: out, size };
}

/**
 * Strokes from untrusted input: a JSON string or an already parsed value in the format of
 * `serializeSketch`. Anything invalid anywhere (wrong shape or version, non-finite or out-of-range
 * number, too many strokes or points) gives [] — never a partial sketch, never a throw.
 */
export function parseSketch(json: unknown): Stroke[] {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch {
      return [];
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const { v, strokes } = value as Record<string, unknown>;
  if (v !== SERIAL_VERSION || !Array.isArray(strokes) || strokes.length > MAX_STROKES) return [];
  const out: Stroke[] = [];
  for (const raw of strokes) {
    const s = parseStroke(raw);
    if (!s) return [];
    out.push(s);
  }
  return out;
}
