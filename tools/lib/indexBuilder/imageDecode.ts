/**
 * Image decoding for the index builder, with sharp (libvips): JPEG, PNG, WebP, AVIF, GIF (first
 * frame), TIFF (first page) → 8-bit sRGB RGBA for src/core/encode/preprocess.ts.
 *
 * Pixel semantics match the browser path (draw into a canvas, read RGBA, preprocessRgba): the
 * image is turned upright by its EXIF orientation, converted to sRGB (embedded ICC profiles
 * applied; greyscale, palette and 16-bit images to 8-bit RGB), and alpha is carried along for
 * preprocessRgba, which flattens it onto black as a browser canvas does. CMYK images are refused,
 * as the app refuses them: browsers and libvips convert CMYK to RGB by different rules.
 *
 * Memory: the header is read first (no pixels) and an image over `maxPixels` is refused before
 * anything is allocated; the decode itself runs with the same `limitInputPixels` as a backstop.
 */
import sharp from 'sharp';
import { isCmykJpeg, readImageHeader } from '../../../src/core/encode/imageHeader.ts';
import type { RgbaImage } from '../../../src/core/encode/preprocess.ts';
import { DEFAULT_MAX_PIXELS } from './defaults.ts';

export type DecodeResult =
  | { ok: true; image: RgbaImage & { data: Uint8Array }; format: string }
  | { ok: false; reason: string };

export interface DecodeOptions {
  maxPixels?: number;
}

/** The skip reason of a CMYK image (docs/build-index.md lists every reason). */
export const CMYK_REASON = 'CMYK colours (browsers convert CMYK to RGB differently from this builder: save it as RGB)';

/** One reason per failure, stable enough to be grepped and tested. */
function failureReason(err: unknown): string {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
  if (/unsupported image format|Input buffer is empty/i.test(msg)) return 'not an image (unsupported format)';
  return `decode error (${msg || 'unknown'})`;
}

/** Image size as stored (before EXIF rotation), from the header only; throws for non-images. */
async function probeImage(bytes: Uint8Array): Promise<{ width: number; height: number; format: string; cmyk: boolean }> {
  const meta = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  // The app decides from the JPEG header (src/core/encode/imageHeader.ts); libvips also knows CMYK TIFFs.
  const cmyk = meta.space === 'cmyk' || isCmykJpeg(readImageHeader(bytes));
  return { width: meta.width ?? 0, height: meta.height ?? 0, format: meta.format ?? 'unknown', cmyk };
}

export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodeResult> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.byteLength === 0) return { ok: false, reason: 'empty file (0 bytes)' };
  let probe;
  try {
    probe = await probeImage(bytes);
  } catch (err) {
    return { ok: false, reason: failureReason(err) };
  }
  const { width, height, format } = probe;
  if (!(width > 0 && height > 0)) return { ok: false, reason: 'decode error (no image dimensions)' };
  if (width * height > maxPixels) return { ok: false, reason: `too large (${width}×${height})` };
  if (probe.cmyk) return { ok: false, reason: CMYK_REASON };
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', pages: 1, page: 0 })
      .rotate() // honour EXIF orientation, like browsers' image-orientation: from-image
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) return { ok: false, reason: `decode error (${info.channels} channels after conversion)` };
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { ok: true, image: { data: pixels, width: info.width, height: info.height }, format };
  } catch (err) {
    return { ok: false, reason: failureReason(err) };
  }
}

export interface ThumbnailOptions {
  width?: number;
  quality?: number;
  maxPixels?: number;
}

/**
 * An upright WebP preview of the first frame: `width` px wide (default 256, large enough to judge a
 * model's output on a card), never wider than the image itself (enlarging adds bytes, not detail).
 */
export async function makeThumbnail(bytes: Uint8Array, opts: ThumbnailOptions = {}): Promise<Uint8Array> {
  const out = await sharp(bytes, { limitInputPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS, failOn: 'none', pages: 1 })
    .rotate()
    .resize({ width: opts.width ?? 256, withoutEnlargement: true })
    .webp({ quality: opts.quality ?? 70 })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Keeps libvips from holding decoded images in its operation cache across a long build. */
export function configureSharpForBatch(): void {
  sharp.cache(false);
}
