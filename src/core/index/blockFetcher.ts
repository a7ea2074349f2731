import { AppError } from '../io/errors.ts';
import { fetchBytes, HostRangeError, type FetchBytesOptions } from '../io/fetchBytes.ts';
import { fetchRanges } from '../io/ranges.ts';
import type { TieredHead } from './tieredHead.ts';
import type { BlockEntry } from './tieredRecords.ts';
import { codeBytesPerModel } from './codeBlocks.ts';

function fail(err: Error): never {
  throw err;
}

/** Where a tiered index's blocks come from: Range reads of records.bin, or one file per block. */
export type BlockSource = 'ranges' | 'block-files';

/**
 * One blocked file of a tiered index: records.bin (per-block files in blocks/), or a sign-coded
 * head's codes.bin (per-block files in codes/). `entries` are its blocks, `fileBytes` its size.
 */
export interface BlockLayout {
  file: string;
  folder: string;
  entries: readonly BlockEntry[];
  fileBytes: number;
}

export const recordsLayout = (head: TieredHead): BlockLayout => ({ file: 'records.bin', folder: 'blocks', entries: head.blocks, fileBytes: head.recordsBytes });

/** codes.bin of a sign-coded head (codeBlocks.ts); throws for an int8 head, which has none. */
export function codesLayout(head: TieredHead): BlockLayout {
  if (!head.codeBlocks) throw new Error('This index keeps its int8 means in its head: it has no codes.bin.');
  return { file: 'codes.bin', folder: 'codes', entries: head.codeBlocks, fileBytes: head.count * codeBytesPerModel(head.dim) };
}

export interface BlockFetcherOptions extends Pick<FetchBytesOptions, 'signal' | 'stallMs' | 'fetchImpl'> {
  /** Merge ranges separated by at most this many bytes into one request (default 0: adjacent only). */
  maxGap?: number;
  /** Told once when the host's Range answers fail and the reader switches to per-block files. */
  onFallback?: (reason: HostRangeError) => void;
}

/**
 * A `fetchBlocks` for tieredQuery over an index folder at `base` (…/ with manifest.json, head.bin).
 * It reads blocks with coalesced Range requests of the layout's file (records.bin by default); a
 * host that ignores or breaks ranges (HostRangeError) is detected on the first read, and from then
 * on every block comes from its own file, blocks/<n>.bin (codes/<n>.bin for codes.bin: the layout
 * the builder writes for such hosts). Every block is still checked against its SHA-256 by
 * tieredQuery (openBlock, openCodeBlock), whichever way it came.
 */
export function blockFetcher(base: string, where: TieredHead | BlockLayout, opts: BlockFetcherOptions = {}): { fetchBlocks: (blocks: number[]) => Promise<Map<number, Uint8Array>>; source: () => BlockSource } {
  const layout = 'entries' in where ? where : recordsLayout(where);
  let source: BlockSource = 'ranges';
  const url = (file: string) => new URL(file, base.endsWith('/') ? base : `${base}/`).href;
  const common = { signal: opts.signal, stallMs: opts.stallMs, fetchImpl: opts.fetchImpl };
  const entryOf = (b: number) => layout.entries[b] ?? fail(new AppError('index-format', `The index has no block ${b}.`, base));
  const fromFiles = async (blocks: number[]) => {
    const out = new Map<number, Uint8Array>();
    for (const b of blocks) out.set(b, await fetchBytes(url(`${layout.folder}/${b}.bin`), { ...common, bytes: entryOf(b).bytes }));
    return out;
  };
  const fetchBlocks = async (blocks: number[]) => {
    if (source === 'block-files') return fromFiles(blocks);
    const ranges = blocks.map((b) => {
      const { offset, bytes } = entryOf(b);
      return { start: offset, end: offset + bytes };
    });
    try {
      const parts = await fetchRanges(url(layout.file), ranges, { ...common, maxGap: opts.maxGap, fileBytes: layout.fileBytes });
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
