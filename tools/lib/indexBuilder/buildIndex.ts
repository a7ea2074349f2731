/**
 * Builds a search index from folders of sample images:
 *   files (sorted) → read + SHA-256 → embedding cache, or decode (sharp) → preprocessRgba →
 *   batched NodeEncoder.encodeImages → per model, in file order: MomentAccumulator (float64) →
 *   gaussianFactors(μ, Σ, ε) → index sections, thumbnails, models.json → writeIndexDir (atomic).
 *
 * Decoding runs a few files ahead of the encoder (sharp works off the main thread), batches span
 * model boundaries, and each model is finalised as soon as its last image is embedded, so memory
 * holds one batch plus the embeddings of the models still in flight — not the whole zoo.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ENCODERS, type EncoderDescriptor } from '../../../src/core/encode/encoders.ts';
import type { IndexInput, Precision } from '../../../src/core/index/indexFormat.ts';
import { packedSize } from '../../../src/core/math/linalg.ts';
import type { BuildParams, ModelMeta } from '../../../src/core/index/manifest.ts';
import { gaussianFactors, MomentAccumulator } from '../../../src/core/index/modelStats.ts';
import { preprocessRgba } from '../../../src/core/encode/preprocess.ts';
import { NodeEncoder } from '../nodeEncoder.ts';
import { writeIndexDir } from '../writeIndexDir.ts';
import { EmbedCache } from './embedCache.ts';
import { InputError } from './errors.ts';
import { BUILD_DEFAULTS } from './defaults.ts';
import { configureSharpForBatch, decodeImage, makeThumbnail } from './imageDecode.ts';
import { listSome, scanModelFolders, type ModelFolder } from './modelFolders.ts';
import { checkOutputDir, defaultIndexName } from './output.ts';
import { silentProgress, type Progress } from './progress.ts';
import type { Projection } from './projection.ts';
import { emptyReport, type BuildReport, type ModelReport } from './report.ts';

export { BUILD_DEFAULTS };

export interface BuildOptions {
  modelsDir: string;
  outDir: string;
  encoderId: string;
  modelHost?: string;
  batch?: number;
  epsilon?: number;
  precision?: Precision;
  keepSamples?: number;
  samplesPrecision?: Precision;
  thumbnails?: number;
  projection?: Projection;
  /** null: no cache. Default `.cache/embeddings` relative to the working directory. */
  cacheDir?: string | null;
  shard?: { index: number; count: number };
  force?: boolean;
  name?: string;
  licence?: string;
  /** Example text queries shown by the app for this index. */
  examples?: string[];
  skipInvalid?: boolean;
  maxPixels?: number;
  /** Files decoded ahead of the encoder (default: min(8, cores)). */
  concurrency?: number;
}

export interface BuildDeps {
  /** A loaded encoder to reuse (tests); otherwise loaded from the descriptor. */
  encoder?: NodeEncoder;
  progress?: Progress;
}

/** The largest finite fp16 value. */
const F16_MAX = 65504;

/** Accepted image embeddings must be unit vectors; anything else means a broken encoder. */
function embeddingProblem(e: Float32Array, dim: number): string | undefined {
  if (e.length !== dim) return `the encoder returned ${e.length} dimensions, expected ${dim}`;
  let s = 0;
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(e[i])) return 'the encoder produced a non-finite embedding';
    s += e[i] * e[i];
  }
  if (Math.abs(s - 1) > 1e-3) return 'the encoder produced a zero embedding';
  return undefined;
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
  pending: number;
  scanned: boolean;
  finalised: boolean;
  report: ModelReport;
}

interface ModelResult {
  meta: ModelMeta;
  mean: Float64Array;
  precision: Float64Array;
  epsilon: number;
  samples: Float32Array;
  images: number;
  thumbs: Uint8Array[];
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

function mostCommonSize(sizes: Map<string, number>): string | undefined {
  let best: string | undefined;
  let n = 0;
  for (const [size, c] of sizes) if (c > n) [best, n] = [size, c];
  return best;
}

export function resolveEncoder(id: string): EncoderDescriptor {
  const desc = ENCODERS[id];
  if (!desc) throw new InputError(`unknown encoder "${id}" (known: ${Object.keys(ENCODERS).join(', ')})`);
  return desc;
}

export async function buildIndex(options: BuildOptions, deps: BuildDeps = {}): Promise<BuildReport> {
  const t0 = performance.now();
  const o = { ...BUILD_DEFAULTS, ...stripUndefined(options) };
  const desc = resolveEncoder(o.encoderId);
  const dim = desc.dim;
  const name = o.name ?? defaultIndexName(o.outDir);
  const report = emptyReport('build', o.outDir, name, { id: desc.id, dim });
  if (o.shard) report.shard = o.shard;
  const fail = (err: InputError): never => {
    report.errors.push(err.message, ...err.details);
    report.seconds = (performance.now() - t0) / 1000;
    err.report = report;
    throw err;
  };
  const progress = deps.progress ?? silentProgress;

  try {
    await checkOutputDir(o.outDir, !!o.force, [o.modelsDir]);
    if (o.projection && o.projection.matrix.length !== dim * dim) {
      throw new InputError(`the projection is not ${dim}×${dim} (the encoder's dimension)`);
    }
    const scan = await scanModelFolders(o.modelsDir);
    report.warnings.push(...scan.warnings);
    let selected = scan.models;
    if (o.shard) {
      const { index, count } = o.shard;
      selected = scan.models.filter((_, pos) => pos % count === index);
      if (selected.length === 0) {
        throw new InputError(`shard ${index}/${count} holds no models (${scan.models.length} model folder(s) in total)`);
      }
    }

    const encoder = deps.encoder ?? (await loadEncoder(desc, o.modelHost));
    if (encoder.desc.id !== desc.id || encoder.desc.dim !== dim) throw new Error('the supplied encoder does not match --encoder');
    configureSharpForBatch();
    const cache = new EmbedCache(o.cacheDir, desc.id, dim);
    const plane = 3 * desc.image.size * desc.image.size;

    const states: ModelState[] = selected.map((folder) => ({
      folder,
      embeddings: new Array(folder.files.length).fill(undefined),
      sizes: new Map(),
      thumbs: [],
      pending: 0,
      scanned: folder.files.length === 0,
      finalised: false,
      report: { id: folder.id, folder: folder.folder, images: 0, embedded: 0, fromCache: 0, skipped: 0, epsilon: o.epsilon, jitterSteps: 0, samplesKept: 0, thumbnails: 0 },
    }));
    const items = states.flatMap((st, m) => st.folder.files.map((file, k) => ({ m, k, file })));
    report.images.total = items.length;
    const results: (ModelResult | undefined)[] = new Array(states.length).fill(undefined);
    const fewSamples: string[] = [];

    const skip = (st: ModelState, file: string, reason: string) => {
      st.report.skipped++;
      report.images.skipped++;
      report.skipped.push({ file: `${st.folder.folder}/${file}`, reason });
      progress.tick();
    };

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
      const sha = createHash('sha256').update(bytes).digest('hex');
      // Thumbnails for the first files are made here, in parallel; a later valid file that turns
      // out to be among the first N valid ones gets its thumbnail in order, below.
      const thumb = k < o.thumbnails ? makeThumbnail(bytes, { width: o.thumbnailWidth, maxPixels: o.maxPixels }).catch(() => undefined) : undefined;
      const cached = await cache.get(sha);
      if (cached && cached.width * cached.height <= o.maxPixels) {
        return { kind: 'cached', sha, embedding: cached.embedding, width: cached.width, height: cached.height, bytes, thumb: await thumb };
      }
      const decoded = await decodeImage(bytes, { maxPixels: o.maxPixels });
      if (!decoded.ok) return { kind: 'skip', reason: decoded.reason };
      const { width, height } = decoded.image;
      const pixels = preprocessRgba(decoded.image, desc.image);
      return { kind: 'pixels', sha, pixels, width, height, bytes, thumb: await thumb };
    };

    // --- batches of preprocessed images, spanning models ---
    let batch = { pixels: new Float32Array(o.batch * plane), entries: [] as { m: number; k: number; sha: string; width: number; height: number }[] };
    const flush = async () => {
      const n = batch.entries.length;
      if (n === 0) return;
      const { pixels, entries } = batch;
      batch = { pixels: new Float32Array(o.batch * plane), entries: [] };
      const embs = await encoder.encodeImages(n === o.batch ? pixels : pixels.subarray(0, n * plane), n);
      for (const [i, e] of entries.entries()) {
        const st = states[e.m];
        st.pending--;
        const problem = embeddingProblem(embs[i], dim);
        if (problem) throw new Error(`${st.folder.folder}/${st.folder.files[e.k]}: ${problem}`);
        st.embeddings[e.k] = embs[i];
        st.report.embedded++;
        report.images.embedded++;
        await cache.put(e.sha, { embedding: embs[i], width: e.width, height: e.height });
      }
      progress.tick(n);
      finaliseReady();
    };

    let firstOpen = 0; // states before this one are all finalised
    const finaliseReady = () => {
      while (firstOpen < states.length && states[firstOpen].finalised) firstOpen++;
      for (let m = firstOpen; m < states.length; m++) {
        const st = states[m];
        if (!st.scanned) break; // models are scanned in order: the rest are not scanned either
        if (st.finalised || st.pending > 0) continue;
        st.finalised = true;
        results[m] = finaliseModel(st);
      }
    };

    const finaliseModel = (st: ModelState): ModelResult | undefined => {
      const { folder } = st;
      const embs = st.embeddings.filter((e): e is Float32Array => e !== undefined);
      st.embeddings = [];
      st.report.images = embs.length;
      if (embs.length < 2) {
        report.invalidModels.push({
          id: folder.id,
          reason: `only ${embs.length} valid image(s) in "${folder.folder}" (at least 2 are needed for a covariance)`,
        });
        return undefined;
      }
      const acc = new MomentAccumulator(dim);
      for (const e of embs) acc.add(e);
      let f;
      try {
        f = gaussianFactors(acc.mean(), acc.covariance(), o.epsilon);
      } catch (err) {
        report.invalidModels.push({ id: folder.id, reason: (err as Error).message });
        return undefined;
      }
      if (o.precision === 'f16') {
        let big = 0;
        for (let i = 0; i < f.precision.length; i++) big = Math.max(big, Math.abs(f.precision[i]));
        if (big > F16_MAX) {
          report.invalidModels.push({
            id: folder.id,
            reason: `its precision factor has entries up to ${big.toExponential(2)}, beyond the f16 range (use --precision f32 or a larger --epsilon)`,
          });
          return undefined;
        }
      }
      if (f.jitterSteps > 0) {
        report.warnings.push(
          `model "${folder.id}": the covariance + εI was not positive definite; ε raised ${f.jitterSteps} time(s) to ${f.epsilon}`,
        );
      }
      if (embs.length < dim) fewSamples.push(`${folder.id} (${embs.length})`);
      const keep = Math.min(o.keepSamples, embs.length);
      const samples = new Float32Array(keep * dim);
      for (let i = 0; i < keep; i++) samples.set(embs[i], i * dim);

      const derived = mostCommonSize(st.sizes);
      const resolution = folder.meta.resolution ?? derived ?? '';
      if (folder.missingFields.length) {
        const fields = folder.missingFields.map((fld) => (fld === 'resolution' ? `resolution (using "${resolution}" from the images)` : fld));
        report.warnings.push(
          folder.missingFields.length === 7
            ? `model "${folder.id}": no model.json metadata; using defaults for ${fields.join(', ')}`
            : `model "${folder.id}": model.json lacks ${fields.join(', ')}; using defaults`,
        );
      }
      const thumbnails = st.thumbs.map((_, i) => `thumbs/${folder.id}/${i}.webp`);
      Object.assign(st.report, { epsilon: f.epsilon, jitterSteps: f.jitterSteps, samplesKept: keep, thumbnails: thumbnails.length });
      return {
        meta: { id: folder.id, ...folder.meta, resolution, thumbnails },
        mean: f.mean,
        precision: f.precision,
        epsilon: f.epsilon,
        samples,
        images: embs.length,
        thumbs: st.thumbs,
      };
    };

    progress.start(items.length);
    const concurrency = o.concurrency ?? Math.max(2, Math.min(8, availableParallelism()));
    let at = 0;
    for await (const r of orderedMap(items, concurrency, load)) {
      const { m, k, file } = items[at++];
      const st = states[m];
      if (r.kind === 'skip') {
        skip(st, file, r.reason);
      } else {
        const size = `${r.width}×${r.height}`;
        st.sizes.set(size, (st.sizes.get(size) ?? 0) + 1);
        const validSoFar = st.report.fromCache + st.report.embedded + st.pending;
        if (validSoFar < o.thumbnails) {
          const thumb = r.thumb ?? (await makeThumbnail(r.bytes, { width: o.thumbnailWidth, maxPixels: o.maxPixels }).catch(() => undefined));
          if (thumb) st.thumbs.push(thumb);
          else report.warnings.push(`${st.folder.folder}/${file}: could not make a thumbnail`);
        }
        if (r.kind === 'cached') {
          st.embeddings[k] = r.embedding;
          st.report.fromCache++;
          report.images.fromCache++;
          progress.tick();
        } else {
          batch.pixels.set(r.pixels, batch.entries.length * plane);
          batch.entries.push({ m, k, sha: r.sha, width: r.width, height: r.height });
          st.pending++;
          if (batch.entries.length === o.batch) await flush();
        }
      }
      if (k === st.folder.files.length - 1) {
        st.scanned = true;
        if (st.pending === 0) finaliseReady();
      }
    }
    await flush();
    finaliseReady();
    progress.stop();

    if (cache.stats.corrupt) report.warnings.push(`${cache.stats.corrupt} unusable cache entr(y/ies) ignored and recomputed`);
    if (cache.firstWriteError) {
      report.warnings.push(`could not write ${cache.stats.writeErrors} cache entr(y/ies): ${cache.firstWriteError}`);
    }
    if (fewSamples.length) {
      report.warnings.push(
        `${fewSamples.length} model(s) have fewer valid images than the ${dim} dimensions, so their sample covariance is ` +
          `singular; ε = ${o.epsilon} keeps Σ + εI positive definite: ${listSome(fewSamples, 20)}`,
      );
    }
    report.models = states.filter((_, m) => results[m]).map((st) => st.report);

    if (report.invalidModels.length) {
      const lines = report.invalidModels.map((x) => `model "${x.id}": ${x.reason}`);
      if (!o.skipInvalid) {
        throw new InputError(`${report.invalidModels.length} model(s) cannot be built (use --skip-invalid to leave them out)`, lines);
      }
      report.warnings.push(...lines.map((l) => `${l} — left out (--skip-invalid)`));
    }
    const built = results.filter((r): r is ModelResult => r !== undefined);
    if (built.length === 0) throw new InputError('no model could be built');

    // --- assemble the index ---
    const count = built.length;
    const packed = packedSize(dim);
    const means = new Float32Array(count * dim);
    const precision = new Float32Array(count * packed);
    const epsilon = new Float32Array(count);
    const extraFiles = new Map<string, Uint8Array>();
    built.forEach((r, m) => {
      means.set(r.mean, m * dim);
      precision.set(r.precision, m * packed);
      epsilon[m] = r.epsilon;
      r.thumbs.forEach((t, i) => extraFiles.set(r.meta.thumbnails[i], t));
    });
    const index: IndexInput = {
      dim,
      means,
      // writeIndex derives b = Wμ and the log-determinant from the factor as stored (fp16 or f32).
      gaussian: { precision, epsilon, dtype: o.precision },
      ...(o.keepSamples > 0 ? { samples: { perModel: built.map((r) => r.samples), dtype: o.samplesPrecision } } : {}),
      ...(o.projection ? { projection: o.projection.matrix } : {}),
    };
    const params: BuildParams = {
      epsilon: o.epsilon,
      precision: o.precision,
      samplesKept: o.keepSamples,
      ...(o.keepSamples > 0 ? { samplesPrecision: o.samplesPrecision } : {}),
      samplesPerModel: samplesSummary(built.map((r) => r.images)),
      ...(o.projection ? { projection: o.projection.structure } : {}),
    };
    await writeIndexDir(
      o.outDir,
      {
        name,
        createdWith: `tools/build-index.ts`,
        encoder: { id: desc.id, dim },
        licence: o.licence,
        models: built.map((r) => r.meta),
        index,
        params,
        examples: o.examples,
        extraFiles,
      },
      { force: o.force },
    );
    report.ok = true;
    report.seconds = (performance.now() - t0) / 1000;
    return report;
  } catch (err) {
    progress.stop();
    if (err instanceof InputError) fail(err);
    throw err;
  }
}

/** min / mean / max of the valid images per model (a merge recovers the totals from the means exactly). */
export function samplesSummary(counts: number[]): { min: number; mean: number; max: number } {
  const total = counts.reduce((a, b) => a + b, 0);
  return { min: Math.min(...counts), mean: total / counts.length, max: Math.max(...counts) };
}

async function loadEncoder(desc: EncoderDescriptor, modelHost?: string): Promise<NodeEncoder> {
  try {
    return await NodeEncoder.load(desc, modelHost, { towers: ['vision'] });
  } catch (err) {
    throw new InputError(`cannot load the encoder ${desc.id}: ${(err as Error).message}`);
  }
}

/** Drops keys whose value is undefined, so they do not override the defaults they are spread over. */
function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
