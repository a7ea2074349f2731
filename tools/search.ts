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
import { ENCODERS } from '../src/core/encode/encoders.ts';
import { headerFault, readImageHeader } from '../src/core/encode/imageHeader.ts';
import { preprocessRgba } from '../src/core/encode/preprocess.ts';
import { AppError } from '../src/core/io/errors.ts';
import { IMAGE_FAULTS, imageFault, mustBe, tooManyPixels } from '../src/core/messages.ts';
import { SEARCH_DEFAULTS } from '../src/core/scoring/defaults.ts';
import { METHOD_INFO, type Method } from '../src/core/scoring/methods.ts';
import { hasFilters, parseQuery } from '../src/core/scoring/queryFilters.ts';
import { rank, type RankQuery } from '../src/core/scoring/rank.ts';
import { choice, custom, flag, fraction, integer, number, parseCommandLine, processIo, required, runCommand, text, UsageError } from './lib/args.ts';
import { CMYK_REASON, decodeImage } from './lib/indexBuilder/imageDecode.ts';
import { isTieredFolder, openLocalIndex, openLocalTiered } from './lib/localIndex.ts';
import { DEFAULT_CANDIDATES, DEFAULT_SHORTLIST, MAX_CANDIDATES, MAX_SHORTLIST, rankTiered } from '../src/core/index/tieredRank.ts';
import type { QueryPart } from '../src/core/scoring/rank.ts';
import { NodeEncoder } from './lib/nodeEncoder.ts';

/** rank.ts refuses a larger temperature; the flag says so first, naming itself. */
const MAX_TEMPERATURE = 10_000;

const USAGE = `usage: npm run search -- --index <dir> (--text "…" | --image <file> | --sketch <file> | --like <id>) [options]
  --text <text>          text query; field filters may follow the words, as in the app's search box:
                         creator:"…" family:"…" licence:"…" name:"…"
  --image <file>         image query (JPEG, PNG, WebP, AVIF, GIF, TIFF); may be combined with --text
  --sketch <file>        like --image, for a drawing (Auto then picks the method that suits sketches)
  --like <id>            "more like this": models similar to model <id> (alias: --model); field filters
                         may come with it in --text
  --image-weight <w>     weight of the image in a text+image query, 0–1 (default ${SEARCH_DEFAULTS.imageWeight}; text gets 1 − w)
  --method <name>        auto | ${Object.keys(METHOD_INFO).join(' | ')} (default auto: the best for the query kind)
  --k <n>                k for best-k, 1–${SEARCH_DEFAULTS.maxK} (default ${SEARCH_DEFAULTS.k})
  --temperature <T>      logit scale for monte-carlo / first-second-moment, at most ${MAX_TEMPERATURE} (default: the index's encoder's)
  --hybrid <w>           weight of metadata text relevance fused with content, 0–1 (default ${SEARCH_DEFAULTS.hybridWeight})
  --top <n>              how many results (default ${SEARCH_DEFAULTS.topK})
  --candidates <K>       a tiered (version 2) index: candidates the prefilter keeps for the exact rerank,
                         1–${MAX_CANDIDATES} (default ${DEFAULT_CANDIDATES}); field filters and --hybrid need a version 1 index
  --shortlist <n>        a tiered index with a sign-coded head (codes.bin): models the sign codes keep whose
                         int8 means are read, 1–${MAX_SHORTLIST} (default ${DEFAULT_SHORTLIST}, never fewer than --candidates);
                         an int8 head scores every model with its int8 means and ignores it
  --model-host <url>     host for hub-hosted encoder files (default https://huggingface.co)
  --json                 print JSON instead of a table
  -h, --help             this text`;

const OPTIONS = {
  index: text(),
  text: text(),
  image: text(),
  sketch: text(),
  like: text(),
  model: text(),
  'image-weight': fraction({ default: SEARCH_DEFAULTS.imageWeight }),
  method: choice(['auto', ...(Object.keys(METHOD_INFO) as Method[])], { default: 'auto' }),
  // The same range as the app's ?k= (src/lib/urlState.ts).
  k: integer({ min: 1, max: SEARCH_DEFAULTS.maxK }),
  temperature: custom((raw, f) => {
    const t = number({ positive: true }).parse(raw, f);
    if (t > MAX_TEMPERATURE) throw new UsageError(mustBe(f, `a positive number, at most ${MAX_TEMPERATURE}`, raw));
    return t;
  }),
  hybrid: fraction({ default: SEARCH_DEFAULTS.hybridWeight }),
  top: integer({ min: 1, default: SEARCH_DEFAULTS.topK }),
  candidates: integer({ min: 1, max: MAX_CANDIDATES }),
  shortlist: integer({ min: 1, max: MAX_SHORTLIST }),
  'model-host': text(),
  json: flag(),
};

type ImageFile = { path: string };

// The same sentences as the app's notice (src/lib/matchNotice.ts).
const NO_INFORMATION = 'No model matches this: the encoder knows none of these words. Try other words for what the images show.';
const WEAK_MATCH = 'No model matches this well: the best score is no better than queries without content get. Try other words, or an image.';

/** The image's pixels, or the app's sentence for why it cannot be used (src/lib/imageInput.ts says the same). */
async function readImage(path: string) {
  const bytes = new Uint8Array(
    await readFile(path).catch((err: NodeJS.ErrnoException) => {
      throw new AppError('bad-query', `“${path}” ${err.code === 'ENOENT' ? 'does not exist' : `cannot be read (${err.code ?? 'error'})`}.`, path);
    }),
  );
  const refuse = (fault: string): never => {
    throw new AppError('bad-query', imageFault(path, fault), path);
  };
  if (bytes.byteLength === 0) refuse(IMAGE_FAULTS.empty);
  const fault = headerFault(readImageHeader(bytes));
  if (fault) refuse(fault);
  const decoded = await decodeImage(bytes);
  if (decoded.ok) return decoded.image;
  const large = /^too large \((\d+)×(\d+)\)$/.exec(decoded.reason);
  return refuse(decoded.reason === CMYK_REASON ? IMAGE_FAULTS.cmyk : large ? tooManyPixels(+large[1], +large[2]) : IMAGE_FAULTS.unreadable);
}

/** An explained failure prints as the app shows it: the message, then what it concerns. */
function onError(err: unknown): number | undefined {
  if (!(err instanceof AppError)) return undefined;
  processIo.stderr.write(`error: ${err.message}${err.subject && !err.message.includes(err.subject) ? ` (${err.subject})` : ''}\n`);
  return 1;
}

process.exitCode = await runCommand(USAGE, async () => {
  const { values: args } = parseCommandLine(process.argv.slice(2), OPTIONS);
  const index = required(args.index, 'index');
  const like = args.like ?? args.model;
  if (args.image && args.sketch) throw new UsageError('give --image or --sketch, not both');
  const imagePath = args.image ?? args.sketch;
  if (args.text === undefined && !imagePath && !like) throw new UsageError('give --text, --image, --sketch or --like');
  if (like && imagePath) throw new UsageError('--like cannot be combined with --image or --sketch');
  const { method, top, 'image-weight': imageWeight, hybrid: hybridWeight } = args;
  const params = { k: args.k, temperature: args.temperature };

  // The query text as the app's search box reads it: words, then field filters.
  const { text, filters } = parseQuery(args.text ?? '');
  // With --like, --text may carry field filters only (as the app keeps the box's filters on "more like this").
  if (like && text) throw new UsageError('--like takes field filters in --text (e.g. family:"flower"), not words');
  // Field filters alone list the models they match, by name (as the app's search box does).
  if (args.text !== undefined && !text && !imagePath && !like && !hasFilters(filters)) {
    throw new AppError('bad-query', 'Type a description of the images you are looking for.');
  }
  const parts: RankQuery<ImageFile>['parts'] = [];
  if (like) parts.push({ part: { kind: 'model', modelId: like }, weight: 1 });
  const both = !!text && !!imagePath;
  if (text) parts.push({ part: { kind: 'text', text }, weight: both ? 1 - imageWeight : 1 });
  if (imagePath) parts.push({ part: { kind: 'image', image: { path: imagePath }, source: args.sketch ? 'sketch' : 'file' }, weight: both ? imageWeight : 1 });

  let encoder: NodeEncoder | undefined;
  const embedWith = (encoderId: string) => async (part: Exclude<QueryPart<ImageFile>, { kind: 'model' }>) => {
    const desc = ENCODERS[encoderId];
    if (!desc) throw new AppError('encoder-unknown', `The index was built with an unknown encoder "${encoderId}".`);
    // A file that is no usable image is refused before the encoder loads.
    const image = part.kind === 'image' ? await readImage(part.image.path) : undefined;
    encoder ??= await NodeEncoder.load(desc, args['model-host']);
    if (part.kind === 'text') return (await encoder.encodeTexts([part.text]))[0];
    return (await encoder.encodeImages(preprocessRgba(image!, desc.image), 1))[0];
  };

  if (await isTieredFolder(index)) {
    // A tiered index: the same two-stage ranking as the app's worker (src/core/index/tieredRank.ts).
    const tiered = await openLocalTiered(index);
    const likeIndex = like ? await tiered.findId(like) : undefined;
    const ranking = await rankTiered(
      { head: tiered.head, calibration: tiered.calibration, nullText: tiered.nullText, idOf: (id) => (id === like ? likeIndex : undefined) },
      { parts, method, topK: top, filters, hybridWeight: text ? hybridWeight : 0 },
      embedWith(tiered.manifest.encoder.id),
      { candidates: args.candidates, fetchBlocks: tiered.fetchBlocks, cache: tiered.cache, shortlist: args.shortlist, fetchCodeBlocks: tiered.fetchCodeBlocks, codeCache: tiered.codeCache },
    );
    const metas = await tiered.meta(ranking.results.map((r) => r.index));
    const results = ranking.results.map((r, i) => ({ rank: i + 1, id: metas[i]!.id, name: metas[i]!.name, score: r.score, contentScore: r.score }));
    if (args.json) {
      console.log(JSON.stringify({ index: tiered.manifest.name, method: ranking.method, kinds: ranking.kinds, tiered: { candidates: ranking.candidates.length, blocksRead: ranking.fetched.length, ...(ranking.signStage ? { shortlist: ranking.signStage.shortlist, codeBlocksRead: ranking.signStage.codeBlocksFetched.length } : {}) }, noMatch: ranking.match.kind !== 'ok', match: ranking.match, results }, null, 2));
    } else {
      const signs = ranking.signStage ? ` · sign-code shortlist of ${ranking.signStage.shortlist}` : '';
      console.log(`${tiered.manifest.name}: ${tiered.head.count} models (tiered) · method ${METHOD_INFO[ranking.method].label}${signs} · top ${ranking.candidates.length} prefilter candidates reranked exactly`);
      const w = Math.max(4, ...results.map((r) => r.name.length));
      console.log(`${'rank'.padStart(4)}  ${'name'.padEnd(w)}  ${'score'.padStart(12)}  id`);
      for (const r of results) console.log(`${String(r.rank).padStart(4)}  ${r.name.padEnd(w)}  ${r.score.toFixed(6).padStart(12)}  ${r.id}`);
      if (ranking.match.kind === 'no-information') console.log(NO_INFORMATION);
      else if (ranking.match.kind === 'weak') console.log(WEAK_MATCH);
    }
    return;
  }
  if (args.candidates !== undefined) throw new UsageError('--candidates applies to a tiered (version 2) index only');
  if (args.shortlist !== undefined) throw new UsageError('--shortlist applies to a tiered (version 2) index only');

  const local = await openLocalIndex(index);
  const { models, manifest } = local;
  const ranking = await rank(local, { parts, method, params, topK: top, filters, hybridWeight: text ? hybridWeight : 0 }, embedWith(manifest.encoder.id));

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
      // true for field filters alone: the models they match by name, unscored (score null).
      listing: ranking.kinds.length === 0,
      temperature: ranking.temperature,
      filters,
      hybrid: ranking.hybrid,
      matched: ranking.matched,
      // true when nothing matches well: a content-free query, or a best score inside what content-free queries reach.
      noMatch: ranking.match.kind !== 'ok',
      match: ranking.match,
      queryModel,
      results,
    };
    console.log(JSON.stringify(out, null, 2));
  } else {
    const scope = ranking.matched < models.length ? ` · ${ranking.matched} of ${models.length} match the filters` : '';
    const how = ranking.kinds.length ? `method ${METHOD_INFO[ranking.method].label}${ranking.hybrid ? ' + metadata (hybrid)' : ''}` : 'listed by name (filters only)';
    console.log(`${manifest.name}: ${models.length} models · ${how}${scope}`);
    const w = Math.max(4, ...results.map((r) => r.name.length));
    console.log(`${'rank'.padStart(4)}  ${'name'.padEnd(w)}  ${'score'.padStart(12)}  id`);
    for (const r of results) console.log(`${String(r.rank).padStart(4)}  ${r.name.padEnd(w)}  ${(Number.isNaN(r.score) ? '—' : r.score.toFixed(6)).padStart(12)}  ${r.id}`);
    if (!results.length) console.log('No model matches these filters.');
    else if (ranking.match.kind === 'no-information') console.log(NO_INFORMATION);
    else if (ranking.match.kind === 'weak') console.log(WEAK_MATCH);
  }
}, { onError });
