export interface Ranked {
  index: number;
  score: number;
}

/**
 * The k best scores, highest first; ties keep index order. O(n log k). A total order: NaN ranks
 * below every number (−∞ included), so no value can stall the heap or push a real score out.
 */
export function topK(scores: Float32Array, k: number): Ranked[] {
  const n = Math.min(k, scores.length);
  if (n <= 0) return [];
  // Min-heap of size n over (score, -index) so equal scores prefer lower indices.
  const heap: Ranked[] = [];
  const below = (a: number, b: number) => (Number.isNaN(a) ? !Number.isNaN(b) : a < b);
  const worse = (a: Ranked, b: Ranked) => below(a.score, b.score) || ((a.score === b.score || (Number.isNaN(a.score) && Number.isNaN(b.score))) && a.index > b.index);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < heap.length && worse(heap[l], heap[w])) w = l;
      if (r < heap.length && worse(heap[r], heap[w])) w = r;
      if (w === i) return;
      [heap[i], heap[w]] = [heap[w], heap[i]];
      i = w;
    }
  };
  const siftUp = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heap[i], heap[p])) return;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  for (let i = 0; i < scores.length; i++) {
    const item = { index: i, score: scores[i] };
    if (heap.length < n) {
      heap.push(item);
      siftUp(heap.length - 1);
    } else if (worse(heap[0], item)) {
      heap[0] = item;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}
