import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SKETCH_STORAGE_KEY, SketchState } from './sketch.svelte.ts';
import {
  MAX_POINTS,
  MAX_STROKES,
  SKETCH_SIZE,
  addStroke,
  canUndo,
  clear,
  createHistory,
  hasRealPressure,
  outlinePathData,
  parseSketch,
  serializeSketch,
  strokeOutline,
  undo,
  type SketchPoint,
  type Stroke,
} from './sketchStrokes.ts';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20240612;

function line(x0: number, y0: number, x1: number, y1: number, n = 20, size = 10, pressure = 0.5): Stroke {
  const points: SketchPoint[] = [];
  for (let i = 0; i < n; i++) {
    const t = i / (n - 1);
    points.push([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, pressure]);
  }
  return { points, size };
}

describe('history', () => {
  const a = line(10, 10, 100, 100);
  const b = line(200, 10, 200, 300);

  it('adds strokes without mutating the previous history', () => {
    const h0 = createHistory();
    const h1 = addStroke(h0, a);
    const h2 = addStroke(h1, b);
    expect(h0.strokes).toEqual([]);
    expect(h1.strokes).toEqual([a]);
    expect(h2.strokes).toEqual([a, b]);
    expect(canUndo(h0)).toBe(false);
    expect(canUndo(h2)).toBe(true);
  });

  it('ignores empty strokes and strokes beyond the limit', () => {
    const h = createHistory();
    expect(addStroke(h, { points: [], size: 10 })).toBe(h);
    const full = createHistory(Array.from({ length: MAX_STROKES }, () => a));
    expect(addStroke(full, b)).toBe(full);
  });

  it('undo removes the last stroke, then the one before, then does nothing', () => {
    let h = addStroke(addStroke(createHistory(), a), b);
    h = undo(h);
    expect(h.strokes).toEqual([a]);
    h = undo(h);
    expect(h.strokes).toEqual([]);
    expect(canUndo(h)).toBe(false);
    expect(undo(h)).toBe(h);
  });

  it('clear empties the sketch and undo brings it back', () => {
    const h = addStroke(addStroke(createHistory(), a), b);
    const cleared = clear(h);
    expect(cleared.strokes).toEqual([]);
    expect(clear(cleared)).toBe(cleared);
    expect(undo(cleared).strokes).toEqual([a, b]);
  });

  it('a history created from saved strokes undoes them one by one', () => {
    let h = createHistory([a, b]);
    expect(canUndo(h)).toBe(true);
    h = undo(h);
    expect(h.strokes).toEqual([a]);
    h = undo(h);
    expect(h.strokes).toEqual([]);
    expect(canUndo(h)).toBe(false);
  });
});

describe('outlines', () => {
  it('outlines a simple stroke inside its bounds, grown by the pen size', () => {
    const s = line(100, 120, 300, 320, 30, 12);
    const outline = strokeOutline(s);
    expect(outline.length).toBeGreaterThan(8);
    for (const [x, y] of outline) {
      expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(100 - 12);
      expect(x).toBeLessThanOrEqual(300 + 12);
      expect(y).toBeGreaterThanOrEqual(120 - 12);
      expect(y).toBeLessThanOrEqual(320 + 12);
    }
  });

  it('outlines a single tap as a dot', () => {
    const outline = strokeOutline({ points: [[50, 50, 0.5]], size: 10 });
    expect(outline.length).toBeGreaterThan(3);
    for (const [x, y] of outline) {
      expect(Math.hypot(x - 50, y - 50)).toBeLessThanOrEqual(10);
    }
  });

  it('uses real pressure only when a point differs from the default', () => {
    expect(hasRealPressure(line(0, 0, 10, 10).points)).toBe(false);
    expect(hasRealPressure(line(0, 0, 10, 10, 5, 10, 0.8).points)).toBe(true);
  });

  it('writes closed SVG path data', () => {
    const d = outlinePathData(strokeOutline(line(10, 10, 200, 50)));
    expect(d).toMatch(/^M-?\d+\.\d\d,-?\d+\.\d\d Q/);
    expect(d.endsWith('Z')).toBe(true);
    expect(outlinePathData([[0, 0], [1, 1], [2, 2]])).toBe('');
  });
});

describe('serialisation', () => {
  it('round-trips strokes (as a string or a parsed value)', () => {
    const strokes = [line(1, 2, 300, 400, 5, 8), line(0, 448, 448, 0, 3, 40, 0.25)];
    expect(parseSketch(serializeSketch(strokes))).toEqual(strokes);
    expect(parseSketch(JSON.parse(serializeSketch(strokes)))).toEqual(strokes);
    expect(parseSketch(serializeSketch([]))).toEqual([]);
  });

  it('rejects malformed input', () => {
    const ok = { points: [[1, 2, 0.5]], size: 10 };
    const doc = (strokes: unknown, v: unknown = 1) => ({ v, strokes });
    const bad: unknown[] = [
      undefined,
      null,
      42,
      'not json',
      '{"v":1,"strokes":',
      [],
      {},
      doc([ok], 2),
      doc('strokes'),
      doc({ 0: ok, length: 1 }),
      doc([null]),
      doc([[ok]]),
      doc([{ ...ok, size: '10' }]),
      doc([{ ...ok, size: 0 }]),
      doc([{ ...ok, size: 65 }]),
      doc([{ ...ok, size: NaN }]),
      doc([{ size: 10 }]),
      doc([{ size: 10, points: [] }]),
      doc([{ size: 10, points: [[1, 2]] }]),
      doc([{ size: 10, points: [[1, 2, 0.5, 4]] }]),
      doc([{ size: 10, points: [['1', 2, 0.5]] }]),
      doc([{ size: 10, points: [[NaN, 2, 0.5]] }]),
      doc([{ size: 10, points: [[Infinity, 2, 0.5]] }]),
      doc([{ size: 10, points: [[-1, 2, 0.5]] }]),
      doc([{ size: 10, points: [[1, SKETCH_SIZE + 1, 0.5]] }]),
      doc([{ size: 10, points: [[1, 2, 1.5]] }]),
      doc([{ size: 10, points: { 0: [1, 2, 0.5] } }]),
      doc([ok, { size: 10, points: [[1, 2, null]] }]),
      doc(Array.from({ length: MAX_STROKES + 1 }, () => ok)),
      doc([{ size: 10, points: Array.from({ length: MAX_POINTS + 1 }, () => [1, 2, 0.5]) }]),
      '{"v":1,"strokes":[{"size":10,"points":[[1,2,NaN]]}]}',
    ];
    for (const input of bad) expect(parseSketch(input), JSON.stringify(input)?.slice(0, 80)).toEqual([]);
  });

  it('accepts the largest allowed sketch shape', () => {
    const long = { size: 64, points: Array.from({ length: MAX_POINTS }, (_, i): SketchPoint => [i % SKETCH_SIZE, 0, 1]) };
    expect(parseSketch({ v: 1, strokes: [long] })).toHaveLength(1);
  });

  it('property: parse(serialize(s)) keeps every stroke within rounding', () => {
    const coord = fc.double({ min: 0, max: SKETCH_SIZE, noNaN: true });
    const point = fc.tuple(coord, coord, fc.double({ min: 0, max: 1, noNaN: true }));
    const stroke = fc.record({
      points: fc.array(point, { minLength: 1, maxLength: 40 }),
      size: fc.double({ min: 1, max: 64, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(stroke, { maxLength: 12 }), (strokes: Stroke[]) => {
        const json = serializeSketch(strokes);
        const back = parseSketch(json);
        expect(back).toHaveLength(strokes.length);
        back.forEach((s, i) => {
          expect(Math.abs(s.size - strokes[i].size)).toBeLessThanOrEqual(0.005 + 1e-9);
          expect(s.points).toHaveLength(strokes[i].points.length);
          s.points.forEach((p, j) => {
            const q = strokes[i].points[j];
            expect(Math.abs(p[0] - q[0])).toBeLessThanOrEqual(0.005 + 1e-9);
            expect(Math.abs(p[1] - q[1])).toBeLessThanOrEqual(0.005 + 1e-9);
            expect(Math.abs(p[2] - q[2])).toBeLessThanOrEqual(0.0005 + 1e-9);
          });
        });
        expect(serializeSketch(back)).toBe(json);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('SketchState', () => {
  function memoryStorage(): Storage {
    const m = new Map<string, string>();
    return {
      get length() {
        return m.size;
      },
      clear: () => m.clear(),
      getItem: (k) => m.get(k) ?? null,
      key: (i) => [...m.keys()][i] ?? null,
      removeItem: (k) => void m.delete(k),
      setItem: (k, v) => void m.set(k, String(v)),
    };
  }

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('draws, undoes and clears', () => {
    const s = new SketchState();
    expect(s.isEmpty).toBe(true);
    expect(s.canUndo).toBe(false);
    s.begin([10, 10, 0.5]);
    expect(s.isEmpty).toBe(false);
    s.extend([20, 20, 0.5], [20, 20, 0.5], [30, 25, 0.5]);
    expect(s.current?.points).toHaveLength(3);
    s.end();
    expect(s.current).toBeNull();
    expect(s.strokes).toHaveLength(1);
    expect(s.strokes[0].size).toBe(10);
    expect(s.canUndo).toBe(true);
    s.clear();
    expect(s.isEmpty).toBe(true);
    s.undo();
    expect(s.strokes).toHaveLength(1);
    s.undo();
    expect(s.isEmpty).toBe(true);
  });

  it('clamps points into the sketch and the pen size into its range', () => {
    const s = new SketchState();
    s.size = 100;
    expect(s.size).toBe(40);
    s.size = 0;
    expect(s.size).toBe(2);
    s.begin([-5, 1000, 3]);
    s.end();
    expect(s.strokes[0]).toEqual({ points: [[0, SKETCH_SIZE, 1]], size: 2 });
  });

  it('splits a stroke longer than the point limit', () => {
    const s = new SketchState();
    s.begin([0, 0, 0.5]);
    s.extend(...Array.from({ length: MAX_POINTS + 10 }, (_, i): SketchPoint => [(i + 1) % SKETCH_SIZE, (i + 1) / 100, 0.5]));
    s.end();
    expect(s.strokes).toHaveLength(2);
    expect(s.strokes[0].points).toHaveLength(MAX_POINTS);
    expect(s.strokes[1].points[0]).toEqual(s.strokes[0].points[MAX_POINTS - 1]);
  });

  it('saves to sessionStorage and restores on construction', () => {
    const storage = memoryStorage();
    vi.stubGlobal('sessionStorage', storage);
    const s = new SketchState();
    s.begin([10, 10, 0.5]);
    s.extend([40, 40, 0.5]);
    s.end();
    expect(parseSketch(storage.getItem(SKETCH_STORAGE_KEY))).toEqual(s.strokes);
    const restored = new SketchState();
    expect(restored.strokes).toEqual(s.strokes);
    expect(restored.canUndo).toBe(true);
    restored.clear();
    expect(storage.getItem(SKETCH_STORAGE_KEY)).toBeNull();
  });

  it('ignores corrupt saved data and storage that throws', () => {
    const storage = memoryStorage();
    storage.setItem(SKETCH_STORAGE_KEY, '{"v":1,"strokes":[{"size":1e9,"points":[]}]}');
    vi.stubGlobal('sessionStorage', storage);
    expect(new SketchState().isEmpty).toBe(true);

    const throwing = memoryStorage();
    throwing.getItem = () => {
      throw new DOMException('denied', 'SecurityError');
    };
    throwing.setItem = () => {
      throw new DOMException('full', 'QuotaExceededError');
    };
    vi.stubGlobal('sessionStorage', throwing);
    const s = new SketchState();
    s.begin([1, 1, 0.5]);
    expect(() => s.end()).not.toThrow();
    expect(s.strokes).toHaveLength(1);
  });
});
