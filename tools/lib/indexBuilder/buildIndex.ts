/**
 * Builds a search index from folders of sample images, in four stages:
 *
 *   scan      (scan.ts)      model folders → metadata, image files, validated ids, the shard's share
 *   embed     (embed.ts)     files → embedding cache or decode + preprocess + encoder, thumbnails;
 *                            yields each model as soon as its last image is embedded
 *   finalise  (finalise.ts)  a model's embeddings → mean, Gaussian factors, kept samples (pure)
 *   assemble  (assemble.ts)  finalised models → index sections, manifest, models.json, thumbnails
 *                            → writeIndexDir (atomic); a merge of shards ends in the same function
 *
 * Each model is finalised while later ones are still being embedded, so memory holds one batch
 * plus the embeddings of the models in flight, not the whole zoo.
 *
 * `format: 'tiered'` builds a version 2 index instead (docs/index-format.md, "Version 2"): finalise
 * is tieredFinalise.ts (a low-rank or PPCA record per model), assemble is tieredAssemble.ts.
 */
import { definedOnly } from '../../../src/core/scoring/defaults.ts';
import { ENCODERS, type EncoderDescriptor } from '../../../src/core/encode/encoders.ts';
import type { Precision } from '../../../src/core/index/indexFormat.ts';
import { NodeEncoder } from '../nodeEncoder.ts';
import { writeAssembledIndex } from './assemble.ts';
import { BUILD_DEFAULTS, TIERED_DEFAULTS } from './defaults.ts';
import { embedModels } from './embed.ts';
import { InputError } from './errors.ts';
import { fewSamplesWarning, finaliseModel, samplesSummary, type FinalisedModel } from './finalise.ts';
import { checkOutputDir, defaultIndexName } from './output.ts';
import { silentProgress, type Progress } from './progress.ts';
import type { Projection } from './projection.ts';
import { completeReport, emptyReport, type BuildReport } from './report.ts';
import { scanModelFolders, selectShard, type Shard } from './scan.ts';
import { writeTieredIndex, type TieredPrefilter } from './tieredAssemble.ts';
import { finaliseTieredModel, type TieredModel } from './tieredFinalise.ts';

/** The index format a build writes: version 1 (one index.bin, the default) or the tiered version 2. */
export type IndexFormatName = 'v1' | 'tiered';

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
  shard?: Shard;
  force?: boolean;
  name?: string;
  licence?: string;
  /** Example text queries shown by the app for this index. */
  examples?: string[];
  skipInvalid?: boolean;
  maxPixels?: number;
  /** Files decoded ahead of the encoder (default: min(8, cores)). */
  concurrency?: number;
  /** 'v1' (default) or 'tiered' (version 2: head.bin + records.bin + meta shards). */
  format?: IndexFormatName;
  /** Tiered: models per block of records.bin (default 16). */
  modelsPerBlock?: number;
  /** Tiered: also write blocks/<n>.bin, one file per block. */
  blockFiles?: boolean;
  /** Tiered: rank of the PPCA record of a model with more valid images than dimensions (default 128, harmonic residual). */
  ppcaRank?: number;
  /** Tiered: the thumbnails are hosted under this folder (relative to the index), not written into the index. */
  thumbnailBase?: string;
  /** Tiered: int8 means in the head (default), or a sign-coded head with the int8 means in codes.bin. */
  prefilter?: TieredPrefilter;
}

export interface BuildDeps {
  /** A loaded encoder to reuse (tests); otherwise loaded from the descriptor. */
  encoder?: NodeEncoder;
  progress?: Progress;
}

export async function buildIndex(options: BuildOptions, deps: BuildDeps = {}): Promise<BuildReport> {
  const o = { ...BUILD_DEFAULTS, ...definedOnly(options) };
  const desc = ENCODERS[o.encoderId];
  if (!desc) throw new InputError(`unknown encoder "${o.encoderId}" (known: ${Object.keys(ENCODERS).join(', ')})`);
  const dim = desc.dim;
  const name = o.name ?? defaultIndexName(o.outDir);
  const report = emptyReport('build', o.outDir, name, { id: desc.id, dim });
  if (o.shard) report.shard = o.shard;
  const progress = deps.progress ?? silentProgress;

  return completeReport(report, async () => {
    await checkOutputDir(o.outDir, !!o.force, [o.modelsDir]);
    if (o.format === 'tiered' && (o.projection || options.keepSamples)) {
      throw new InputError('a tiered index stores no kept samples and no projection (yet): build it without --keep-samples and --projection');
    }
    if (o.projection && o.projection.matrix.length !== dim * dim) {
      throw new InputError(`the projection is not ${dim}×${dim} (the encoder's dimension)`);
    }
    // 1. scan
    const scan = await scanModelFolders(o.modelsDir);
    report.warnings.push(...scan.warnings);
    const models = selectShard(scan.models, o.shard);

    const encoder = deps.encoder ?? (await loadEncoder(desc, o.modelHost));
    if (encoder.desc.id !== desc.id || encoder.desc.dim !== dim) throw new Error('the supplied encoder does not match --encoder');

    // 2. embed, 3. finalise each model as it completes
    const tiered = o.format === 'tiered';
    const ppcaRank = o.ppcaRank ?? TIERED_DEFAULTS.ppcaRank;
    const finalised: FinalisedModel[] = [];
    const tieredModels: TieredModel[] = [];
    for await (const embedded of embedModels(models, encoder, o, { report, progress })) {
      const { folder, counts } = embedded;
      if (tiered) {
        const r = finaliseTieredModel(embedded, { dim, epsilon: o.epsilon, precision: o.precision, ppcaRank });
        if (!r.ok) {
          report.invalidModels.push({ id: folder.id, reason: r.reason });
          continue;
        }
        report.warnings.push(...r.warnings);
        const { images, epsilon, kind, rank, thumbnails } = r.stats;
        report.models.push({ id: folder.id, folder: folder.folder, images, ...counts, epsilon, jitterSteps: 0, samplesKept: 0, thumbnails, record: kind, rank });
        tieredModels.push(r.model);
        continue;
      }
      const r = finaliseModel(embedded, { dim, epsilon: o.epsilon, precision: o.precision, keepSamples: o.keepSamples });
      if (!r.ok) {
        report.invalidModels.push({ id: folder.id, reason: r.reason });
        continue;
      }
      report.warnings.push(...r.warnings);
      const { images, epsilon, jitterSteps, samplesKept, thumbnails } = r.stats;
      report.models.push({ id: folder.id, folder: folder.folder, images, ...counts, epsilon, jitterSteps, samplesKept, thumbnails });
      finalised.push(r.model);
    }
    // A tiered index stores n ≤ d models exactly at rank n − 1: few samples need no warning there.
    const few = tiered ? undefined : fewSamplesWarning(report.models, { dim, epsilon: o.epsilon });
    if (few) report.warnings.push(few);
    if (report.invalidModels.length) {
      const lines = report.invalidModels.map((x) => `model "${x.id}": ${x.reason}`);
      if (!o.skipInvalid) {
        throw new InputError(`${report.invalidModels.length} model(s) cannot be built (use --skip-invalid to leave them out)`, lines);
      }
      report.warnings.push(...lines.map((l) => `${l} — left out (--skip-invalid)`));
    }
    if (finalised.length + tieredModels.length === 0) throw new InputError('no model could be built');

    if (tiered) {
      await writeTieredIndex(
        o.outDir,
        tieredModels,
        {
          name,
          licence: o.licence,
          examples: o.examples,
          encoder: { id: desc.id, dim },
          epsilon: o.epsilon,
          precision: o.precision,
          ppcaRank,
          modelsPerBlock: o.modelsPerBlock ?? TIERED_DEFAULTS.modelsPerBlock,
          blockFiles: !!o.blockFiles,
          thumbnailBase: o.thumbnailBase,
          prefilter: o.prefilter,
          samplesPerModel: samplesSummary(report.models.map((m) => m.images)),
        },
        { force: o.force, encoder },
      );
      return;
    }

    // 4. assemble + write
    await writeAssembledIndex(
      o.outDir,
      finalised,
      {
        name,
        licence: o.licence,
        examples: o.examples,
        encoder: { id: desc.id, dim },
        epsilon: o.epsilon,
        precision: o.precision,
        samplesKept: o.keepSamples,
        samplesPrecision: o.keepSamples > 0 ? o.samplesPrecision : undefined,
        samplesPerModel: samplesSummary(report.models.map((m) => m.images)),
        projection: o.projection,
      },
      { force: o.force, encoder },
    );
  });
}

async function loadEncoder(desc: EncoderDescriptor, modelHost?: string): Promise<NodeEncoder> {
  try {
    // Both towers: the vision tower embeds the samples, the text tower is needed for the calibration.
    return await NodeEncoder.load(desc, modelHost);
  } catch (err) {
    throw new InputError(`cannot load the encoder ${desc.id}: ${(err as Error).message}`);
  }
}

