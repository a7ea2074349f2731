import { AppError } from '../io/errors.ts';
import { fetchBytes, HostRangeError, type FetchBytesOptions } from '../io/fetchBytes.ts';
import { fetchRanges } from '../io/ranges.ts';
import type { TieredHead } from './tieredHead.ts';

function fail(err: Error): never {
  throw err;
}

/** Where a tiered index's blocks come from: Range reads of records.bin, or one file per block. */
export type BlockSource = 'ranges' | 'block-files';

export interface BlockFetcherOptions extends Pick<FetchBytesOptions, 'signal' | 'stallMs' | 'fetchImpl'> {
  /** Merge ranges separated by at most this many bytes into one request (default 0: adjacent only). */
  maxGap?: number;
  /** Told once when the host's Range answers fail and the reader switches to per-block files. */
  onFallback?: (reason: HostRangeError) => void;
}

/**
 * A `fetchBlocks` for tieredQuery over an index folder at `base` (…/ with manifest.json, head.bin).
 * It reads blocks with coalesced Range requests of records.bin; a host that ignores or breaks
 * ranges (HostRangeError) is detected on the first read, and from then on every block comes from
 * its own file, blocks/<n>.bin (the layout the builder writes for such hosts). Every block is still
 * checked against its SHA-256 by tieredQuery (openBlock), whichever way it came.
 */
export function blockFetcher(base: string, head: TieredHead, opts: BlockFetcherOptions = {}): { fetchBlocks: (blocks: number[]) => Promise<Map<number, Uint8Array>>; source: () => BlockSource } {
  let source: BlockSource = 'ranges';
  const url = (file: string) => new URL(file, base.endsWith('/') ? base : `${base}/`).href;
  const common = { signal: opts.signal, stallMs: opts.stallMs, fetchImpl: opts.fetchImpl };
  const entryOf = (b: number) => head.blocks[b] ?? fail(new AppError('index-format', `The index has no block ${b}.`, base));
  const fromFiles = async (blocks: number[]) => {
    const out = new Map<number, Uint8Array>();
    for (const b of blocks) out.set(b, await fetchBytes(url(`blocks/${b}.bin`), { ...common, bytes: entryOf(b).bytes }));
    return out;
  };
  const fetchBlocks = async (blocks: number[]) => {
    if (source === 'block-files') return fromFiles(blocks);
    const ranges = blocks.map((b) => {
      const { offset, bytes } = entryOf(b);
      return { start: offset, end: offset + bytes };
    });
    try {
      const parts = await fetchRanges(url('records.bin'), ranges, { ...common, maxGap: opts.maxGap, fileBytes: head.recordsBytes });
      return new Map(blocks.map((b, i) => [b, parts[i]!]));
    } catch (err) {
      if (!(err instanceof HostRangeError)) throw err;
      source = 'block-files';
      opts.onFallback?.(err);
      try {
        return await fromFiles(blocks);
      } catch (fileErr) {
        if (opts.signal?.aborted) throw fileErr;
        throw new AppError('http', `${err.message} The per-block files are not there either (${fileErr instanceof Error ? fileErr.message : String(fileErr)}).`, base);
      }
    }
  };
  return { fetchBlocks, source: () => source };
}
