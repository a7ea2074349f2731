/**
 * Runs a query against an index folder in Node, through the same encoder descriptors and src/core
 * scoring as the browser, and prints the ranking.
 *
 *   npm run search -- --index public/index/demo --text "red flowers" [--method gaussian] [--top 10] [--json]
 *   npm run search -- --index <dir> --image photo.jpg [--text "…" --weights 0.5,0.5]
 *   npm run search -- --index <dir> --model <model-id>
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AppError } from '../src/core/io/errors.ts';
import { ENCODERS } from '../src/core/encode/encoders.ts';
import { METHOD_INFO, modelSimilarityScores, productOfExperts, scoreMethod, supportedMethods, type Method } from '../src/core/scoring/methods.ts';
import { preprocessRgba } from '../src/core/encode/preprocess.ts';
import { topK } from '../src/core/scoring/topK.ts';
import { decodeImage } from './lib/build/imageDecode.ts';
import { openLocalIndex } from './lib/localIndex.ts';
import { NodeEncoder } from './lib/nodeEncoder.ts';

const USAGE = `usage: npm run search -- --index <dir> (--text "…" | --image <file> | --model <id>) [options]
  --text <text>        text query (may be combined with --image: a multimodal query)
  --image <file>       image query (JPEG, PNG, WebP, AVIF, GIF, TIFF)
  --model <id>         model as query: rank models by similarity of means
  --weights <a,b>      weights of text and image in a multimodal query (default 0.5,0.5)
  --method <name>      ${Object.keys(METHOD_INFO).join(' | ')} (default: the index's best)
  --k <n>              k for best-k (default 1)
  --temperature <T>    logit scale for monte-carlo / first-second-moment (default 100)
  --top <n>            how many results (default 10)
  --model-host <url>   host for hub-hosted encoder files (default https://huggingface.co)
  --json               print JSON instead of a table`;

function usage(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      index: { type: 'string' },
      text: { type: 'string' },
      image: { type: 'string' },
      model: { type: 'string' },
      weights: { type: 'string' },
      method: { type: 'string' },
      k: { type: 'string' },
      temperature: { type: 'string' },
      top: { type: 'string', default: '10' },
      'model-host': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (err) {
  usage((err as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!args.index) usage('--index is required');
if (!args.text && !args.image && !args.model) usage('give --text, --image or --model');
if (args.model && (args.text || args.image)) usage('--model cannot be combined with --text or --image');
const top = Number(args.top);
if (!Number.isInteger(top) || top < 1) usage('--top must be a positive integer');
const num = (v: string | undefined, name: string) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) usage(`--${name} must be a number`);
  return n;
};

try {
  const local = await openLocalIndex(args.index);
  const { index, models, manifest } = local;
  const methods = supportedMethods(index);
  const method = (args.method ?? methods[0]) as Method;
  if (!(method in METHOD_INFO)) usage(`unknown method "${args.method}"`);

  let scores: Float32Array;
  let usedMethod: Method = method;
  if (args.model) {
    const a = models.findIndex((m) => m.id === args.model);
    if (a < 0) throw new AppError('bad-query', `There is no model with id "${args.model}" in this index.`);
    scores = modelSimilarityScores(index, a);
    usedMethod = 'first-moment';
  } else {
    if (!methods.includes(method)) {
      throw new AppError('bad-query', `This index does not support ${method} (it has: ${methods.join(', ')}).`);
    }
    const desc = ENCODERS[manifest.encoder.id];
    if (!desc) throw new AppError('encoder-unknown', `The index was built with an unknown encoder "${manifest.encoder.id}".`);
    const encoder = await NodeEncoder.load(desc, args['model-host']);
    const params = { k: num(args.k, 'k'), temperature: num(args.temperature, 'temperature') };
    const parts: { scores: Float32Array; weight: number }[] = [];
    const [wText, wImage] = (args.weights ?? '0.5,0.5').split(',').map(Number);
    if (args.text !== undefined) {
      if (!args.text.trim()) throw new AppError('bad-query', 'The text query is empty.');
      const [q] = await encoder.encodeTexts([args.text]);
      parts.push({ scores: scoreMethod(index, method, q, params), weight: wText });
    }
    if (args.image) {
      const bytes = new Uint8Array(await readFile(args.image).catch(() => {
        throw new AppError('bad-query', `Cannot read ${args.image}.`);
      }));
      const decoded = await decodeImage(bytes);
      if (!decoded.ok) throw new AppError('bad-query', `${args.image}: ${decoded.reason}.`);
      const [q] = await encoder.encodeImages(preprocessRgba(decoded.image, desc.image), 1);
      parts.push({ scores: scoreMethod(index, method, q, params), weight: wImage });
    }
    scores = parts.length === 1 ? parts[0].scores : productOfExperts(parts);
  }

  const ranked = topK(scores, top).map((r, i) => ({ rank: i + 1, id: models[r.index].id, name: models[r.index].name, score: r.score }));
  if (args.json) {
    console.log(JSON.stringify({ index: manifest.name, method: usedMethod, results: ranked }, null, 2));
  } else {
    console.log(`${manifest.name}: ${models.length} models · method ${METHOD_INFO[usedMethod].label}`);
    const w = Math.max(4, ...ranked.map((r) => r.name.length));
    console.log(`${'rank'.padStart(4)}  ${'name'.padEnd(w)}  ${'score'.padStart(12)}  id`);
    for (const r of ranked) console.log(`${String(r.rank).padStart(4)}  ${r.name.padEnd(w)}  ${r.score.toFixed(6).padStart(12)}  ${r.id}`);
  }
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`error: ${message}`);
  process.exit(1);
}
