import { copyFileSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { IMAGE_FAULTS } from '../../src/core/messages.ts';
import { readUrlState } from '../../src/lib/urlState.ts';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { manifestOf, shippedIndex, withManifest, withModels, writeFolder, type IndexFiles } from './craft.ts';
import { errorLine, judgeRefusal, runTool, type CliRun } from './cliRun.ts';
import { scoreMethod } from '../../src/core/scoring/methods.ts';
import { nodeIndex } from '../support/nodeSearch.ts';
import { ranking } from '../support/page.ts';
import { crash, handled, silentWrong, type HostileCase, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/*
 * CLI arguments of `npm run search` (tools/search.ts), spawned for real: every bad flag, value or
 * index file is refused with exit ≠ 0 and one "error: …" line that names the flag or the file — the
 * same sentence the app shows for the same fault where the app has one (its address parameters).
 */

const COLOURS = join(PUBLIC_DIR, 'index', 'colours');
const search = (args: string[]) => runTool('search', args);
const refused = (args: string[], names: (string | RegExp)[], echoed?: string) => async (): Promise<Verdict> => judgeRefusal(await search(args), names, echoed);

/** A refusal whose sentence must also be the app's for its address parameter `param` (the CLI names `--flag`). */
function sameAsApp(flag: string, param: string, value: string) {
  return async (): Promise<Verdict> => {
    const r = await search(['--index', COLOURS, '--text', 'red', `--${flag}=${value}`]);
    const v = judgeRefusal(r, [`--${flag}`], `"${value}"`);
    if (v.outcome !== 'clear error') return v;
    const cli = errorLine(r)!;
    const app = readUrlState(`?${param}=${encodeURIComponent(value)}`).problems[0] ?? '';
    const expected = cli.replace(`--${flag}`, `?${param}=`);
    return app.startsWith(expected) ? v : crash(`the CLI says “${cli}”, the app “${app}”: not the same sentence`);
  };
}

/** A crafted copy of the colours index in `dir`. */
const folder = async (dir: string, files: IndexFiles | Promise<IndexFiles>) => writeFolder(join(dir, 'index'), await files);

/** Writes an image to `tmp` and runs an image search with it. */
async function imageSearch(tmp: string, name: string, bytes: Uint8Array | Buffer): Promise<CliRun> {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return search(['--index', COLOURS, '--image', path]);
}

const png = () => sharp({ create: { width: 32, height: 32, channels: 3, background: '#c04020' } }).png().toBuffer();

const cases: HostileCase[] = [
  // --- flags ---
  { group: 'CLI argument', finding: true, name: '--weights 1e308,1e308 (exited 0 with −∞ scores in index order before)', run: refused(['--index', COLOURS, '--text', 'red', '--weights', '1e308,1e308'], ['--weights']) },
  { group: 'CLI argument', name: '--image-weight 1e308 with text and image', run: refused(['--index', COLOURS, '--text', 'red', '--image', 'x.png', '--image-weight', '1e308'], ['--image-weight', '0 to 1']) },
  { group: 'CLI argument', name: '--k=-1: the same sentence as the app’s ?k=-1', run: sameAsApp('k', 'k', '-1') },
  { group: 'CLI argument', name: '--k=1e9: the same sentence as the app’s ?k=1e9', run: sameAsApp('k', 'k', '1e9') },
  { group: 'CLI argument', name: '--k=1000000000 (digits, past the largest k)', run: sameAsApp('k', 'k', '1000000000') },
  { group: 'CLI argument', name: '--k=NaN: the same sentence as the app’s ?k=NaN', run: sameAsApp('k', 'k', 'NaN') },
  { group: 'CLI argument', name: '--hybrid=Infinity: the same sentence as the app’s ?hw=Infinity', run: sameAsApp('hybrid', 'hw', 'Infinity') },
  { group: 'CLI argument', name: '--k -1 (a value that looks like a flag)', run: refused(['--index', COLOURS, '--text', 'red', '--k', '-1'], ['--k']) },
  { group: 'CLI argument', name: '--top 0', run: refused(['--index', COLOURS, '--text', 'red', '--top', '0'], ['--top']) },
  { group: 'CLI argument', name: '--temperature 1e308', run: refused(['--index', COLOURS, '--text', 'red', '--temperature', '1e308'], ['--temperature']) },
  { group: 'CLI argument', name: '--method "<img src=x onerror=alert(1)>"', run: refused(['--index', COLOURS, '--text', 'red', '--method', '<img src=x onerror=alert(1)>'], ['--method', 'gaussian']) },
  { group: 'CLI argument', name: 'an unknown flag --bogus', run: refused(['--index', COLOURS, '--text', 'red', '--bogus'], ['--bogus']) },
  { group: 'CLI argument', name: '--index with its value missing', run: refused(['--text', 'red', '--index'], ['--index']) },
  { group: 'CLI argument', name: 'no arguments at all', run: refused([], ['--index']) },
  { group: 'CLI argument', name: '--like with an id not in the index', run: refused(['--index', COLOURS, '--like', 'no-such-model'], [/model/]) },

  // --- index files given to the CLI ---
  {
    group: 'CLI argument',
    finding: true,
    name: 'an index whose models.json is not JSON (a raw SyntaxError before)',
    run: async ({ tmp }) => judgeRefusal(await search(['--index', await folder(tmp, withModels(shippedIndex('colours'), '[{"id": "a",')), '--text', 'red']), ['models.json', 'JSON']),
  },
  {
    group: 'CLI argument',
    name: 'an index whose manifest.json is not JSON',
    run: async ({ tmp }) => {
      const dir = await folder(tmp, shippedIndex('colours'));
      writeFileSync(join(dir, 'manifest.json'), '{"formatVersion": 1,');
      return judgeRefusal(await search(['--index', dir, '--text', 'red']), ['manifest', 'JSON']);
    },
  },
  {
    group: 'CLI argument',
    name: 'a 100 MB manifest.json (refused from its size, not read)',
    run: async ({ tmp }) => {
      const dir = await folder(tmp, shippedIndex('colours'));
      truncateSync(join(dir, 'manifest.json'), 100 * 1024 * 1024); // sparse: no 100 MB written
      return judgeRefusal(await search(['--index', dir, '--text', 'red']), ['manifest.json', 'bytes']);
    },
  },
  {
    group: 'CLI argument',
    name: 'a models.json 100 MB larger than its manifest declares',
    run: async ({ tmp }) => {
      const dir = await folder(tmp, shippedIndex('colours'));
      const declared = manifestOf(shippedIndex('colours')).files['models.json'].bytes;
      truncateSync(join(dir, 'models.json'), declared + 100 * 1024 * 1024);
      return judgeRefusal(await search(['--index', dir, '--text', 'red']), ['models.json', String(declared)]);
    },
  },
  {
    group: 'CLI argument',
    name: 'a manifest whose count is the string "12"',
    run: async ({ tmp }) => judgeRefusal(await search(['--index', await folder(tmp, withManifest(shippedIndex('colours'), (m) => (m.count = '12'))), '--text', 'red']), [/count/]),
  },
  {
    group: 'CLI argument',
    name: 'an index folder without models.json',
    run: async ({ tmp }) => {
      const dir = join(tmp, 'index');
      mkdirSync(dir);
      for (const f of ['manifest.json', 'index.bin']) copyFileSync(join(COLOURS, f), join(dir, f));
      return judgeRefusal(await search(['--index', dir, '--text', 'red']), ['models.json', 'not found']);
    },
  },
  {
    group: 'CLI argument',
    name: '--index naming a file, not a folder',
    run: async () => judgeRefusal(await search(['--index', join(COLOURS, 'index.bin'), '--text', 'red']), ['manifest']),
  },

  // --- query images: the app's sentences ---
  {
    group: 'CLI argument',
    name: '--image of 0 bytes: the app’s sentence',
    run: async ({ tmp }) => judgeRefusal(await imageSearch(tmp, 'empty.png', new Uint8Array(0)), ['empty.png', IMAGE_FAULTS.empty]),
  },
  {
    group: 'CLI argument',
    name: '--image of a text file named .png: the app’s sentence',
    run: async ({ tmp }) => judgeRefusal(await imageSearch(tmp, 'notes.png', Buffer.from('just some words')), ['notes.png', IMAGE_FAULTS.unreadable]),
  },
  {
    group: 'CLI argument',
    name: '--image of a CMYK JPEG: refused with the app’s sentence',
    run: async ({ tmp }) => judgeRefusal(await imageSearch(tmp, 'cmyk.jpg', await sharp(await png()).toColourspace('cmyk').jpeg().toBuffer()), ['cmyk.jpg', IMAGE_FAULTS.cmyk]),
  },
  {
    group: 'CLI argument',
    name: '--image that does not exist',
    run: async ({ tmp }) => judgeRefusal(await search(['--index', COLOURS, '--image', join(tmp, 'missing.png')]), ['missing.png']),
  },
  {
    group: 'CLI argument',
    name: 'a valid 32×32 --image still ranks as the Node reference does',
    run: async ({ tmp }) => {
      const bytes = await png();
      const path = join(tmp, 'ok.png');
      writeFileSync(path, bytes);
      const r = await search(['--index', COLOURS, '--image', path, '--method', 'first-moment', '--json', '--top', '12']);
      if (r.code !== 0) return crash(`exit ${r.code}: ${r.stderr}`);
      const got = (JSON.parse(r.stdout) as { results: { id: string }[] }).results.map((x) => x.id);
      const ref = await nodeIndex('index/colours');
      const expected = ranking(ref.ids, scoreMethod(ref.index, 'first-moment', await ref.encodeImage(new Uint8Array(bytes))));
      return got.join() === expected.join() ? handled(`the reference ranking, ${got.slice(0, 3).join(', ')}, …`) : silentWrong(`${got.join()} ≠ ${expected.join()}`);
    },
  },
];

defineHostileCases(cases);
