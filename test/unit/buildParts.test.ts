/**
 * Parts of the index builder (tools/lib/indexBuilder/): image decoding, the embedding cache file
 * format, --projection parsing, the model folder scan, progress output and the report.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { preprocessRgba, type RgbaImage } from '../../src/core/encode/preprocess.ts';
import { decodeEntry, EmbedCache, encodeEntry } from '../../tools/lib/indexBuilder/embedCache.ts';
import { decodeImage, makeThumbnail } from '../../tools/lib/indexBuilder/imageDecode.ts';
import { invalidIdReason, scanModelFolders, selectShard } from '../../tools/lib/indexBuilder/scan.ts';
import { createProgress } from '../../tools/lib/indexBuilder/progress.ts';
import { parseProjection } from '../../tools/lib/indexBuilder/projection.ts';
import { emptyReport, formatReport } from '../../tools/lib/indexBuilder/report.ts';
import { NodeEncoder } from '../../tools/lib/nodeEncoder.ts';
import { encodeImage, hugePngHeader, noisyColour, tempDir, twoFrameGif, twoTone, type RgbaPixels } from '../support/build/fixtures.ts';

let encoder: NodeEncoder;
let tmp: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  encoder = await NodeEncoder.load(TEST_ENCODER);
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp?.cleanup();
});

async function decoded(bytes: Uint8Array): Promise<RgbaImage & { data: Uint8Array }> {
  const r = await decodeImage(bytes);
  if (!r.ok) throw new Error(r.reason);
  return r.image;
}

async function embed(img: RgbaImage): Promise<Float32Array> {
  const [e] = await encoder.encodeImages(preprocessRgba(img, TEST_ENCODER.image), 1);
  return e;
}

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

/** Mean absolute difference of the RGB channels of two equally sized RGBA images. */
function rgbDiff(a: RgbaPixels, b: RgbaPixels): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) if (i % 4 !== 3) s += Math.abs(a.data[i] - b.data[i]);
  return s / ((a.data.length / 4) * 3);
}

describe('decodeImage', () => {
  it('honours EXIF orientation 6: same pixels and embedding as the pre-rotated image', async () => {
    const stored = twoTone([230, 40, 40], [40, 60, 230], 64, 40);
    const withExif = await decoded(await encodeImage(stored, 'jpeg', { orientation: 6 }));
    const upright = await decoded(await encodeImage(await rotate90(stored), 'jpeg'));
    expect([withExif.width, withExif.height]).toEqual([40, 64]);
    expect(rgbDiff(withExif, upright)).toBeLessThan(3);
    // the left half (red) of the stored image is on top after a 90° clockwise turn
    expect(withExif.data[0]).toBeGreaterThan(150);
    expect(withExif.data[(63 * 40 + 20) * 4 + 2]).toBeGreaterThan(100);
    expect(cos(await embed(withExif), await embed(upright))).toBeGreaterThanOrEqual(0.999);
  });

  it('uses the first frame of an animated GIF', async () => {
    const red = noisyColour([220, 20, 20], 32, 24, 1, 0);
    const blue = noisyColour([20, 20, 220], 32, 24, 2, 0);
    const img = await decoded(await twoFrameGif(red, blue));
    expect([img.width, img.height]).toEqual([32, 24]);
    expect(rgbDiff(img, red)).toBeLessThan(8);
    expect(cos(await embed(img), await embed(red))).toBeGreaterThan(0.999);
  });

  it('decodes PNG exactly and WebP, AVIF, TIFF, JPEG closely', async () => {
    const px = noisyColour([40, 160, 90], 48, 36, 7, 10);
    expect(rgbDiff(await decoded(await encodeImage(px, 'png')), px)).toBe(0);
    expect(rgbDiff(await decoded(await encodeImage(px, 'webp', { lossless: true })), px)).toBe(0);
    expect(rgbDiff(await decoded(await encodeImage(px, 'tiff')), px)).toBe(0);
    const ref = await embed(px);
    for (const format of ['webp', 'avif', 'jpeg'] as const) {
      const img = await decoded(await encodeImage(px, format));
      expect(rgbDiff(img, px), format).toBeLessThan(12);
      expect(cos(await embed(img), ref), format).toBeGreaterThan(0.99);
    }
  });

  it('keeps RGB as stored under transparent pixels (alpha is ignored, not flattened)', async () => {
    const px: RgbaPixels = { data: new Uint8Array([10, 20, 30, 0, 200, 100, 50, 128]), width: 2, height: 1 };
    const img = await decoded(await encodeImage(px, 'png'));
    expect(Array.from(img.data)).toEqual([10, 20, 30, 0, 200, 100, 50, 128]);
  });

  it('converts greyscale and 16-bit images to 8-bit RGBA', async () => {
    const sharp = (await import('sharp')).default;
    const grey16 = await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 200, g: 200, b: 200 } } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    const img = await decoded(grey16);
    expect(img.data.length).toBe(8 * 6 * 4);
    expect(Array.from(img.data.subarray(0, 4))).toEqual([200, 200, 200, 255]);
  });

  it('reports empty, non-image, truncated and too-large files without decoding them', async () => {
    expect(await decodeImage(new Uint8Array(0))).toEqual({ ok: false, reason: 'empty file (0 bytes)' });
    expect(await decodeImage(new TextEncoder().encode('plain text pretending to be a JPEG'))).toEqual({
      ok: false,
      reason: 'not an image (unsupported format)',
    });
    const started = performance.now();
    expect(await decodeImage(hugePngHeader(20000, 20000))).toEqual({ ok: false, reason: 'too large (20000×20000)' });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await decodeImage(await encodeImage(noisyColour([1, 2, 3], 100, 50, 1), 'png'), { maxPixels: 4999 })).toEqual({
      ok: false,
      reason: 'too large (100×50)',
    });
    const jpeg = await encodeImage(noisyColour([90, 90, 200], 64, 64, 3), 'jpeg');
    const truncated = await decodeImage(jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    expect(truncated.ok).toBe(false);
    expect(!truncated.ok && truncated.reason).toMatch(/^decode error \(/);
  });

  it('makes 256-px-wide WebP thumbnails, upright, and never enlarges a smaller image', async () => {
    const sharp = (await import('sharp')).default;
    // EXIF orientation 6: the stored 640×400 is shown 400×640, so 256 wide is 410 high.
    const big = await makeThumbnail(await encodeImage(twoTone([200, 0, 0], [0, 0, 200], 640, 400), 'jpeg', { orientation: 6 }));
    expect(await sharp(big).metadata()).toMatchObject({ format: 'webp', width: 256, height: 410 });
    const small = await makeThumbnail(await encodeImage(twoTone([200, 0, 0], [0, 0, 200], 64, 40), 'jpeg', { orientation: 6 }));
    expect(await sharp(small).metadata()).toMatchObject({ format: 'webp', width: 40, height: 64 });
  });
});

async function rotate90(px: RgbaPixels): Promise<RgbaPixels> {
  const { width: w, height: h } = px;
  const data = new Uint8Array(w * h * 4);
  // clockwise: output (x', y') = (h-1-y, x), output width h
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(px.data.subarray((y * w + x) * 4, (y * w + x) * 4 + 4), (x * h + (h - 1 - y)) * 4);
  return { data, width: h, height: w };
}

describe('embedding cache', () => {
  const sha = 'ab'.repeat(32);
  const embedding = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));

  it('round-trips an entry and rejects short, corrupt or mismatched files', () => {
    const bytes = encodeEntry(sha, { embedding, width: 640, height: 480 });
    expect(bytes.byteLength).toBe(52 + 4 * 32 + 4);
    expect(decodeEntry(bytes, sha, 32)).toEqual({ embedding, width: 640, height: 480 });
    expect(decodeEntry(bytes.subarray(0, bytes.length - 1), sha, 32)).toBeUndefined();
    expect(decodeEntry(bytes, sha, 16)).toBeUndefined();
    expect(decodeEntry(bytes, 'cd'.repeat(32), 32)).toBeUndefined();
    const flipped = bytes.slice();
    flipped[60] ^= 0x40;
    expect(decodeEntry(flipped, sha, 32)).toBeUndefined();
  });

  it('stores entries under <dir>/v1/<encoder>/<prefix>/<sha>.emb and counts hits and misses', async () => {
    const dir = join(tmp.path, 'cache');
    const cache = new EmbedCache(dir, 'test-encoder', 32);
    expect(await cache.get(sha)).toBeUndefined();
    await cache.put(sha, { embedding, width: 1, height: 2 });
    expect(cache.pathFor(sha)).toBe(join(dir, 'v2', 'test-encoder', 'ab', `${sha}.emb`));
    expect((await cache.get(sha))?.embedding).toEqual(embedding);
    expect(await new EmbedCache(dir, 'clip-vit-b32', 512).get(sha)).toBeUndefined(); // keyed by encoder too
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1, writes: 1, corrupt: 0 });
    await writeFile(cache.pathFor(sha), 'garbage');
    expect(await cache.get(sha)).toBeUndefined();
    expect(cache.stats.corrupt).toBe(1);
    const off = new EmbedCache(null, 'test-encoder', 32);
    await off.put(sha, { embedding, width: 1, height: 1 });
    expect(await off.get(sha)).toBeUndefined();
  });
});

describe('projection and ids', () => {
  const eye = (n: number) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 2 : 0)));

  it('parses a projection and checks shape and structure', () => {
    expect(parseProjection({ structure: 'diagonal', matrix: eye(3) }, 3).matrix).toEqual(Float32Array.from([2, 0, 0, 0, 2, 0, 0, 0, 2]));
    expect(() => parseProjection({ structure: 'diagonal', matrix: eye(3) }, 4)).toThrow(/4 rows/);
    expect(() => parseProjection({ structure: 'diagonal', matrix: [[1, 1], [0, 1]] }, 2)).toThrow(/off-diagonal/);
    expect(parseProjection({ structure: 'triangular', matrix: [[1, 1], [0, 1]] }, 2).structure).toBe('triangular');
    expect(() => parseProjection({ structure: 'triangular', matrix: [[1, 1], [1, 1]] }, 2)).toThrow(/not triangular/);
    expect(() => parseProjection({ structure: 'full', matrix: [[1, NaN], [0, 1]] }, 2)).toThrow(/finite/);
    expect(() => parseProjection({ structure: 'sparse', matrix: eye(2) }, 2)).toThrow(/structure/);
  });

  it('accepts only path-safe model ids', () => {
    expect(invalidIdReason('sd-1.5_anime')).toBeUndefined();
    for (const bad of ['', '..', 'a/b', 'a\\b', 'x..y', 'with space', 'ünï', 'a'.repeat(129)]) expect(invalidIdReason(bad), bad).toBeDefined();
  });

  it('scans folders in code-point order, skips hidden entries and rejects bad model.json', async () => {
    const root = join(tmp.path, 'scan');
    for (const f of ['b', 'B', 'a', '.hidden']) await mkdir(join(root, f), { recursive: true });
    await writeFile(join(root, 'a', 'z.png'), 'x');
    await writeFile(join(root, 'a', 'A.png'), 'x');
    await writeFile(join(root, 'a', '.DS_Store'), 'x');
    await writeFile(join(root, 'a', 'info.json'), '{}');
    await writeFile(join(root, 'stray.png'), 'x');
    await writeFile(join(root, 'b', 'model.json'), JSON.stringify({ name: 'Bee', extra: 1 }));
    const { models, warnings } = await scanModelFolders(root);
    expect(models.map((m) => m.id)).toEqual(['B', 'a', 'b']);
    expect(models[1].files).toEqual(['A.png', 'z.png']);
    expect(models[2].meta.name).toBe('Bee');
    expect(warnings.join('\n')).toMatch(/stray\.png/);
    expect(warnings.join('\n')).toMatch(/b\/model\.json: ignored unknown field\(s\) "extra"/);

    // a symbolic link to a model folder counts as a model folder
    await mkdir(join(tmp.path, 'elsewhere', 'linked'), { recursive: true });
    await symlink(join(tmp.path, 'elsewhere', 'linked'), join(root, 'c'));
    expect((await scanModelFolders(root)).models.map((m) => m.id)).toEqual(['B', 'a', 'b', 'c']);

    await writeFile(join(root, 'b', 'model.json'), '{ not json');
    await writeFile(join(root, 'a', 'model.json'), JSON.stringify({ name: 42 }));
    await expect(scanModelFolders(root)).rejects.toMatchObject({
      details: [expect.stringMatching(/^a\/model\.json: "name" must be a string$/), expect.stringMatching(/^b\/model\.json: /)],
    });
  });

  it('rejects empty and duplicate ids, naming every offending folder', async () => {
    const root = join(tmp.path, 'scan-ids');
    for (const f of ['one', 'two', 'three']) await mkdir(join(root, f), { recursive: true });
    await writeFile(join(root, 'one', 'model.json'), JSON.stringify({ id: '' }));
    await writeFile(join(root, 'two', 'model.json'), JSON.stringify({ id: 'three' }));
    await expect(scanModelFolders(root)).rejects.toMatchObject({
      message: `invalid model folders in ${root}`,
      details: ['one/model.json: the id "" is not valid: it is empty', 'duplicate model id "three" (folders "three", "two")'],
    });
  });

  it('a shard takes the models at sorted positions ≡ i (mod n), and may not be empty', async () => {
    const root = join(tmp.path, 'scan-shard');
    for (const f of ['a', 'b', 'c']) await mkdir(join(root, f), { recursive: true });
    const { models } = await scanModelFolders(root);
    expect(selectShard(models, undefined)).toBe(models);
    expect(selectShard(models, { index: 0, count: 2 }).map((m) => m.id)).toEqual(['a', 'c']);
    expect(selectShard(models, { index: 1, count: 2 }).map((m) => m.id)).toEqual(['b']);
    expect(() => selectShard(models, { index: 3, count: 4 })).toThrow('shard 3/4 holds no models (3 model folder(s) in total)');
  });
});

describe('progress and report', () => {
  it('writes plain progress lines when stderr is not a terminal, nothing when quiet', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) };
    const p = createProgress({ stream, intervalMs: 0 });
    p.start(4);
    p.tick(3);
    p.tick();
    p.stop();
    expect(lines[0]).toMatch(/^build-index: 3\/4 images \(75%\), [\d.]+ img\/s, ETA /);
    expect(lines[1]).toMatch(/^build-index: 4\/4 images \(100%\)/);
    const quiet: string[] = [];
    const q = createProgress({ quiet: true, stream: { isTTY: true, write: (s: string) => quiet.push(s) } });
    q.start(1);
    q.tick();
    q.stop();
    expect(quiet).toEqual([]);
  });

  it('formats the final report with skipped files, invalid models, warnings and time', () => {
    const r = emptyReport('build', 'out/zoo', 'zoo', { id: 'test-encoder', dim: 32 });
    Object.assign(r, {
      ok: true,
      images: { total: 5, embedded: 2, fromCache: 2, skipped: 1 },
      skipped: [{ file: 'a/x.jpg', reason: 'empty file (0 bytes)' }],
      invalidModels: [{ id: 'b', reason: 'only 1 valid image(s)' }],
      warnings: ['careful'],
      seconds: 2,
    });
    r.models = [{ id: 'a', images: 4, embedded: 2, fromCache: 2, skipped: 1, epsilon: 1e-3, jitterSteps: 0, samplesKept: 4, thumbnails: 3 }];
    expect(formatReport(r)).toBe(
      [
        'build-index: built 1 model(s) with test-encoder (32-d) → out/zoo',
        'images: 5 found, 2 embedded, 2 from cache, 1 skipped',
        'skipped files (1):',
        '  a/x.jpg: empty file (0 bytes)',
        'models left out (1):',
        '  b: only 1 valid image(s)',
        'warnings (1):',
        '  careful',
        'total time 2.0s, 2.0 images/s',
        '',
      ].join('\n'),
    );
  });
});
