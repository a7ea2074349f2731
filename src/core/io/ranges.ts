import { fetchBytes, type FetchBytesOptions } from './fetchBytes.ts';

/** A byte range [start, end) of one file. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface MergedRange extends ByteRange {
  /** Indices (into the input) of the ranges this request covers. */
  parts: number[];
}

/**
 * Merges ranges into as few requests as possible: overlapping or adjacent ranges always, and ranges
 * separated by at most `maxGap` bytes (reading a small gap costs less than another request to an
 * object store, which takes one range per request). Output is sorted by start.
 */
export function coalesceRanges(ranges: readonly ByteRange[], maxGap = 0): MergedRange[] {
  for (const r of ranges) if (!(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && r.start >= 0 && r.end > r.start)) throw new Error(`Not a non-empty byte range: ${r.start}–${r.end}.`);
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.start - ranges[b]!.start || ranges[a]!.end - ranges[b]!.end);
  const out: MergedRange[] = [];
  for (const i of order) {
    const r = ranges[i]!;
    const last = out.at(-1);
    if (last && r.start <= last.end + maxGap) {
      last.end = Math.max(last.end, r.end);
      last.parts.push(i);
    } else out.push({ start: r.start, end: r.end, parts: [i] });
  }
  return out;
}

/**
 * Range requests in flight at once. A cold query of a 1M-model index reads hundreds of scattered
 * code blocks: one at a time, each costs a round trip; browsers keep ~6 connections per host over
 * HTTP/1.1 (HTTP/2 multiplexes more), so 6 at once cuts the wait ~6× without queueing in the browser.
 */
export const RANGE_CONCURRENCY = 6;

/**
 * Reads several ranges of one file with coalesced Range requests (up to `concurrency` at once) and
 * returns each asked range's bytes, in the order asked. Any host misbehaviour fails the whole read
 * (fetchBytes' HostRangeError, the first one met) and cancels the requests still in flight: the
 * caller verifies each block's hash on top of this.
 */
export async function fetchRanges(
  url: string,
  ranges: readonly ByteRange[],
  opts: { maxGap?: number; fileBytes?: number; concurrency?: number } & Pick<FetchBytesOptions, 'signal' | 'stallMs' | 'fetchImpl'> = {},
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = new Array(ranges.length);
  const merged = coalesceRanges(ranges, opts.maxGap ?? 0);
  const concurrency = opts.concurrency ?? RANGE_CONCURRENCY;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new Error(`Range requests in flight must be a positive integer, got ${concurrency}.`);
  // One signal for every request: the caller's, or the first failure (the other answers no longer matter).
  const controller = new AbortController();
  const follow = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) follow();
  else opts.signal?.addEventListener('abort', follow, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const reader = async () => {
    while (!failure && next < merged.length) {
      const m = merged[next++]!;
      try {
        const bytes = await fetchBytes(url, { signal: controller.signal, stallMs: opts.stallMs, fetchImpl: opts.fetchImpl, range: { start: m.start, end: m.end, fileBytes: opts.fileBytes } });
        for (const i of m.parts) out[i] = bytes.subarray(ranges[i]!.start - m.start, ranges[i]!.end - m.start);
      } catch (error) {
        if (!failure) {
          failure = { error };
          controller.abort(error);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, merged.length) }, reader));
  } finally {
    opts.signal?.removeEventListener('abort', follow);
  }
  if (failure) throw failure.error;
  return out;
}
