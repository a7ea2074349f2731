/**
 * Procedural zoo CLI.
 *
 *   npx tsx tools/zoo/cli.ts models  --split eval --count 300 --samples 32 --out <dir> [--seed 0]
 *   npx tsx tools/zoo/cli.ts queries --split eval --count 300 --out <dir> [--seed 0] [--text-per-model 1]
 *   npx tsx tools/zoo/cli.ts preview --split eval --count 40 --out sheet.png [--seed 0]
 *
 * `models` writes one folder per model, `<dir>/<id>/NN.png` (sample seeds 0 … samples−1) and
 * `model.json` (docs/build-index.md), plus `<dir>/.zoo.json` (the specs; hidden, so the index
 * builder ignores it). `queries` writes query sets with ground truth (see README.md): image and
 * sketch queries use sample seeds ≥ QUERY_SEED_BASE, never used for model folders.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { choice, integer, parseCommandLine, required, runCommand, text, UsageError } from '../lib/args.ts';
import { evalTextQueries, makeZoo, modelMetadata, type Split, type ZooModelSpec } from './spec.ts';
import { renderSample } from './render.ts';
import { lineDrawing, strokeSketch } from './sketch.ts';
import { nodeCanvasFactory, writeContactSheet, writePng } from './node.ts';

/** Model-folder samples use seeds 0 … samples−1; queries use seeds from here on. */
export const QUERY_SEED_BASE = 1_000_000;
/** Image query of a model: sample seed QUERY_SEED_BASE. */
export const IMAGE_QUERY_SEED = QUERY_SEED_BASE;
/** Sketch query of a model: sample seed QUERY_SEED_BASE + 1 (line: lineDrawing of that render; stroke: strokeSketch). */
export const SKETCH_QUERY_SEED = QUERY_SEED_BASE + 1;

export interface QuerySets {
  image: { file: string; model: string }[];
  sketch: { file: string; model: string; kind: 'line' | 'stroke' }[];
  text: { text: string; model: string }[];
  model: { model: string; family: string }[];
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

export async function writeModels(zoo: ZooModelSpec[], samples: number, out: string, log = console.log): Promise<void> {
  if (samples > QUERY_SEED_BASE) throw new Error(`--samples must be ≤ ${QUERY_SEED_BASE}`);
  const pad = Math.max(2, String(samples - 1).length);
  const t0 = performance.now();
  await mkdir(out, { recursive: true });
  await pool(zoo, 4, async (spec, i) => {
    const dir = join(out, spec.id);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.json'), JSON.stringify(modelMetadata(spec), null, 2) + '\n');
    for (let s = 0; s < samples; s++) {
      await writePng(renderSample(spec, s, nodeCanvasFactory), 224, join(dir, `${String(s).padStart(pad, '0')}.png`));
    }
    if ((i + 1) % 50 === 0) log(`  ${i + 1}/${zoo.length} models`);
  });
  await writeFile(join(out, '.zoo.json'), JSON.stringify({ samples, sampleSeeds: `0..${samples - 1}`, models: zoo }, null, 1) + '\n');
  log(`wrote ${zoo.length} models × ${samples} samples to ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

export async function writeQueries(zoo: ZooModelSpec[], out: string, textPerModel = 1, log = console.log): Promise<QuerySets> {
  const t0 = performance.now();
  const q: QuerySets = { image: [], sketch: [], text: [], model: [] };
  await mkdir(join(out, 'image'), { recursive: true });
  await mkdir(join(out, 'sketch'), { recursive: true });
  for (let i = 0; i < zoo.length; i++) {
    const spec = zoo[i]!;
    const imageFile = `image/${spec.id}.png`;
    await writePng(renderSample(spec, IMAGE_QUERY_SEED, nodeCanvasFactory), 224, join(out, imageFile));
    q.image.push({ file: imageFile, model: spec.id });
    const kind: 'line' | 'stroke' = i % 2 === 0 ? 'line' : 'stroke';
    const sk = kind === 'line' ? lineDrawing(renderSample(spec, SKETCH_QUERY_SEED, nodeCanvasFactory), 224) : strokeSketch(spec, SKETCH_QUERY_SEED, nodeCanvasFactory);
    const sketchFile = `sketch/${spec.id}.png`;
    await writePng(sk, 224, join(out, sketchFile));
    q.sketch.push({ file: sketchFile, model: spec.id, kind });
    for (const text of evalTextQueries(spec).slice(0, textPerModel)) q.text.push({ text, model: spec.id });
    q.model.push({ model: spec.id, family: spec.family });
  }
  await writeFile(join(out, 'queries.json'), JSON.stringify(q, null, 1) + '\n');
  log(
    `wrote ${q.image.length} image, ${q.sketch.length} sketch, ${q.text.length} text and ${q.model.length} model queries to ${out} ` +
      `in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return q;
}

const USAGE = `usage:
  npx tsx tools/zoo/cli.ts models  --split eval|train --count N --samples S --out <dir> [--seed 0]
  npx tsx tools/zoo/cli.ts queries --split eval|train --count N --out <dir> [--seed 0] [--text-per-model 1..3]
  npx tsx tools/zoo/cli.ts preview --split eval|train --count N --out <file.png> [--seed 0] [--sample 0]
--count defaults to 300 (eval) or 800 (train), --samples to 32; -h, --help: this text`;

const OPTIONS = {
  split: choice(['eval', 'train'] as const satisfies readonly Split[], { default: 'eval' }),
  count: integer({ min: 0 }),
  samples: integer({ min: 0, max: QUERY_SEED_BASE, default: 32 }),
  out: text(),
  seed: integer({ min: 0, default: 0 }),
  sample: integer({ min: 0, default: 0 }),
  'text-per-model': integer({ min: 1, max: 3, default: 1 }),
};

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, { positionals: true });
  const [cmd, ...extra] = positionals;
  if (!cmd) throw new UsageError('give a command: models, queries or preview');
  if (!['models', 'queries', 'preview'].includes(cmd)) throw new UsageError(`unknown command "${cmd}" (models, queries or preview)`);
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const out = required(values.out, 'out');
  const zoo = makeZoo(values.split, values.count ?? (values.split === 'eval' ? 300 : 800), values.seed);
  if (cmd === 'models') {
    await writeModels(zoo, values.samples, out);
  } else if (cmd === 'queries') {
    await writeQueries(zoo, out, values['text-per-model']);
  } else {
    await writeContactSheet(zoo.map((z) => renderSample(z, values.sample, nodeCanvasFactory)), 224, 10, out);
    console.log(`wrote ${out}`);
  }
}

if (process.argv[1]?.endsWith('cli.ts')) {
  void runCommand(USAGE, () => main(process.argv.slice(2))).then((code) => (process.exitCode = code));
}
