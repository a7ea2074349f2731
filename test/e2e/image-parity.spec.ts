import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { preprocessRgba } from '../../src/core/encode/preprocess.ts';
import { CMYK_REASON, decodeImage } from '../../tools/lib/indexBuilder/imageDecode.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import { NodeEncoder } from '../../tools/lib/nodeEncoder.ts';

/** A deterministic photo-like test image: gradients, a disc, stripes and noise. */
async function testImage(width: number, height: number): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  const rand = mulberry32(7);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const inDisc = (x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (Math.min(width, height) * 0.25) ** 2;
      const stripe = Math.floor(x / 17) % 2 === 0;
      px[o] = inDisc ? 230 : (x * 255) / width;
      px[o + 1] = inDisc ? 40 : stripe ? 180 : (y * 255) / height;
      px[o + 2] = Math.min(255, 60 + 120 * rand());
    }
  }
  return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
};

type Debug = { preprocessImage(u: string): Promise<number[]>; encodeImage(u: string): Promise<number[]> };
/** The page's debug hook: what the worker makes of `parity/<name>` (pixels or embedding). */
const browserDebug = (page: Page, call: keyof Debug, name: string) => page.evaluate(([c, u]) => (window as unknown as { modelSearchDebug: Debug }).modelSearchDebug[c](u), [call, `parity/${name}`] as const);

/** Serves `files` at parity/<name>, opens the app on the colours index with the debug hook, and loads the same encoder in Node. */
async function openParity(page: Page, files: Record<string, Buffer>): Promise<NodeEncoder> {
  await page.context().route('**/parity/*', (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    return route.fulfill({ body: files[name], contentType: 'application/octet-stream' });
  });
  await page.goto('./?index=index/colours/&debug=1');
  await expect(page.getByTestId('status')).toHaveAttribute('data-phase', 'ready');
  return NodeEncoder.load(TEST_ENCODER);
}

test('an image gives the same CLIP input and embedding in the browser worker and in the Node builder', async ({ page }, info) => {
  const png = await testImage(640, 427);
  const files: Record<string, Buffer> = {
    'photo.png': png,
    'photo.jpg': await sharp(png).jpeg({ quality: 92 }).toBuffer(),
    // Stored sideways with EXIF orientation 6: both paths must turn it upright first.
    'rotated.jpg': await sharp(png).rotate(-90).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer(),
    'photo.webp': await sharp(png).webp({ quality: 90 }).toBuffer(),
  };
  const encoder = await openParity(page, files);

  for (const [name, bytes] of Object.entries(files)) {
    const decoded = await decodeImage(new Uint8Array(bytes));
    if (!decoded.ok) throw new Error(decoded.reason);
    const nodePixels = preprocessRgba(decoded.image, TEST_ENCODER.image);
    const [nodeEmbedding] = await encoder.encodeImages(nodePixels, 1);

    const browserPixels = await browserDebug(page, 'preprocessImage', name);
    const browserEmbedding = await browserDebug(page, 'encodeImage', name);

    expect(browserPixels.length).toBe(nodePixels.length);
    let sumAbs = 0;
    for (let i = 0; i < nodePixels.length; i++) sumAbs += Math.abs(browserPixels[i] - nodePixels[i]);
    // Normalised units: 0.02 ≈ 1.3 grey levels. Lossless PNG must agree almost exactly; lossy
    // formats may differ by the decoders' IDCT rounding.
    const meanAbs = sumAbs / nodePixels.length;
    expect(meanAbs, `${name}: mean |Δpixel|`).toBeLessThan(name.endsWith('.png') ? 1e-3 : 0.02);
    expect(cosine(browserEmbedding, nodeEmbedding), `${name}: embedding cosine`).toBeGreaterThanOrEqual(0.999);
    info.annotations.push({ type: 'parity', description: `${name}: mean |Δpixel| ${meanAbs.toExponential(2)}, cos ${cosine(browserEmbedding, nodeEmbedding).toFixed(6)}` });
  }
});

/**
 * Colour spaces and alpha (issue 14): each file embeds the same in the browser worker and in the
 * builder, or both refuse it. Measured before the fix: a CMYK JPEG cos 0.891 (0.972 with its ICC
 * profile); a PNG with transparent areas cos −0.353 (the canvas drops the colour under alpha 0,
 * sharp kept it). After: CMYK refused by both; transparency flattened onto black by both (cos 1.000).
 */
test('colour spaces and alpha convert the same in the browser and in the builder, and CMYK is refused by both', async ({ page }, info) => {
  const png = await testImage(640, 427);
  const rgba = Buffer.from(await sharp(png).ensureAlpha().raw().toBuffer());
  // A transparent band whose stored colour is not black, and a half-transparent one.
  for (let y = 0; y < 427; y++) for (let x = 0; x < 400; x++) rgba[(y * 640 + x) * 4 + 3] = x < 200 ? 0 : 128;
  const files: Record<string, Buffer> = {
    'grey.jpg': await sharp(png).toColourspace('b-w').jpeg({ quality: 92 }).toBuffer(),
    'grey16.png': await sharp(png).greyscale().toColourspace('grey16').png().toBuffer(),
    'rgb16.png': await sharp(png).toColourspace('rgb16').png().toBuffer(),
    'palette.png': await sharp(png).png({ palette: true }).toBuffer(),
    'p3.jpg': await sharp(png).withIccProfile('p3').jpeg({ quality: 92 }).toBuffer(),
    'alpha.png': await sharp(rgba, { raw: { width: 640, height: 427, channels: 4 } }).png().toBuffer(),
  };
  const cmyk: Record<string, Buffer> = {
    'cmyk.jpg': await sharp(png).toColourspace('cmyk').jpeg({ quality: 92 }).toBuffer(),
    'cmyk-icc.jpg': await sharp(png).toColourspace('cmyk').keepIccProfile().jpeg({ quality: 92 }).toBuffer(),
  };
  const encoder = await openParity(page, { ...files, ...cmyk });
  const browserEncode = (name: string) => browserDebug(page, 'encodeImage', name);

  for (const [name, bytes] of Object.entries(files)) {
    expect((await sharp(bytes).metadata()).space, name).not.toBe('cmyk');
    const decoded = await decodeImage(new Uint8Array(bytes));
    if (!decoded.ok) throw new Error(`${name}: ${decoded.reason}`);
    const [nodeEmbedding] = await encoder.encodeImages(preprocessRgba(decoded.image, TEST_ENCODER.image), 1);
    const cos = cosine(await browserEncode(name), nodeEmbedding);
    info.annotations.push({ type: 'parity', description: `${name}: cos ${cos.toFixed(6)}` });
    expect(cos, `${name}: embedding cosine`).toBeGreaterThanOrEqual(0.999);
  }
  for (const [name, bytes] of Object.entries(cmyk)) {
    expect((await sharp(bytes).metadata()).space, name).toBe('cmyk');
    expect(await decodeImage(new Uint8Array(bytes)), name).toEqual({ ok: false, reason: CMYK_REASON });
    const refusal = await browserEncode(name).then(
      () => 'accepted',
      (err: Error) => err.message,
    );
    expect(refusal, name).toContain('is a CMYK image, whose colours browsers and the index builder convert differently');
  }
});
