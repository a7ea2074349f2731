import { headerFault, readImageHeader } from '../core/encode/imageHeader.ts';
import { AppError } from '../core/io/errors.ts';
import { IMAGE_FAULTS, imageFault } from '../core/messages.ts';

/** Files larger than this are refused before decoding (a phone photo is 2–12 MB). */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;
/**
 * Query images are shrunk so their shortest edge is at most this long before they go to the worker
 * or into session storage: 2× CLIP's 224 px input keeps the encoder's own resize in charge of the
 * final pixels while bounding memory (a 48 MP photo would be 190 MB of RGBA).
 */
export const QUERY_SHORT_EDGE = 448;

export interface PreparedImage {
  /** PNG of the (possibly shrunk) first frame, EXIF orientation applied. */
  blob: Blob;
  width: number;
  height: number;
  name: string;
}

/** Picks the first image-like file from a drop or paste, if any. */
export function firstFile(list: FileList | DataTransferItemList | null | undefined): File | null {
  if (!list) return null;
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    const file = entry instanceof File ? entry : (entry as DataTransferItem).kind === 'file' ? (entry as DataTransferItem).getAsFile() : null;
    if (file) return file;
  }
  return null;
}

/** Target size for a shortest edge of at most `maxShort`, never upscaling. */
export function fitShortEdge(width: number, height: number, maxShort = QUERY_SHORT_EDGE): { width: number; height: number } {
  const short = Math.min(width, height);
  if (short <= maxShort) return { width, height };
  const scale = maxShort / short;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Decodes an uploaded, dropped, pasted or drawn image on the main thread's decoder (off the JS
 * thread in Chromium), keeps its first frame with EXIF orientation applied, shrinks it and
 * re-encodes it as PNG: one bounded, canonical file for the worker and the session.
 */
export async function prepareImage(file: Blob, name = (file as File).name || 'image'): Promise<PreparedImage> {
  if (file.size === 0) throw new AppError('bad-query', imageFault(name, IMAGE_FAULTS.empty), name);
  if (file.type && !file.type.startsWith('image/')) {
    throw new AppError('bad-query', `“${name}” is not an image (${file.type}). Use a PNG, JPEG, WebP, GIF or AVIF file.`, name);
  }
  if (file.size > MAX_IMAGE_BYTES) {
    throw new AppError('bad-query', `“${name}” is ${(file.size / 2 ** 20).toFixed(0)} MB; images up to ${MAX_IMAGE_BYTES / 2 ** 20} MB are accepted.`, name);
  }
  // CMYK and decompression bombs are refused from the header, as the Node tools refuse them.
  const fault = headerFault(readImageHeader(new Uint8Array(await file.arrayBuffer())));
  if (fault) throw new AppError('bad-query', imageFault(name, fault), name);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw new AppError('bad-query', imageFault(name, IMAGE_FAULTS.unreadable), name);
  }
  try {
    const size = fitShortEdge(bitmap.width, bitmap.height);
    if (size.width !== bitmap.width || size.height !== bitmap.height) {
      const resized = await createImageBitmap(bitmap, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
      bitmap.close();
      bitmap = resized;
    }
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new AppError('bad-query', 'This browser cannot draw images on a canvas.');
    ctx.drawImage(bitmap, 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return { blob, width: bitmap.width, height: bitmap.height, name };
  } finally {
    bitmap.close();
  }
}
