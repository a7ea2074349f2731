/**
 * Stage 2 of a build, embed: each listed image file → read + SHA-256 → the embedding cache, or
 * decode (sharp) → preprocessRgba → batched NodeEncoder.encodeImages; thumbnails of the first
 * valid images. Yields the models in index order, each as soon as its last image is embedded.
 *
 * Decoding runs a few files ahead of the encoder (sharp works off the main thread) and batches
 * span model boundaries, so memory holds one batch plus the embeddings of the models still in
 * flight — not the whole zoo.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isCmykJpeg, readImageHeader } from '../../../src/core/encode/imageHeader.ts';
import { preprocessRgba } from '../../../src/core/encode/preprocess.ts';
import { embeddingProblem, mostCommonSize, sizeLabel } from '../../../src/core/index/modelEntry.ts';
import type { NodeEncoder } from '../nodeEncoder.ts';
import { EmbedCache } from './embedCache.ts';
import type { ModelEmbeddings } from './finalise.ts';
import { CMYK_REASON, configureSharpForBatch, decodeImage, makeThumbnail } from './imageDecode.ts';
import type { Progress } from './progress.ts';
import type { BuildReport } from './report.ts';
import type { ModelFolder } from './scan.ts';

export interface EmbedSettings {
  /** Images per encoder call. */
  batch: number;
  /** Thumbnails per model, and their width in pixels. */
  thumbnails: number;
  thumbnailWidth: number;
  /** Images with more pixels are skipped. */
  maxPixels: number;
  /** Files decoded ahead of the encoder (default: min(8, cores), at least 2). */
  concurrency?: number;
  /** The embedding cache folder; null: no cache. */
  cacheDir: string | null;
}

export interface EmbeddedModel extends ModelEmbeddings {
  folder: ModelFolder;
  /** How its images fared: embedded now, read from the cache, skipped (unreadable, not an image, too large). */
  counts: { embedded: number; fromCache: number; skipped: number };
}

/** Where the stage reports: skipped files, image counts and warnings go into the build report. */
export interface EmbedLog {
  report: BuildReport;
  progress: Progress;
}

type Loaded =
  | { kind: 'skip'; reason: string }
  | { kind: 'cached'; sha: string; embedding: Float32Array; width: number; height: number; bytes: Uint8Array; thumb?: Uint8Array }
  | { kind: 'pixels'; sha: string; pixels: Float32Array; width: number; height: number; bytes: Uint8Array; thumb?: Uint8Array };

interface ModelState {
  folder: ModelFolder;
  embeddings: (Float32Array | undefined)[];
  sizes: Map<string, number>;
  thumbs: Uint8Array[];
  counts: EmbeddedModel['counts'];
  /** Images in the current batch, not embedded yet. */
  pending: number;
  /** Every file has been read (and is skipped, embedded, cached or pending). */
  scanned: boolean;
}

/** Runs `fn` over `items` with up to `concurrency` in flight, yielding results in input order. */
async function* orderedMap<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  type Settled = { ok: true; value: R } | { ok: false; error: unknown };
  const run = (item: T): Promise<Settled> => fn(item).then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error }));
  const inflight: Promise<Settled>[] = [];
  let next = 0;
  while (next < items.length && inflight.length < concurrency) inflight.push(run(items[next++]));
  while (inflight.length) {
    const r = await inflight.shift()!;
    if (next < items.length) inflight.push(run(items[next++]));
    if (!r.ok) throw r.error;
    yield r.value;
  }
}

/** Embeds every image of `models` (in order) with `encoder`; yields each model, in order, once complete. */
export async function* embedModels(models: ModelFolder[], encoder: NodeEncoder, s: EmbedSettings, { report, progress }: EmbedLog): AsyncGenerator<EmbeddedModel> {
  const { desc } = encoder;
  const dim = desc.dim;
  configureSharpForBatch();
  const cache = new EmbedCache(s.cacheDir, desc.id, dim);
  const plane = 3 * desc.image.size * desc.image.size;
  const thumbnail = (bytes: Uint8Array) => makeThumbnail(bytes, { width: s.thumbnailWidth, maxPixels: s.maxPixels }).catch(() => undefined);

  const states: ModelState[] = models.map((folder) => ({
    folder,
    embeddings: new Array(folder.files.length).fill(undefined),
    sizes: new Map(),
    thumbs: [],
    counts: { embedded: 0, fromCache: 0, skipped: 0 },
    pending: 0,
    scanned: folder.files.length === 0,
  }));
  const items = states.flatMap((st, m) => st.folder.files.map((file, k) => ({ m, k, file })));
  report.images.total = items.length;

  // --- per file: read, hash, cache or decode + preprocess (runs ahead of the encoder) ---
  const load = async ({ m, k, file }: (typeof items)[number]): Promise<Loaded> => {
    const st = states[m];
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(join(st.folder.dir, file)));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { kind: 'skip', reason: `unreadable (${code ?? (err as Error).message})` };
    }
    if (bytes.byteLength === 0) return { kind: 'skip', reason: 'empty file (0 bytes)' };
    // Before the cache: an entry made before CMYK was refused must not bring it back.
    if (isCmykJpeg(readImageHeader(bytes))) return { kind: 'skip', reason: CMYK_REASON };
    const sha = createHash('sha256').update(bytes).digest('hex');
    // Thumbnails for the first files are made here, in parallel; a later valid file that turns
    // out to be among the first N valid ones gets its thumbnail in order, below.
    const thumb = k < s.thumbnails ? thumbnail(bytes) : undefined;
    const cached = await cache.get(sha);
    if (cached && cached.width * cached.height <= s.maxPixels) {
      return { kind: 'cached', sha, embedding: cached.embedding, width: cached.width, height: cached.height, bytes, thumb: await thumb };
    }
    const decoded = await decodeImage(bytes, { maxPixels: s.maxPixels });
    if (!decoded.ok) return { kind: 'skip', reason: decoded.reason };
    const { width, height } = decoded.image;
    const pixels = preprocessRgba(decoded.image, desc.image);
    return { kind: 'pixels', sha, pixels, width, height, bytes, thumb: await thumb };
  };

  // --- batches of preprocessed images, spanning models ---
  let batch = { pixels: new Float32Array(s.batch * plane), entries: [] as { m: number; k: number; sha: string; width: number; height: number }[] };
  const flush = async () => {
    const n = batch.entries.length;
    if (n === 0) return;
    const { pixels, entries } = batch;
    batch = { pixels: new Float32Array(s.batch * plane), entries: [] };
    const embs = await encoder.encodeImages(n === s.batch ? pixels : pixels.subarray(0, n * plane), n);
    for (const [i, e] of entries.entries()) {
      const st = states[e.m];
      st.pending--;
      const problem = embeddingProblem(embs[i], dim);
      if (problem) throw new Error(`${st.folder.folder}/${st.folder.files[e.k]}: ${problem}`);
      st.embeddings[e.k] = embs[i];
      st.counts.embedded++;
      report.images.embedded++;
      await cache.put(e.sha, { embedding: embs[i], width: e.width, height: e.height });
    }
    progress.tick(n);
  };

  // --- complete models, in order: every file read, nothing pending ---
  let next = 0;
  function* complete(): Generator<EmbeddedModel> {
    while (next < states.length && states[next].scanned && states[next].pending === 0) {
      const st = states[next++];
      const embeddings = st.embeddings.filter((e): e is Float32Array => e !== undefined);
      st.embeddings = [];
      yield { folder: st.folder, embeddings, commonSize: mostCommonSize(st.sizes), thumbs: st.thumbs, counts: st.counts };
    }
  }

  progress.start(items.length);
  try {
    const concurrency = s.concurrency ?? Math.max(2, Math.min(8, availableParallelism()));
    let at = 0;
    for await (const r of orderedMap(items, concurrency, load)) {
      const { m, k, file } = items[at++];
      const st = states[m];
      if (r.kind === 'skip') {
        st.counts.skipped++;
        report.images.skipped++;
        report.skipped.push({ file: `${st.folder.folder}/${file}`, reason: r.reason });
        progress.tick();
      } else {
        const size = sizeLabel(r.width, r.height);
        st.sizes.set(size, (st.sizes.get(size) ?? 0) + 1);
        const validSoFar = st.counts.fromCache + st.counts.embedded + st.pending;
        // Thumbnail i shows kept sample i (the app shows the one nearest the query), so the list
        // stops at the first image that gets none rather than shifting the rest.
        if (validSoFar < s.thumbnails && st.thumbs.length === validSoFar) {
          const thumb = r.thumb ?? (await thumbnail(r.bytes));
          if (thumb) st.thumbs.push(thumb);
          else report.warnings.push(`${st.folder.folder}/${file}: could not make a thumbnail (the model keeps the ${validSoFar} before it)`);
        }
        if (r.kind === 'cached') {
          st.embeddings[k] = r.embedding;
          st.counts.fromCache++;
          report.images.fromCache++;
          progress.tick();
        } else {
          batch.pixels.set(r.pixels, batch.entries.length * plane);
          batch.entries.push({ m, k, sha: r.sha, width: r.width, height: r.height });
          st.pending++;
          if (batch.entries.length === s.batch) await flush();
        }
      }
      if (k === st.folder.files.length - 1) st.scanned = true;
      yield* complete();
    }
    await flush();
    yield* complete();
  } finally {
    progress.stop();
  }

  if (cache.stats.corrupt) report.warnings.push(`${cache.stats.corrupt} unusable cache entr(y/ies) ignored and recomputed`);
  if (cache.firstWriteError) report.warnings.push(`could not write ${cache.stats.writeErrors} cache entr(y/ies): ${cache.firstWriteError}`);
}
