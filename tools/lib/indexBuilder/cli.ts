/**
 * Command line of tools/build-index.ts (see docs/build-index.md). `runCli` returns the exit code:
 *   0 ok · 1 input error ("error: …" on stderr) · 2 usage error (with a short usage text).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ENCODERS } from '../../../src/core/encode/encoders.ts';
import type { Precision } from '../../../src/core/index/indexFormat.ts';
import type { BuildOptions } from './buildIndex.ts';
import { BUILD_DEFAULTS } from './defaults.ts';
import { InputError, UsageError } from './errors.ts';
import { createProgress } from './progress.ts';
import { loadProjection } from './projection.ts';
import { formatReport, type BuildReport } from './report.ts';

export const USAGE = `usage:
  npm run build-index -- --models <dir> --encoder <id> --out <dir> [options]
  npm run build-index -- merge --out <dir> [--force] [--name <s>] [--licence <s>] <shard-dir>...

build options:
  --encoder <id>            ${Object.keys(ENCODERS).join(' | ')}  (required)
  --model-host <url>        host of hub-style model files (clip-vit-b32)
  --batch <n>               images per encoder call (default ${BUILD_DEFAULTS.batch})
  --epsilon <x>             ε added to each covariance diagonal (default ${BUILD_DEFAULTS.epsilon})
  --precision f16|f32       storage of the precision factors (default ${BUILD_DEFAULTS.precision})
  --keep-samples <k>        sample embeddings kept per model, 0 = none (default ${BUILD_DEFAULTS.keepSamples})
  --samples-precision f32|f16  (default ${BUILD_DEFAULTS.samplesPrecision})
  --thumbnails <n>          thumbnails per model, 0 = none (default ${BUILD_DEFAULTS.thumbnails})
  --projection <file.json>  fine-tuned projection {"structure", "matrix"}
  --cache <dir>             embedding cache (default ${BUILD_DEFAULTS.cacheDir}); --no-cache disables it
  --shard <i>/<n>           build only the models at sorted positions ≡ i (mod n)
  --max-megapixels <x>      skip images larger than this (default ${BUILD_DEFAULTS.maxPixels / 1e6})
  --skip-invalid            leave out models with fewer than 2 valid images instead of failing
  --name <s>                index name (default: the --out folder's name)
  --licence <s>             licence of the index data (default ${BUILD_DEFAULTS.licence})
  --force                   replace an existing output index
  --json-report <file>      also write the report as JSON
  --quiet                   no progress output
  -h, --help                this text
exit codes: 0 ok, 1 input error, 2 usage error`;

export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** Flags of both commands: what the index is called, overwriting, reporting. */
const OUTPUT_FLAGS = {
  name: { type: 'string' },
  licence: { type: 'string' },
  force: { type: 'boolean' },
  'json-report': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const BUILD_FLAGS = {
  models: { type: 'string' },
  encoder: { type: 'string' },
  out: { type: 'string' },
  'model-host': { type: 'string' },
  batch: { type: 'string' },
  epsilon: { type: 'string' },
  precision: { type: 'string' },
  'keep-samples': { type: 'string' },
  'samples-precision': { type: 'string' },
  thumbnails: { type: 'string' },
  projection: { type: 'string' },
  cache: { type: 'string' },
  'no-cache': { type: 'boolean' },
  shard: { type: 'string' },
  'max-megapixels': { type: 'string' },
  'skip-invalid': { type: 'boolean' },
  ...OUTPUT_FLAGS,
} as const;

const MERGE_FLAGS = { out: { type: 'string' }, ...OUTPUT_FLAGS } as const;

function int(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, not "${value}"`);
  }
  return n;
}

function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number, not "${value}"`);
  return n;
}

function precision(flag: string, value: string | undefined): Precision | undefined {
  if (value === undefined) return undefined;
  if (value !== 'f16' && value !== 'f32') throw new UsageError(`--${flag} must be f16 or f32, not "${value}"`);
  return value;
}

export function parseShard(value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count) || count > 100_000) {
    throw new UsageError(`--shard must be i/n with 0 ≤ i < n (e.g. 0/4), not "${value}"`);
  }
  return { index, count };
}

function indexName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[^/\\\0]{1,200}$/.test(value) || value === '.' || value === '..') {
    throw new UsageError(`--name must be 1–200 characters without / or \\, not "${value}"`);
  }
  return value;
}

function required(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}

/** Runs parseArgs, turning its errors (unknown flag, missing value) into usage errors. */
function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    // node:util's messages run on ("… To specify a positional argument …"): keep the first sentence.
    throw new UsageError((err as Error).message.split('\n')[0].replace(/\. To specify.*$/, ''));
  }
}

async function writeJsonReport(file: string | undefined, report: BuildReport | undefined, io: CliIo): Promise<void> {
  if (!file || !report) return;
  try {
    await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  } catch (err) {
    io.stderr.write(`warning: could not write the JSON report ${file}: ${(err as Error).message}\n`);
  }
}

export async function runCli(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let jsonReport: string | undefined;
  try {
    const isMerge = argv[0] === 'merge';
    if (isMerge) {
      const { values, positionals } = asUsage(() => parseArgs({ args: argv.slice(1), options: MERGE_FLAGS, allowPositionals: true, strict: true }));
      if (values.help) {
        io.stdout.write(USAGE + '\n');
        return 0;
      }
      jsonReport = values['json-report'];
      if (positionals.length === 0) throw new UsageError('merge needs at least one shard folder');
      const { mergeShards } = await import('./mergeShards.ts'); // sharp/onnxruntime load only when needed
      const report = await mergeShards({
        outDir: required('out', values.out),
        shardDirs: positionals,
        force: values.force,
        name: indexName(values.name),
        licence: values.licence,
      });
      io.stdout.write(formatReport(report));
      await writeJsonReport(jsonReport, report, io);
      return 0;
    }

    const { values, positionals } = asUsage(() => parseArgs({ args: argv, options: BUILD_FLAGS, allowPositionals: true, strict: true }));
    if (values.help) {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    if (positionals.includes('merge')) throw new UsageError('"merge" must come first: build-index merge --out <dir> <shard-dir>...');
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    jsonReport = values['json-report'];
    const modelsDir = required('models', values.models);
    const outDir = required('out', values.out);
    const encoderId = required('encoder', values.encoder);
    const desc = ENCODERS[encoderId];
    if (!desc) throw new UsageError(`unknown --encoder "${encoderId}" (known: ${Object.keys(ENCODERS).join(', ')})`);
    if (values.cache !== undefined && values['no-cache']) throw new UsageError('--cache and --no-cache contradict each other');
    const maxMp = positive('max-megapixels', values['max-megapixels']);
    const opts: BuildOptions = {
      modelsDir,
      outDir,
      encoderId,
      modelHost: values['model-host'],
      batch: int('batch', values.batch, 1, 1024),
      epsilon: positive('epsilon', values.epsilon),
      precision: precision('precision', values.precision),
      keepSamples: int('keep-samples', values['keep-samples'], 0, 1_000_000),
      samplesPrecision: precision('samples-precision', values['samples-precision']),
      thumbnails: int('thumbnails', values.thumbnails, 0, 100),
      cacheDir: values['no-cache'] ? null : values.cache,
      shard: parseShard(values.shard),
      force: values.force,
      name: indexName(values.name),
      licence: values.licence,
      skipInvalid: values['skip-invalid'],
      maxPixels: maxMp === undefined ? undefined : Math.round(maxMp * 1e6),
    };
    if (values.projection !== undefined) opts.projection = await loadProjection(values.projection, desc.dim);
    const progress = createProgress({ quiet: values.quiet, stream: io.stderr });
    const { buildIndex } = await import('./buildIndex.ts');
    const report = await buildIndex(opts, { progress });
    io.stdout.write(formatReport(report));
    await writeJsonReport(jsonReport, report, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof InputError) {
      const report = err.report as BuildReport | undefined;
      // The report is worth printing once files were looked at (skips, invalid models).
      if (report && (report.images.total > 0 || report.invalidModels.length > 0)) io.stdout.write(formatReport(report));
      io.stderr.write(`error: ${err.message}\n${err.details.map((d) => `  ${d}\n`).join('')}`);
      await writeJsonReport(jsonReport, report, io);
      return 1;
    }
    io.stderr.write(`error: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
