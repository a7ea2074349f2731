/**
 * The eval zoo on disk, generated once per set of zoo parameters and reused:
 *
 *   <cache>/zoo-<key>/models/<id>/NN.png + model.json   builder input (tools/zoo/cli.ts writeModels)
 *   <cache>/zoo-<key>/queries/queries.json + PNGs        query sets (tools/zoo/cli.ts writeQueries)
 *   <cache>/zoo-<key>/complete.json                      written last: the folder is usable
 *
 * The key covers the parameters and a hash of the zoo's source files, so changing how the zoo
 * renders regenerates it. Rendering runs in two child processes (one per core) beside the queries.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeZoo, type ZooModelSpec } from '../zoo/spec.ts';

export interface ZooParams {
  models: number;
  samples: number;
  seed: number;
  /** Text queries per model (1–3, `evalTextQueries`). */
  textPerModel: number;
}

export interface EvalZoo {
  key: string;
  dir: string;
  modelsDir: string;
  queriesDir: string;
  specs: ZooModelSpec[];
  /** Seconds spent generating (0 when reused). */
  seconds: number;
  reused: boolean;
}

const ZOO_DIR = fileURLToPath(new URL('../zoo/', import.meta.url));
const SHARD_SCRIPT = fileURLToPath(new URL('./zoo-shard.ts', import.meta.url));

/** Bump when the layout written here changes. */
const LAYOUT_VERSION = 1;

/** Hash of the zoo's TypeScript sources: a changed renderer means a different zoo. */
export async function zooCodeHash(): Promise<string> {
  const h = createHash('sha256').update(`layout ${LAYOUT_VERSION}`);
  const files = (await readdir(ZOO_DIR)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort();
  for (const f of files) h.update(f).update(await readFile(join(ZOO_DIR, f)));
  return h.digest('hex').slice(0, 10);
}

export function zooKey(p: ZooParams, codeHash: string): string {
  return `eval-m${p.models}-s${p.samples}-seed${p.seed}-t${p.textPerModel}-${codeHash}`;
}

function runChild(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SHARD_SCRIPT, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`zoo generation failed (${args[0]}, exit ${code}): ${err.trim()}`))));
  });
}

/** Returns the eval zoo for `p`, generating it under `cacheRoot` unless a complete copy exists. */
export async function ensureEvalZoo(cacheRoot: string, p: ZooParams, log: (s: string) => void = () => {}): Promise<EvalZoo> {
  const key = zooKey(p, await zooCodeHash());
  const dir = join(cacheRoot, `zoo-${key}`);
  const modelsDir = join(dir, 'models');
  const queriesDir = join(dir, 'queries');
  const specs = makeZoo('eval', p.models, p.seed);
  const marker = join(dir, 'complete.json');
  try {
    const done = JSON.parse(await readFile(marker, 'utf8')) as { models: number };
    if (done.models === specs.length) return { key, dir, modelsDir, queriesDir, specs, seconds: 0, reused: true };
  } catch {
    // not generated yet
  }
  const t0 = performance.now();
  log(`generating the eval zoo: ${p.models} models × ${p.samples} samples + query sets → ${dir}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const shards = Math.max(1, Math.min(4, availableParallelism()));
  const common = ['eval', String(p.models), String(p.seed)];
  await Promise.all([
    ...Array.from({ length: shards }, (_, i) => runChild(['models', ...common, String(p.samples), String(i), String(shards), modelsDir])),
    runChild(['queries', ...common, String(p.textPerModel), queriesDir]),
  ]);
  // The shards each wrote a partial .zoo.json: replace it with the whole zoo.
  await writeFile(join(modelsDir, '.zoo.json'), JSON.stringify({ samples: p.samples, sampleSeeds: `0..${p.samples - 1}`, models: specs }, null, 1) + '\n');
  const seconds = (performance.now() - t0) / 1000;
  await writeFile(marker, JSON.stringify({ ...p, key, models: specs.length, seconds }, null, 1) + '\n');
  log(`eval zoo generated in ${seconds.toFixed(1)} s`);
  return { key, dir, modelsDir, queriesDir, specs, seconds, reused: false };
}
