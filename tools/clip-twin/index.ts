/**
 * A small index built with the real CLIP path (`--encoder clip-vit-b32`) against the twin served as
 * the hub (tools/clip-twin/hub.ts): the same command a site runs against huggingface.co, only the
 * model host differs. The images are procedural zoo renders (tools/zoo, the first models of the
 * evaluation split), and held-out query images of the same models (sample seeds never used in the
 * model folders) are written beside them:
 *
 *   npm run clip-twin:index [-- --models 12 --samples 8 --force]
 *
 *   .cache/clip-twin/index-src/models/<id>/NN.png, model.json   the builder's input
 *   .cache/clip-twin/index-src/queries/image/<id>.png, queries.json   held-out queries (tools/zoo/cli.ts)
 *   .cache/clip-twin/index/                                       the index (v1: index.bin, models.json, thumbs/)
 *
 * Rebuilds only when the twin (its twin.json), the counts or this script's inputs changed
 * (`recipe.json` in the index folder records them). The twin's weights are random, so the rankings
 * mean nothing about content; what the index proves is that every step of the real CLIP path
 * (download, size check, quantized towers, 512-d statistics, search in the app) works at real size.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, integer, parseCommandLine, runCommand } from '../lib/args.ts';
import { runCli as buildIndexCli } from '../lib/indexBuilder/cli.ts';
import { makeZoo } from '../zoo/spec.ts';
import { writeModels, writeQueries } from '../zoo/cli.ts';
import { modelHostOf, startTwinHub, TWIN_DIR } from './hub.ts';

export const TWIN_INDEX_DIR = join(TWIN_DIR, 'index');
export const TWIN_INDEX_SOURCE = join(TWIN_DIR, 'index-src');

export interface TwinIndexOptions {
  models?: number;
  samples?: number;
  force?: boolean;
  log?: (line: string) => void;
}

export interface TwinIndex {
  /** The index folder (index.bin, models.json, thumbs/). */
  dir: string;
  /** Held-out query images: `queries/image/<model id>.png`. */
  queries: string;
  /** The models' ids, in the zoo's order. */
  modelIds: string[];
  rebuilt: boolean;
}

/** Builds the twin's index when it is missing or stale; returns where it is. */
export async function ensureTwinIndex(opts: TwinIndexOptions = {}): Promise<TwinIndex> {
  const models = opts.models ?? 12;
  const samples = opts.samples ?? 8;
  const log = opts.log ?? console.log;
  const twinManifest = readFileSync(join(TWIN_DIR, 'twin.json'));
  const recipe = {
    models,
    samples,
    twin: createHash('sha256').update(twinManifest).digest('hex'),
  };
  const recipeFile = join(TWIN_INDEX_DIR, 'recipe.json');
  const zoo = makeZoo('eval', models, 0);
  const result = { dir: TWIN_INDEX_DIR, queries: join(TWIN_INDEX_SOURCE, 'queries'), modelIds: zoo.map((m) => m.id) };
  if (!opts.force && existsSync(recipeFile) && readFileSync(recipeFile, 'utf8') === JSON.stringify(recipe) && existsSync(join(TWIN_INDEX_DIR, 'index.bin'))) {
    return { ...result, rebuilt: false };
  }
  await rm(TWIN_INDEX_SOURCE, { recursive: true, force: true });
  await mkdir(TWIN_INDEX_SOURCE, { recursive: true });
  await writeModels(zoo, samples, join(TWIN_INDEX_SOURCE, 'models'), log);
  await writeQueries(zoo, result.queries, 1, log);
  const hub = await startTwinHub({ port: 0 });
  try {
    const io = { stdout: { write: (s: string) => log(s.trimEnd()) }, stderr: { write: (s: string) => log(s.trimEnd()) } };
    const code = await buildIndexCli(
      ['--models', join(TWIN_INDEX_SOURCE, 'models'), '--encoder', 'clip-vit-b32', '--model-host', modelHostOf(hub), '--out', TWIN_INDEX_DIR, '--force', '--no-cache', '--name', 'clip-twin', '--keep-samples', String(samples), '--thumbnails', '2', '--quiet'],
      io,
    );
    if (code !== 0) throw new Error(`build-index exited with ${code}`);
  } finally {
    await hub.close();
  }
  await writeFile(recipeFile, JSON.stringify(recipe));
  return { ...result, rebuilt: true };
}

const USAGE = 'usage: npm run clip-twin:index -- [--models 12] [--samples 8] [--force]';

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runCommand(USAGE, async () => {
    const { values } = parseCommandLine(process.argv.slice(2), { models: integer({ min: 2, max: 300, default: 12 }), samples: integer({ min: 2, max: 64, default: 8 }), force: flag() });
    const t0 = performance.now();
    const index = await ensureTwinIndex(values);
    console.log(`${index.rebuilt ? 'built' : 'up to date:'} ${index.dir} (${index.modelIds.length} models) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
}
