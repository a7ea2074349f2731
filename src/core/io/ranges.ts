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
 * Reads several ranges of one file with coalesced Range requests (one at a time, in file order) and
 * returns each asked range's bytes, in the order asked. Any host misbehaviour fails the whole read
 * (fetchBytes' HostRangeError): the caller verifies each block's hash on top of this.
 */
export async function fetchRanges(url: string, ranges: readonly ByteRange[], opts: { maxGap?: number; fileBytes?: number } & Pick<FetchBytesOptions, 'signal' | 'stallMs' | 'fetchImpl'> = {}): Promise<Uint8Array[]> {
  const out: Uint8Array[] = new Array(ranges.length);
  for (const merged of coalesceRanges(ranges, opts.maxGap ?? 0)) {
    const bytes = await fetchBytes(url, { signal: opts.signal, stallMs: opts.stallMs, fetchImpl: opts.fetchImpl, range: { start: merged.start, end: merged.end, fileBytes: opts.fileBytes } });
    for (const i of merged.parts) out[i] = bytes.subarray(ranges[i]!.start - merged.start, ranges[i]!.end - merged.start);
  }
  return out;
}
