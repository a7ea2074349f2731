import sharp from 'sharp';
import { IMAGE_FAULTS } from '../../src/core/messages.ts';
import { scoreMethod } from '../../src/core/scoring/methods.ts';
import { hugePngHeader, twoFrameGif, noisyColour, twoTone } from '../support/build/fixtures.ts';
import { nodeIndex } from '../support/nodeSearch.ts';
import { readResults, type ShownResult } from '../support/page.ts';
import { crash, handled, judgeError, oneLine, silentWrong, type HostileCase, type HostileContext, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/*
 * Query images a person could upload: odd colour spaces, sizes and formats, damaged or hostile
 * files, through the app's own file picker. An accepted image must rank exactly as the Node builder's
 * decoding and the same encoder rank it (the index is built that way); a refused one must be named,
 * with the same words the CLIs use (src/core/messages.ts).
 */

interface Uploaded {
  banner: string | null;
  results: ShownResult[];
  injected: string[];
}

/** Opens the colours index (first moment), uploads `file`, and waits for its search or its banner. */
async function upload(ctx: HostileContext, file: { name: string; mimeType: string; buffer: Buffer }): Promise<Uploaded> {
  const context = await ctx.browser.newContext({ baseURL: ctx.baseURL, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    const injected: string[] = [];
    page.on('dialog', (d) => {
      injected.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto('./?index=index/colours/&method=first-moment');
    await page.locator('[data-testid="status"][data-phase="ready"]').waitFor({ timeout: 60_000 });
    await page.locator('#image-file').setInputFiles(file);
    const banner = page.getByTestId('error-banner');
    await page.locator('[data-testid="status"][data-seq="1"][data-searching="false"], [data-testid="error-banner"]').first().waitFor({ timeout: 60_000 });
    if (await page.evaluate(() => (window as { __pwned?: unknown }).__pwned !== undefined)) injected.push('window.__pwned was set');
    if (await banner.count()) return { banner: (await banner.innerText()).trim(), results: [], injected };
    return { banner: null, results: await readResults(page), injected };
  } finally {
    await context.close();
  }
}

/** Float32 and decoder rounding (JPEG IDCT, 16 → 8 bits) between the browser and sharp. */
const TOLERANCE = 2e-3;

/** '' when the shown results are Node's first-moment ranking of the image (near-ties may swap), else what differs. */
async function differsFromNode(shown: ShownResult[], bytes: Buffer): Promise<string> {
  const ref = await nodeIndex('index/colours');
  const scores = scoreMethod(ref.index, 'first-moment', await ref.encodeImage(new Uint8Array(bytes)));
  const sorted = [...scores].sort((a, b) => b - a);
  if (shown.length !== ref.ids.length) return `${shown.length} results for ${ref.ids.length} models`;
  for (const [i, r] of shown.entries()) {
    const s = scores[ref.ids.indexOf(r.id)];
    if (Math.abs(r.score - s) > TOLERANCE) return `score of ${r.id}: ${r.score} in the browser, ${s} in Node`;
    if (Math.abs(s - sorted[i]) > TOLERANCE) return `rank ${i + 1} is ${r.id} (${s}), Node's is ${sorted[i]}`;
  }
  return '';
}

/** The image is searched, and ranked as Node ranks it. */
const accepted = (name: string, mimeType: string, make: () => Promise<Buffer>) => async (ctx: HostileContext): Promise<Verdict> => {
  const buffer = await make();
  const r = await upload(ctx, { name, mimeType, buffer });
  if (r.injected.length) return crash(`markup ran: ${r.injected.join('; ')}`);
  if (r.banner) return crash(`refused: ${oneLine(r.banner)}`);
  const wrong = await differsFromNode(r.results, buffer);
  return wrong ? silentWrong(wrong) : handled(`ranked as the Node builder's decoding ranks it (top: ${r.results[0]?.id})`);
};

/** The image is refused with a banner naming the file and `names`. */
const refused = (name: string, mimeType: string, make: () => Promise<Buffer> | Buffer, names: (string | RegExp)[]) => async (ctx: HostileContext): Promise<Verdict> => {
  const r = await upload(ctx, { name, mimeType, buffer: await make() });
  if (r.injected.length) return crash(`markup ran: ${r.injected.join('; ')}`);
  if (!r.banner) return silentWrong(`searched with it: ${r.results.slice(0, 3).map((x) => x.id).join(', ')}`);
  return judgeError(r.banner.split('\n')[0], [name, ...names]);
};

const raw = (px: { data: Uint8Array; width: number; height: number }) => sharp(Buffer.from(px.data), { raw: { width: px.width, height: px.height, channels: 4 } });
const photo = () => raw(twoTone([220, 60, 40], [40, 90, 220], 160, 120));
const cmyk = () => photo().removeAlpha().toColourspace('cmyk');

const cases: HostileCase[] = [
  { group: 'image', finding: true, name: 'a CMYK JPEG (cosine 0.89 between browser and builder before)', timeoutMs: 90_000, run: refused('cmyk.jpg', 'image/jpeg', () => cmyk().jpeg().toBuffer(), [IMAGE_FAULTS.cmyk]) },
  { group: 'image', name: 'a CMYK JPEG with its ICC profile (cosine 0.97 before)', timeoutMs: 90_000, run: refused('cmyk-icc.jpg', 'image/jpeg', () => cmyk().keepIccProfile().jpeg().toBuffer(), ['CMYK']) },
  { group: 'image', name: 'a 1×1 PNG', timeoutMs: 90_000, run: accepted('dot.png', 'image/png', () => sharp({ create: { width: 1, height: 1, channels: 3, background: '#20c040' } }).png().toBuffer()) },
  { group: 'image', name: 'a 16-bit PNG', timeoutMs: 90_000, run: accepted('deep.png', 'image/png', () => photo().toColourspace('rgb16').png().toBuffer()) },
  { group: 'image', name: 'a 16-bit greyscale PNG', timeoutMs: 90_000, run: accepted('grey16.png', 'image/png', () => photo().greyscale().toColourspace('grey16').png().toBuffer()) },
  { group: 'image', name: 'a greyscale JPEG', timeoutMs: 90_000, run: accepted('grey.jpg', 'image/jpeg', () => photo().removeAlpha().toColourspace('b-w').jpeg({ quality: 92 }).toBuffer()) },
  { group: 'image', name: 'a palette PNG', timeoutMs: 90_000, run: accepted('palette.png', 'image/png', () => photo().png({ palette: true }).toBuffer()) },
  { group: 'image', name: 'a Display P3 JPEG (ICC profile)', timeoutMs: 90_000, run: accepted('p3.jpg', 'image/jpeg', () => photo().removeAlpha().withIccProfile('p3').jpeg({ quality: 92 }).toBuffer()) },
  {
    group: 'image',
    name: 'a PNG with transparent areas over a stored colour (cosine −0.35 between browser and builder before)',
    timeoutMs: 90_000,
    run: accepted('alpha.png', 'image/png', () => {
      const px = noisyColour([230, 200, 30], 160, 120, 5);
      for (let p = 0; p < 160 * 120; p++) px.data[p * 4 + 3] = p % 160 < 60 ? 0 : p % 160 < 100 ? 128 : 255;
      return raw(px).png().toBuffer();
    }),
  },
  { group: 'image', name: 'an animated GIF (the first frame counts)', timeoutMs: 90_000, run: accepted('anim.gif', 'image/gif', () => twoFrameGif(noisyColour([220, 40, 40], 64, 64, 1, 5), noisyColour([40, 40, 220], 64, 64, 2, 5))) },
  { group: 'image', name: 'a JPEG stored sideways with EXIF orientation 6', timeoutMs: 90_000, run: accepted('sideways.jpg', 'image/jpeg', async () => photo().removeAlpha().rotate(-90).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer()) },
  {
    group: 'image',
    name: 'an SVG with a script',
    timeoutMs: 90_000,
    run: refused('evil.svg', 'image/svg+xml', () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="window.__pwned=1"><script>window.__pwned=1;alert(1)</script><rect width="10" height="10" fill="red"/></svg>'), [IMAGE_FAULTS.unreadable]),
  },
  { group: 'image', name: 'a PNG header claiming 100 000 × 100 000 pixels (decompression bomb)', timeoutMs: 90_000, run: refused('bomb.png', 'image/png', () => hugePngHeader(100_000, 100_000), ['100000×100000', 'megapixels']) },
  {
    group: 'image',
    name: 'a JPEG header claiming 60 000 × 60 000 pixels',
    timeoutMs: 90_000,
    run: refused('bomb.jpg', 'image/jpeg', async () => {
      const jpg = Buffer.from(await photo().removeAlpha().jpeg().toBuffer());
      // Rewrite the frame header's height and width (SOF0: FF C0, length, precision, then H, W).
      const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
      jpg.writeUInt16BE(60_000, sof + 5);
      jpg.writeUInt16BE(60_000, sof + 7);
      return jpg;
    }, ['60000×60000', 'megapixels']),
  },
  { group: 'image', name: 'an empty file', timeoutMs: 90_000, run: refused('empty.png', 'image/png', () => Buffer.alloc(0), [IMAGE_FAULTS.empty]) },
  { group: 'image', name: 'text sent as image/png', timeoutMs: 90_000, run: refused('words.png', 'image/png', () => Buffer.from('these are words, not pixels'), [IMAGE_FAULTS.unreadable]) },
  {
    group: 'image',
    name: 'a PNG cut off in its header',
    timeoutMs: 90_000,
    run: refused('cut.png', 'image/png', async () => (await photo().png().toBuffer()).subarray(0, 60), [IMAGE_FAULTS.unreadable]),
  },
];

defineHostileCases(cases);
