/**
 * Test fixtures for the index builder, generated at test time with sharp into a temp folder
 * (no binary fixtures in the repo): noisy solid-colour images in several formats, model folders,
 * and a PNG header that claims a huge size without any pixel data.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { readIndex, type SearchIndex } from '../../../src/core/index/indexFormat.ts';
import { mulberry32 } from '../../../src/core/math/prng.ts';
import { parseManifest, parseModels, type IndexManifest, type ModelMeta } from '../../../src/core/index/manifest.ts';

export type Rgb = [number, number, number];

export interface RgbaPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A solid colour with ±`noise` uniform noise per channel, opaque. */
export function noisyColour(rgb: Rgb, width: number, height: number, seed: number, noise = 40): RgbaPixels {
  const r = mulberry32(seed);
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = Math.max(0, Math.min(255, Math.round(rgb[c] + (r() * 2 - 1) * noise)));
    data[p * 4 + 3] = 255;
  }
  return { data, width, height };
}

/** Left half one colour, right half another, with a vertical gradient: orientation is visible. */
export function twoTone(a: Rgb, b: Rgb, width: number, height: number): RgbaPixels {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = x < width / 2 ? a : b;
      const shade = 0.5 + (0.5 * y) / height;
      const o = (y * width + x) * 4;
      for (let k = 0; k < 3; k++) data[o + k] = Math.round(c[k] * shade);
      data[o + 3] = 255;
    }
  }
  return { data, width, height };
}

export type Format = 'png' | 'jpeg' | 'webp' | 'avif' | 'gif' | 'tiff';

/** Encodes RGBA pixels; PNG and lossless WebP keep them exactly. */
export async function encodeImage(px: RgbaPixels, format: Format, opts: { lossless?: boolean; orientation?: number } = {}): Promise<Buffer> {
  let s = sharp(Buffer.from(px.data), { raw: { width: px.width, height: px.height, channels: 4 } });
  if (format !== 'png' && format !== 'webp' && format !== 'tiff' && format !== 'gif') s = s.removeAlpha();
  if (opts.orientation) s = s.withMetadata({ orientation: opts.orientation });
  switch (format) {
    case 'png':
      return s.png().toBuffer();
    case 'jpeg':
      return s.jpeg({ quality: 95 }).toBuffer();
    case 'webp':
      return s.webp(opts.lossless ? { lossless: true } : { quality: 90 }).toBuffer();
    case 'avif':
      return s.avif({ quality: 80, effort: 0 }).toBuffer();
    case 'gif':
      return s.gif().toBuffer();
    case 'tiff':
      return s.tiff({ compression: 'lzw' }).toBuffer();
  }
}

/** A two-frame animated GIF: frame 0 then frame 1. */
export async function twoFrameGif(frame0: RgbaPixels, frame1: RgbaPixels): Promise<Buffer> {
  const { width, height } = frame0;
  const data = Buffer.concat([Buffer.from(frame0.data), Buffer.from(frame1.data)]);
  return sharp(data, { raw: { width, height: height * 2, channels: 4, pageHeight: height } }).gif({ delay: [100, 100] }).toBuffer();
}

function crc32(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A PNG that claims `width`×`height` (RGB, 8-bit) but holds a few bytes of data: a decoder that
 * honours a pixel limit must refuse it from the header alone, without allocating the image.
 */
export function hugePngHeader(width = 20000, height = 20000): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export async function tempDir(prefix = 'build-index-test-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export interface ModelSpec {
  folder: string;
  colour: Rgb;
  images: number;
  /** Cycled over the images (default png). */
  formats?: Format[];
  modelJson?: unknown;
  seed?: number;
}

/** The exact pixels written for image `i` of a model (PNG keeps them bit for bit). */
export function specPixels(spec: ModelSpec, i: number): RgbaPixels {
  return noisyColour(spec.colour, 40 + 8 * i, 32 + 4 * ((i * 3) % 5), (spec.seed ?? 1) * 1000 + i + 1);
}

/** Writes `<root>/<folder>/img<i>.<ext>` for each spec; returns the file names per folder. */
export async function writeModels(root: string, specs: ModelSpec[]): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  for (const spec of specs) {
    const dir = join(root, spec.folder);
    await mkdir(dir, { recursive: true });
    const names: string[] = [];
    for (let i = 0; i < spec.images; i++) {
      const format = (spec.formats ?? ['png'])[i % (spec.formats ?? ['png']).length];
      const ext = format === 'jpeg' ? 'jpg' : format;
      const name = `img${String(i).padStart(2, '0')}.${ext}`;
      await writeFile(join(dir, name), await encodeImage(specPixels(spec, i), format));
      names.push(name);
    }
    if (spec.modelJson !== undefined) await writeFile(join(dir, 'model.json'), JSON.stringify(spec.modelJson));
    files.set(spec.folder, names);
  }
  return files;
}

export interface IndexDir {
  manifest: IndexManifest;
  index: SearchIndex;
  models: ModelMeta[];
  bin: Uint8Array;
  modelsJson: string;
}

export async function readIndexDir(dir: string): Promise<IndexDir> {
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const bin = new Uint8Array(await readFile(join(dir, 'index.bin')));
  const index = readIndex(bin);
  const modelsJson = await readFile(join(dir, 'models.json'), 'utf8');
  const models = parseModels(JSON.parse(modelsJson), index.count);
  return { manifest, index, models, bin, modelsJson };
}
