import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { METADATA_LIMITS } from '../../src/core/index/manifest.ts';
import { CMYK_REASON } from '../../tools/lib/indexBuilder/imageDecode.ts';
import { hugePngHeader, writeModels, type ModelSpec } from '../support/build/fixtures.ts';
import { judgeRefusal, runTool, type CliRun } from './cliRun.ts';
import { crash, handled, oneLine, silentWrong, type HostileCase, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/*
 * Builder inputs: model folders holding what a careless or hostile contributor could put there,
 * built for real (`npm run build-index`, the small test encoder, no cache). A bad image is skipped
 * with its reason and must change nothing else — the index must equal the build without it, byte for
 * byte; bad metadata or folders stop the build with exit 1 and lines that name the folder and field.
 */

const A: ModelSpec = { folder: 'alpha', colour: [200, 40, 40], images: 3, seed: 11 };
const B: ModelSpec = { folder: 'beta', colour: [40, 200, 40], images: 3, seed: 12 };

function build(cwd: string, models: string, extra: string[] = []): Promise<CliRun> {
  return runTool('build-index', ['--models', models, '--out', join(cwd, 'out'), '--encoder', TEST_ENCODER.id, '--no-cache', '--quiet', '--thumbnails', '0', ...extra], { cwd });
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** index.bin of the two good models alone, built once: what every build with one bad file added must equal. */
let control: Promise<string> | undefined;
function controlIndex(): Promise<string> {
  control ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostile-builder-control-'));
    await writeModels(join(dir, 'models'), [A, B]);
    const r = await build(dir, join(dir, 'models'));
    if (r.code !== 0) throw new Error(`the control build failed: ${r.stderr}`);
    return sha(join(dir, 'out', 'index.bin'));
  })();
  return control;
}

/** The two good models plus one bad file alpha/`name` (`make` writes it): skipped with `reason`, and the index unchanged. */
function skipsFile(name: string, make: (path: string, models: string) => Promise<void> | void, reason: string | RegExp) {
  return async ({ tmp }: { tmp: string }): Promise<Verdict> => {
    const models = join(tmp, 'models');
    await writeModels(models, [A, B]);
    await make(join(models, 'alpha', name), models);
    const r = await build(tmp, models);
    if (r.code !== 0) return crash(`exit ${r.code}: ${oneLine(r.stderr)}`);
    const line = r.stdout.split('\n').find((l) => l.includes(`alpha/${name}:`));
    if (!line) return silentWrong(`the report does not list alpha/${name}: ${oneLine(r.stdout)}`);
    if (typeof reason === 'string' ? !line.includes(reason) : !reason.test(line)) return crash(`unexpected reason: ${line.trim()}`);
    const same = sha(join(tmp, 'out', 'index.bin')) === (await controlIndex());
    return same ? handled(`skipped (${line.trim()}); index.bin equals the build without it`) : silentWrong(`skipped, but index.bin differs from the build without it`);
  };
}

const bytes = (data: () => Promise<Uint8Array | Buffer> | Uint8Array | Buffer) => async (path: string) => writeFileSync(path, await data());

/** Two good models plus `edit` of the models folder; the build must stop, naming `names`. */
function refuses(edit: (models: string) => void | Promise<void>, names: (string | RegExp)[], extra: string[] = []) {
  return async ({ tmp }: { tmp: string }): Promise<Verdict> => {
    const models = join(tmp, 'models');
    await writeModels(models, [A, B]);
    await edit(models);
    const r = await build(tmp, models, extra);
    // The problems are listed under the "error:" line; judge them together.
    if (r.stderr.includes('\u001b')) return crash('a raw escape sequence reached the terminal');
    return judgeRefusal({ ...r, stderr: r.stderr.replace(/\n {2}/g, ' · ') }, names);
  };
}

const modelJson = (models: string, folder: string, json: string) => writeFileSync(join(models, folder, 'model.json'), json);

const cases: HostileCase[] = [
  // --- images: skipped, nothing else changes ---
  { group: 'builder input', name: 'a zero-byte image', timeoutMs: 90_000, run: skipsFile('zero.png', bytes(() => new Uint8Array(0)), 'empty file (0 bytes)') },
  { group: 'builder input', name: 'a text file named .png', timeoutMs: 90_000, run: skipsFile('notes.png', bytes(() => Buffer.from('not an image at all')), 'not an image') },
  {
    group: 'builder input',
    name: 'a PNG cut off after 100 bytes',
    timeoutMs: 90_000,
    run: skipsFile('cut.png', bytes(async () => (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer()).subarray(0, 100)), /decode error|not an image/),
  },
  { group: 'builder input', name: 'a PNG header claiming 100 000 × 100 000 pixels (decompression bomb)', timeoutMs: 90_000, run: skipsFile('bomb.png', bytes(() => hugePngHeader(100_000, 100_000)), 'too large (100000×100000)') },
  {
    group: 'builder input',
    finding: true,
    name: 'a CMYK JPEG (embedded differently from the browser before: cosine 0.89)',
    timeoutMs: 90_000,
    run: skipsFile('cmyk.jpg', bytes(() => sharp({ create: { width: 64, height: 64, channels: 3, background: '#c04020' } }).toColourspace('cmyk').jpeg().toBuffer()), CMYK_REASON),
  },
  {
    group: 'builder input',
    name: 'a symbolic link loop among the images (and one beside the model folders)',
    timeoutMs: 90_000,
    run: skipsFile('loop.png', (path, models) => {
      symlinkSync('loop.png', path); // alpha/loop.png → itself
      symlinkSync(join(models, 'ring'), join(models, 'ring')); // models/ring → itself
    }, /unreadable \(ELOOP\)/),
  },

  // --- metadata and folders: the build stops, naming the folder and the field ---
  { group: 'builder input', name: 'model.json that is not JSON', timeoutMs: 60_000, run: refuses((m) => modelJson(m, 'alpha', '{ "name": "Alpha", }'), ['alpha/model.json', 'not valid JSON', 'line 1']) },
  { group: 'builder input', name: 'model.json with "name": 42', timeoutMs: 60_000, run: refuses((m) => modelJson(m, 'alpha', '{ "name": 42 }'), ['alpha/model.json', '"name"', 'string']) },
  { group: 'builder input', name: 'model.json that is a list', timeoutMs: 60_000, run: refuses((m) => modelJson(m, 'alpha', '[1, 2]'), ['alpha/model.json', 'object']) },
  { group: 'builder input', name: 'two folders with the same id', timeoutMs: 60_000, run: refuses((m) => modelJson(m, 'beta', '{ "id": "alpha" }'), ['duplicate', '"alpha"', 'beta']) },
  { group: 'builder input', name: 'an empty id', timeoutMs: 60_000, run: refuses((m) => modelJson(m, 'alpha', '{ "id": "" }'), ['alpha/model.json', 'empty']) },
  {
    group: 'builder input',
    name: `a description of ${METADATA_LIMITS.description + 1000} characters`,
    timeoutMs: 60_000,
    run: refuses((m) => modelJson(m, 'alpha', JSON.stringify({ description: 'x'.repeat(METADATA_LIMITS.description + 1000) })), ['alpha/model.json', 'description', String(METADATA_LIMITS.description)]),
  },
  {
    group: 'builder input',
    name: 'a 200 MB model.json (refused from its size, not read)',
    timeoutMs: 60_000,
    run: refuses((m) => {
      modelJson(m, 'alpha', '{}');
      truncateSync(join(m, 'alpha', 'model.json'), 200 * 1024 * 1024); // sparse
    }, ['alpha/model.json', 'larger than']),
  },
  {
    group: 'builder input',
    name: 'a model folder with no images',
    timeoutMs: 60_000,
    run: refuses((m) => mkdirSync(join(m, 'gamma')), ['gamma']),
  },
  {
    group: 'builder input',
    name: 'a folder name with an escape sequence and a newline',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const name = 'evil\u001b[31mred\nname';
      const v = await refuses((m) => {
        mkdirSync(join(m, name));
        writeFileSync(join(m, name, 'a.png'), readFileSync(join(m, 'alpha', 'img00.png')));
      }, ['\\u001b[31mred\\u000aname'])(ctx);
      return v;
    },
  },
  {
    group: 'builder input',
    name: 'an empty models folder',
    timeoutMs: 60_000,
    run: async ({ tmp }) => {
      mkdirSync(join(tmp, 'models'));
      return judgeRefusal(await build(tmp, join(tmp, 'models')), ['no model folders', 'models']);
    },
  },
  {
    group: 'builder input',
    name: '--models naming a file, not a folder',
    timeoutMs: 60_000,
    run: async ({ tmp }) => {
      writeFileSync(join(tmp, 'models.txt'), 'x');
      return judgeRefusal(await build(tmp, join(tmp, 'models.txt')), ['models.txt']);
    },
  },
  {
    group: 'builder input',
    name: '--projection naming a file that is not JSON',
    timeoutMs: 60_000,
    run: refuses((m) => writeFileSync(join(m, '..', 'proj.json'), '{"structure": "diagonal", "matrix": [[1, 0],'), ['proj.json', 'not valid JSON'], ['--projection', 'proj.json']),
  },
  { group: 'builder input', name: '--epsilon NaN', timeoutMs: 60_000, run: async ({ tmp }) => judgeRefusal(await build(tmp, 'models', ['--epsilon', 'NaN']), ['--epsilon'], '"NaN"') },
  { group: 'builder input', name: '--batch 1e9', timeoutMs: 60_000, run: async ({ tmp }) => judgeRefusal(await build(tmp, 'models', ['--batch', '1e9']), ['--batch']) },
];

defineHostileCases(cases);
