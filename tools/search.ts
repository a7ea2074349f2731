/**
 * Runs a query against an index folder in Node and prints the ranking: the same openIndex and the
 * same rank() (src/core/scoring/rank.ts) as the app's worker, with onnxruntime-node as the encoder.
 * Every option the app has: Auto method per query kind, field filters in the query text, k,
 * text+image weight, hybrid weight, "more like this".
 *
 *   npm run search -- --index public/index/demo --text 'red flowers family:"flower"' [--json]
 *   npm run search -- --index <dir> --image photo.jpg [--text "…" --image-weight 0.5]
 *   npm run search -- --index <dir> --sketch drawing.png
 *   npm run search -- --index <dir> --like <model-id>
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ENCODERS } from '../src/core/encode/encoders.ts';
import { preprocessRgba } from '../src/core/encode/preprocess.ts';
import { AppError } from '../src/core/io/errors.ts';
import { SEARCH_DEFAULTS } from '../src/core/scoring/defaults.ts';
import { METHOD_INFO, type Method } from '../src/core/scoring/methods.ts';
import { parseQuery } from '../src/core/scoring/queryFilters.ts';
import { rank, type RankQuery } from '../src/core/scoring/rank.ts';
import { decodeImage } from './lib/indexBuilder/imageDecode.ts';
import { openLocalIndex } from './lib/localIndex.ts';
import { NodeEncoder } from './lib/nodeEncoder.ts';

const USAGE = `usage: npm run search -- --index <dir> (--text "…" | --image <file> | --sketch <file> | --like <id>) [options]
  --text <text>          text query; field filters may follow the words, as in the app's search box:
                         creator:"…" family:"…" licence:"…" name:"…"
  --image <file>         image query (JPEG, PNG, WebP, AVIF, GIF, TIFF); may be combined with --text
  --sketch <file>        like --image, for a drawing (Auto then picks the method that suits sketches)
  --like <id>            "more like this": models similar to model <id> (alias: --model)
  --image-weight <w>     weight of the image in a text+image query, 0–1 (default ${SEARCH_DEFAULTS.imageWeight}; text gets 1 − w)
  --method <name>        auto | ${Object.keys(METHOD_INFO).join(' | ')} (default auto: the best for the query kind)
  --k <n>                k for best-k (default ${SEARCH_DEFAULTS.k})
  --temperature <T>      logit scale for monte-carlo / first-second-moment (default: the index's encoder's)
  --hybrid <w>           weight of metadata text relevance fused with content, 0–1 (default ${SEARCH_DEFAULTS.hybridWeight})
  --top <n>              how many results (default ${SEARCH_DEFAULTS.topK})
  --model-host <url>     host for hub-hosted encoder files (default https://huggingface.co)
  --json                 print JSON instead of a table`;

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
      sketch: { type: 'string' },
      like: { type: 'string' },
      model: { type: 'string' },
      'image-weight': { type: 'string' },
      method: { type: 'string' },
      k: { type: 'string' },
      temperature: { type: 'string' },
      hybrid: { type: 'string' },
      top: { type: 'string' },
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
const like = args.like ?? args.model;
if (!args.index) usage('--index is required');
if (args.image && args.sketch) usage('give --image or --sketch, not both');
const imagePath = args.image ?? args.sketch;
if (args.text === undefined && !imagePath && !like) usage('give --text, --image, --sketch or --like');
if (like && (args.text !== undefined || imagePath)) usage('--like cannot be combined with --text, --image or --sketch');
const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) usage(`--${name} must be a number`);
  return n;
};
const fraction = (v: string | undefined, name: string): number | undefined => {
  const n = num(v, name);
  if (n !== undefined && !(n >= 0 && n <= 1)) usage(`--${name} must be between 0 and 1`);
  return n;
};
const top = num(args.top, 'top') ?? SEARCH_DEFAULTS.topK;
if (!Number.isInteger(top) || top < 1) usage('--top must be a positive integer');
const method = (args.method ?? 'auto') as Method | 'auto';
if (method !== 'auto' && !Object.hasOwn(METHOD_INFO, method)) usage(`unknown method "${args.method}"`);
const imageWeight = fraction(args['image-weight'], 'image-weight') ?? SEARCH_DEFAULTS.imageWeight;
const hybridWeight = fraction(args.hybrid, 'hybrid') ?? SEARCH_DEFAULTS.hybridWeight;
const params = { k: num(args.k, 'k'), temperature: num(args.temperature, 'temperature') };

type ImageFile = { path: string };

try {
  const local = await openLocalIndex(args.index);
  const { models, manifest } = local;
  // The query text as the app's search box reads it: words, then field filters.
  const { text, filters } = parseQuery(args.text ?? '');
  if (args.text !== undefined && !text && !imagePath) {
    throw new AppError('bad-query', 'Filters narrow a search: add a description, an image or a sketch to search with.');
  }
  const parts: RankQuery<ImageFile>['parts'] = [];
  if (like) parts.push({ part: { kind: 'model', modelId: like }, weight: 1 });
  const both = !!text && !!imagePath;
  if (text) parts.push({ part: { kind: 'text', text }, weight: both ? 1 - imageWeight : 1 });
  if (imagePath) parts.push({ part: { kind: 'image', image: { path: imagePath }, source: args.sketch ? 'sketch' : 'file' }, weight: both ? imageWeight : 1 });
  if (like && !local.ids.has(like)) throw new AppError('bad-query', `There is no model with id "${like}" in this index.`);

  let encoder: NodeEncoder | undefined;
  const desc = ENCODERS[manifest.encoder.id];
  const ranking = await rank(local, { parts, method, params, topK: top, filters, hybridWeight: text ? hybridWeight : 0 }, async (part) => {
    if (!desc) throw new AppError('encoder-unknown', `The index was built with an unknown encoder "${manifest.encoder.id}".`);
    encoder ??= await NodeEncoder.load(desc, args['model-host']);
    if (part.kind === 'text') return (await encoder.encodeTexts([part.text]))[0];
    const bytes = new Uint8Array(
      await readFile(part.image.path).catch(() => {
        throw new AppError('bad-query', `Cannot read ${part.image.path}.`);
      }),
    );
    const decoded = await decodeImage(bytes);
    if (!decoded.ok) throw new AppError('bad-query', `${part.image.path}: ${decoded.reason}.`);
    return (await encoder.encodeImages(preprocessRgba(decoded.image, desc.image), 1))[0];
  });

  const results = ranking.results.map((r) => ({
    rank: r.rank,
    id: models[r.index].id,
    name: models[r.index].name,
    score: r.score,
    contentScore: r.contentScore,
  }));
  if (args.json) {
    const queryModel = ranking.queryModel >= 0 ? { id: models[ranking.queryModel].id, name: models[ranking.queryModel].name } : undefined;
    const out = {
      index: manifest.name,
      method: ranking.method,
      kinds: ranking.kinds,
      temperature: ranking.temperature,
      filters,
      hybrid: ranking.hybrid,
      matched: ranking.matched,
      queryModel,
      results,
    };
    console.log(JSON.stringify(out, null, 2));
  } else {
    const scope = ranking.matched < models.length ? ` · ${ranking.matched} of ${models.length} match the filters` : '';
    console.log(`${manifest.name}: ${models.length} models · method ${METHOD_INFO[ranking.method].label}${ranking.hybrid ? ' + metadata (hybrid)' : ''}${scope}`);
    const w = Math.max(4, ...results.map((r) => r.name.length));
    console.log(`${'rank'.padStart(4)}  ${'name'.padEnd(w)}  ${'score'.padStart(12)}  id`);
    for (const r of results) console.log(`${String(r.rank).padStart(4)}  ${r.name.padEnd(w)}  ${r.score.toFixed(6).padStart(12)}  ${r.id}`);
    if (!results.length) console.log('No model matches these filters.');
  }
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`error: ${message}`);
  process.exit(1);
}
