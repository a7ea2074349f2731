/**
 * `npm run eval:no-match` — how often the "nothing matches" verdict (src/core/scoring/matchQuality.ts)
 * fires on queries without content and on good queries, on a built index with a calibration.
 *
 *   npm run eval:no-match [-- --index public/index/demo] [--json docs/eval/no-match.json]
 *
 * Content-free queries here are held out from the build's calibration by construction: the builder
 * draws random whole words of the CLIP vocabulary and uniform-noise images (tools/lib/calibrate.ts);
 * this suite uses everyday English phrases off the zoo's topics, random letter strings (not vocabulary
 * words), pronounceable made-up words, digits and punctuation, and flat or two-colour images. A test (test/unit/noMatch.test.ts)
 * checks the sets stay disjoint. Good queries are the eval's own (`npm run eval` caches them in
 * .cache/eval): text in the zoo's words and its held-out suites (one typo, held-out synonyms, one
 * attribute only), clean and perturbed renders, and sketches of eval models.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ENCODERS } from '../../src/core/encode/encoders.ts';
import { rank, type RankableIndex } from '../../src/core/scoring/rank.ts';
import { number, parseCommandLine, runCommand, text } from '../lib/args.ts';
import { openLocalIndex } from '../lib/localIndex.ts';
import { NodeEncoder } from '../lib/nodeEncoder.ts';
import { loadLexicon } from '../zoo/lexicon.ts';
import { knownWordSet, trainedMadeUpWords } from '../zoo/export-text-data.ts';
import { clipWholeWords } from '../zoo/export-training-data.ts';
import type { ZooModelSpec } from '../zoo/spec.ts';
import { attributeQueries, contentWords, evalTypo, generatorVocabulary, synonymMap, synonymQueries } from './heldout.ts';
import { gibberish, OFF_TOPIC_PHRASES, plainImages, pseudoWords, SYMBOL_QUERIES } from './noMatchQueries.ts';
import { PERTURBATIONS, perturbAll, perturbedDir, type Perturbation } from './perturb.ts';
import { embedImageFiles, readQueryFile } from './queries.ts';

const USAGE = `usage: npm run eval:no-match -- [--index <dir>] [--cache <dir>] [--json <file>]
  --index <dir>   a built index with a calibration (default public/index/demo)
  --cache <dir>   the eval cache with the good queries (default .cache/eval; run npm run eval first)
  --json <file>   also write the numbers as JSON`;

const SHORT_LABELS: Record<Perturbation, string> = { frame: 'screenshot frame', rotate7: 'rotated 7°', crop70: 'centre crop 70 %', jpeg40: 'JPEG 40', downup: 'down to ⅓ and up' };

const OPTIONS = { index: text(), cache: text(), json: text(), seed: number() };

interface Row {
  set: string;
  kind: 'text' | 'image' | 'sketch';
  content: boolean;
  queries: number;
  flagged: number;
  noInformation: number;
  weak: number;
}

async function judge(target: RankableIndex, kind: Row['kind'], embeddings: Float32Array[], texts?: string[]) {
  let noInformation = 0, weak = 0;
  for (const [i, e] of embeddings.entries()) {
    const part = kind === 'text' ? { kind: 'text' as const, text: texts?.[i] || 'query' } : { kind: 'image' as const, image: i, source: kind === 'sketch' ? ('sketch' as const) : ('file' as const) };
    const r = await rank(target, { parts: [{ part, weight: 1 }], topK: 1 }, async () => e);
    if (r.match.kind === 'no-information') noInformation++;
    else if (r.match.kind === 'weak') weak++;
  }
  return { queries: embeddings.length, flagged: noInformation + weak, noInformation, weak };
}

process.exitCode = await runCommand(USAGE, async () => {
  const { values: o } = parseCommandLine(process.argv.slice(2), OPTIONS);
  const target = await openLocalIndex(o.index ?? 'public/index/demo');
  if (!target.calibration) throw new Error(`${target.dir} has no calibration: rebuild it with the current builder.`);
  const desc = ENCODERS[target.manifest.encoder.id];
  const encoder = await NodeEncoder.load(desc);
  const seed = o.seed ?? 7;
  const cache = o.cache ?? '.cache/eval';
  const latest = JSON.parse(await readFile(join(cache, 'latest.json'), 'utf8')) as { queriesDir: string };
  const queriesDir = join(cache, latest.queriesDir);
  const queries = await readQueryFile(queriesDir);

  const rows: Row[] = [];
  const add = (set: string, kind: Row['kind'], content: boolean, r: Awaited<ReturnType<typeof judge>>) => rows.push({ set, kind, content, ...r });
  // Content-free (held out from the calibration).
  const gib = gibberish(100, seed);
  add('off-topic English phrases', 'text', false, await judge(target, 'text', await encoder.encodeTexts(OFF_TOPIC_PHRASES), OFF_TOPIC_PHRASES));
  add('random letter strings', 'text', false, await judge(target, 'text', await encoder.encodeTexts(gib), gib));
  const words = clipWholeWords();
  const trained = trainedMadeUpWords();
  const known = knownWordSet(); // a word the encoder knows (a rare WordNet lemma) is not made up
  const pseudo = pseudoWords(100, seed, (w) => words.has(w) || trained.has(w) || known.has(w));
  add('made-up pronounceable words', 'text', false, await judge(target, 'text', await encoder.encodeTexts(pseudo), pseudo));
  add('digits and punctuation', 'text', false, await judge(target, 'text', await encoder.encodeTexts(SYMBOL_QUERIES), SYMBOL_QUERIES));
  const plain = await encoder.encodeImages(plainImages(desc.image.size, 40, seed, desc.image), 40);
  add('flat and two-colour images', 'image', false, await judge(target, 'image', plain));
  add('flat and two-colour images as sketches', 'sketch', false, await judge(target, 'sketch', plain));
  // Good queries: the eval's.
  const texts = queries.text.map((q) => q.text);
  const addTexts = async (set: string, ts: string[]) => add(set, 'text', true, await judge(target, 'text', await encoder.encodeTexts(ts), ts));
  await addTexts('eval text (zoo words)', texts);
  // The held-out text suites are good queries too (the same queries `npm run eval` ranks): short and
  // reworded queries are where a threshold on the best score would hurt first.
  const lexicon = loadLexicon();
  const vocab = generatorVocabulary(lexicon);
  const content = contentWords();
  await addTexts('eval text, one typo', texts.flatMap((t, i) => evalTypo(t, i, content, vocab)?.text ?? []));
  const zooDir = dirname(queriesDir);
  const specs = (JSON.parse(await readFile(join(zooDir, 'models', '.zoo.json'), 'utf8')) as { models: ZooModelSpec[] }).models;
  await addTexts('eval text, held-out synonyms', synonymQueries(specs, synonymMap(lexicon, vocab)).map((q) => q.text));
  await addTexts('eval text, one attribute only', attributeQueries().map((q) => q.text));
  const imageFiles = queries.image.map((q) => join(queriesDir, q.file));
  add('eval clean renders', 'image', true, await judge(target, 'image', await embedImageFiles(encoder, imageFiles)));
  const perturbed = await perturbAll(imageFiles, perturbedDir(zooDir));
  for (const kind of PERTURBATIONS) add(`eval renders, ${SHORT_LABELS[kind]}`, 'image', true, await judge(target, 'image', await embedImageFiles(encoder, perturbed[kind])));
  add('eval sketches', 'sketch', true, await judge(target, 'sketch', await embedImageFiles(encoder, queries.sketch.map((q) => join(queriesDir, q.file)))));

  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)} %`;
  console.log(`"Nothing matches" on ${target.manifest.name} (${target.models.length} models, ${desc.id}); thresholds: ${JSON.stringify(target.calibration.kinds)}`);
  console.log(`${'set'.padEnd(42)} ${'kind'.padEnd(7)} ${'queries'.padStart(7)}  flagged   (no info / weak)`);
  for (const r of rows) console.log(`${r.set.padEnd(42)} ${r.kind.padEnd(7)} ${String(r.queries).padStart(7)}  ${pct(r.flagged, r.queries).padStart(7)}   (${r.noInformation} / ${r.weak})`);
  const sum = (content: boolean, kind?: Row['kind']) => {
    const rs = rows.filter((r) => r.content === content && (!kind || r.kind === kind));
    return { flagged: rs.reduce((a, r) => a + r.flagged, 0), queries: rs.reduce((a, r) => a + r.queries, 0) };
  };
  const nullText = sum(false, 'text'), good = sum(true);
  console.log(`content-free text flagged ${pct(nullText.flagged, nullText.queries)} (target ≥ 95 %); good queries flagged ${pct(good.flagged, good.queries)} (target ≤ 2 %)`);
  if (o.json) {
    await mkdir(dirname(o.json), { recursive: true });
    await writeFile(o.json, JSON.stringify({ index: target.manifest.name, encoder: desc.id, calibration: target.calibration.kinds, rows }, null, 1) + '\n');
  }
});
