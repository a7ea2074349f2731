/**
 * Command line of tools/build-index.ts (see docs/build-index.md). `runCli` returns the exit code:
 *   0 ok · 1 input error ("error: …" on stderr) · 2 usage error (with a short usage text).
 */
import { writeFile } from 'node:fs/promises';
import { ENCODERS } from '../../../src/core/encode/encoders.ts';
import type { Precision } from '../../../src/core/index/indexFormat.ts';
import { escapeControls } from '../../../src/core/messages.ts';
import type { BuildOptions } from './buildIndex.ts';
import { BUILD_DEFAULTS, TIERED_DEFAULTS } from './defaults.ts';
import { choice, custom, flag, integer, number, parseCommandLine, processIo, required, runCommand, text, UsageError, type CliIo } from '../args.ts';
import { InputError } from './errors.ts';
import { createProgress } from './progress.ts';
import { loadProjection } from './projection.ts';
import { formatReport, type BuildReport } from './report.ts';

const USAGE = `usage:
  npm run build-index -- --models <dir> --encoder <id> --out <dir> [options]
  npm run build-index -- merge --out <dir> [--format tiered [--prefilter int8|sign]] [--force] [--name <s>] [--licence <s>] <shard-dir|shard.tar>...

build options:
  --encoder <id>            ${Object.keys(ENCODERS).join(' | ')}  (required)
  --format v1|tiered        index format: v1 (index.bin, default) or tiered (version 2: head.bin + records.bin)
  --model-host <url>        host of hub-style model files (clip-vit-b32)
  --batch <n>               images per encoder call (default ${BUILD_DEFAULTS.batch})
  --epsilon <x>             ε added to each covariance diagonal (default ${BUILD_DEFAULTS.epsilon})
  --precision f16|f32       storage of the precision factors / tiered basis (default ${BUILD_DEFAULTS.precision})
  --keep-samples <k>        sample embeddings kept per model, 0 = none (default ${BUILD_DEFAULTS.keepSamples})
  --samples-precision f32|f16  (default ${BUILD_DEFAULTS.samplesPrecision})
  --thumbnails <n>          thumbnails per model, 0 = none (default ${BUILD_DEFAULTS.thumbnails})
  --projection <file.json>  fine-tuned projection {"structure", "matrix"}
  --cache <dir>             embedding cache (default ${BUILD_DEFAULTS.cacheDir}); --no-cache disables it
  --shard <i>/<n>           build only the models at sorted positions ≡ i (mod n)
tiered only (also for merge, except --ppca-rank):
  --models-per-block <n>    models per block of records.bin (default ${TIERED_DEFAULTS.modelsPerBlock})
  --block-files             also write blocks/<n>.bin (and codes/<n>.bin), one file per block (hosts without Range)
  --prefilter int8|sign     the head's prefilter: int8 means (default; merge: sign if every shard is sign-coded),
                            or sign codes with the int8 means in codes.bin (~1M models: a smaller head)
  --ppca-rank <r>           rank of the PPCA record of a model with more images than dimensions (default ${TIERED_DEFAULTS.ppcaRank})
  --thumbnail-base <dir/>   thumbnails are hosted there (relative to the index, e.g. ../demo/): none written
  --max-megapixels <x>      skip images larger than this (default ${BUILD_DEFAULTS.maxPixels / 1e6})
  --skip-invalid            leave out models with fewer than 2 valid images instead of failing
  --name <s>                index name (default: the --out folder's name)
  --licence <s>             licence of the index data (default ${BUILD_DEFAULTS.licence})
  --force                   replace an existing output index
  --json-report <file>      also write the report as JSON
  --quiet                   no progress output
  -h, --help                this text
exit codes: 0 ok, 1 input error, 2 usage error`;

/** Flags of both commands: what the index is called, overwriting, reporting. */
const OUTPUT_FLAGS = {
  name: custom(indexName),
  licence: text(),
  force: flag(),
  'json-report': text(),
  quiet: flag(),
};

const precision = () => choice(['f16', 'f32'] as const satisfies readonly Precision[]);

/** Flags of the tiered format, for build and merge. */
const TIERED_FLAGS = {
  format: choice(['v1', 'tiered'] as const),
  'models-per-block': integer({ min: 1, max: 1_000_000 }),
  'block-files': flag(),
  'thumbnail-base': custom(thumbnailBase),
  prefilter: choice(['int8', 'sign'] as const),
};
const TIERED_ONLY = ['models-per-block', 'block-files', 'ppca-rank', 'thumbnail-base', 'prefilter'] as const;

const BUILD_FLAGS = {
  models: text(),
  encoder: custom(encoderId),
  out: text(),
  'model-host': text(),
  batch: integer({ min: 1, max: 1024 }),
  epsilon: number({ positive: true }),
  precision: precision(),
  'keep-samples': integer({ min: 0, max: 1_000_000 }),
  'samples-precision': precision(),
  thumbnails: integer({ min: 0, max: 100 }),
  projection: text(),
  cache: text(),
  'no-cache': flag(),
  shard: custom(parseShard),
  'max-megapixels': number({ positive: true }),
  'skip-invalid': flag(),
  ...TIERED_FLAGS,
  'ppca-rank': integer({ min: 1, max: 4096 }),
  ...OUTPUT_FLAGS,
};

const MERGE_FLAGS = { out: text(), ...TIERED_FLAGS, ...OUTPUT_FLAGS };

function thumbnailBase(value: string): string {
  if (!/^(\.\.\/){0,8}([A-Za-z0-9_][\w.-]*\/){0,8}$/.test(value) || value === '') {
    throw new UsageError(`--thumbnail-base must be a relative folder ending in "/" (such as ../demo/), not "${value}"`);
  }
  return value;
}

/** Tiered-only flags need --format tiered; flags of version 1's kept samples and projection do not apply to it. */
function checkFormatFlags(values: Record<string, unknown>): void {
  if (values.format === 'tiered') {
    for (const f of ['keep-samples', 'samples-precision', 'projection'] as const) {
      if (values[f] !== undefined) throw new UsageError(`--${f} does not apply to --format tiered (a tiered index stores no kept samples and no projection yet)`);
    }
    return;
  }
  for (const f of TIERED_ONLY) {
    if (values[f] !== undefined && values[f] !== false) throw new UsageError(`--${f} needs --format tiered`);
  }
}

function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count) || count > 100_000) {
    throw new UsageError(`--shard must be i/n with 0 ≤ i < n (e.g. 0/4), not "${value}"`);
  }
  return { index, count };
}

function indexName(value: string): string {
  if (!/^[^/\\\0]{1,200}$/.test(value) || value === '.' || value === '..') {
    throw new UsageError(`--name must be 1–200 characters without / or \\, not "${value}"`);
  }
  return value;
}

function encoderId(value: string): string {
  if (!ENCODERS[value]) throw new UsageError(`unknown --encoder "${value}" (known: ${Object.keys(ENCODERS).join(', ')})`);
  return value;
}

async function writeJsonReport(file: string | undefined, report: BuildReport | undefined, io: CliIo): Promise<void> {
  if (!file || !report) return;
  try {
    await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  } catch (err) {
    io.stderr.write(`warning: could not write the JSON report ${file}: ${(err as Error).message}\n`);
  }
}

export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let jsonReport: string | undefined;
  const onError = async (err: unknown): Promise<number> => {
    if (err instanceof InputError) {
      const report = err.report as BuildReport | undefined;
      // The report is worth printing once files were looked at (skips, invalid models).
      if (report && (report.images.total > 0 || report.invalidModels.length > 0)) io.stdout.write(formatReport(report));
      io.stderr.write(`error: ${escapeControls(err.message)}\n${err.details.map((d) => `  ${escapeControls(d)}\n`).join('')}`);
      await writeJsonReport(jsonReport, report, io);
      return 1;
    }
    io.stderr.write(`error: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  };
  return runCommand(
    USAGE,
    async () => {
      const report = argv[0] === 'merge' ? await merge(argv.slice(1)) : await build(argv);
      io.stdout.write(formatReport(report));
      await writeJsonReport(jsonReport, report, io);
    },
    { io, onError },
  );

  async function merge(args: string[]): Promise<BuildReport> {
    const { values, positionals } = parseCommandLine(args, MERGE_FLAGS, { positionals: true });
    jsonReport = values['json-report'];
    if (positionals.length === 0) throw new UsageError('merge needs at least one shard folder');
    checkFormatFlags(values);
    if (values.format === 'tiered') {
      const { mergeTieredShards } = await import('./tieredMerge.ts');
      return mergeTieredShards({
        outDir: required(values.out, 'out'),
        shardDirs: positionals,
        force: values.force,
        name: values.name,
        licence: values.licence,
        modelsPerBlock: values['models-per-block'],
        blockFiles: values['block-files'] || undefined,
        thumbnailBase: values['thumbnail-base'],
        prefilter: values.prefilter,
      });
    }
    const { mergeShards } = await import('./mergeShards.ts'); // sharp/onnxruntime load only when needed
    return mergeShards({
      outDir: required(values.out, 'out'),
      shardDirs: positionals,
      force: values.force,
      name: values.name,
      licence: values.licence,
    });
  }

  async function build(args: string[]): Promise<BuildReport> {
    const { values, positionals } = parseCommandLine(args, BUILD_FLAGS, { positionals: true });
    if (positionals.includes('merge')) throw new UsageError('"merge" must come first: build-index merge --out <dir> <shard-dir>...');
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    jsonReport = values['json-report'];
    const modelsDir = required(values.models, 'models');
    const outDir = required(values.out, 'out');
    const encoderId = required(values.encoder, 'encoder');
    if (values.cache !== undefined && values['no-cache']) throw new UsageError('--cache and --no-cache contradict each other');
    checkFormatFlags(values);
    const maxMp = values['max-megapixels'];
    const opts: BuildOptions = {
      modelsDir,
      outDir,
      encoderId,
      modelHost: values['model-host'],
      batch: values.batch,
      epsilon: values.epsilon,
      precision: values.precision,
      keepSamples: values['keep-samples'],
      samplesPrecision: values['samples-precision'],
      thumbnails: values.thumbnails,
      cacheDir: values['no-cache'] ? null : values.cache,
      shard: values.shard,
      force: values.force,
      name: values.name,
      licence: values.licence,
      skipInvalid: values['skip-invalid'],
      maxPixels: maxMp === undefined ? undefined : Math.round(maxMp * 1e6),
      format: values.format,
      modelsPerBlock: values['models-per-block'],
      blockFiles: values['block-files'],
      ppcaRank: values['ppca-rank'],
      thumbnailBase: values['thumbnail-base'],
      prefilter: values.prefilter,
    };
    if (values.projection !== undefined) opts.projection = await loadProjection(values.projection, ENCODERS[encoderId].dim);
    const progress = createProgress({ quiet: values.quiet, stream: io.stderr });
    const { buildIndex } = await import('./buildIndex.ts');
    return buildIndex(opts, { progress });
  }
}
