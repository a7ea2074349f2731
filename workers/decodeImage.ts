import { headerFault, readImageHeader } from '../src/core/encode/imageHeader.ts';
import { AppError } from '../src/core/io/errors.ts';
import { IMAGE_FAULTS, imageFault } from '../src/core/messages.ts';
import type { RgbaImage } from '../src/core/encode/preprocess.ts';

/** Above this many pixels the image is shrunk while decoding, to bound worker memory. */
const MAX_PIXELS = 16_000_000;
/** Shrinking keeps the shortest edge at least this long (4× CLIP's 224, so quality is unaffected). */
const MIN_SHORT_EDGE = 896;

/** Decoded pixels, and the file's own upright size (before any shrinking): a model's resolution uses it. */
export interface DecodedImage extends RgbaImage {
  original: { width: number; height: number };
}

/**
 * Decodes an image file in the worker: EXIF orientation applied, first frame of animations,
 * RGBA as the canvas keeps it (preprocessRgba flattens transparency onto black, as in the Node builder).
 */
export async function decodeImage(blob: Blob): Promise<DecodedImage> {
  if (blob.size === 0) throw new AppError('bad-query', imageFault(null, IMAGE_FAULTS.empty));
  // The app's own images arrive as PNG (src/lib/imageInput.ts); anything else meets the same checks.
  const fault = headerFault(readImageHeader(new Uint8Array(await blob.arrayBuffer())));
  if (fault) throw new AppError('bad-query', imageFault(null, fault));
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none' });
  } catch {
    throw new AppError('bad-query', imageFault(null, IMAGE_FAULTS.unreadable));
  }
  let { width, height } = bitmap;
  const original = { width, height };
  if (width * height > MAX_PIXELS) {
    const scale = Math.max(Math.sqrt(MAX_PIXELS / (width * height)), MIN_SHORT_EDGE / Math.min(width, height));
    if (scale < 1) {
      const w = Math.max(1, Math.round(width * scale));
      const h = Math.max(1, Math.round(height * scale));
      bitmap.close();
      bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
      width = w;
      height = h;
    }
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new AppError('bad-query', 'This browser cannot decode images in a worker.');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = ctx.getImageData(0, 0, width, height).data;
  return { data, width, height, original };
}
