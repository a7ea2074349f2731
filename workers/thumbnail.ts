/** Thumbnails of a local model, as the builder makes them: at most 256 px wide (never enlarged), WebP at quality 0.7. */
export const THUMBNAIL_WIDTH = 256;
export const THUMBNAIL_QUALITY = 0.7;

export interface Thumbnail {
  bytes: ArrayBuffer;
  /** 'image/webp', or 'image/png' where the browser has no WebP encoder (Safari). */
  mime: 'image/webp' | 'image/png';
}

/**
 * A thumbnail of an image file: EXIF orientation applied, resized to ≤ 256 px wide in the decoder,
 * drawn on an OffscreenCanvas and encoded. Throws when the browser cannot decode or encode it.
 */
export async function makeThumbnail(blob: Blob): Promise<Thumbnail> {
  const probe = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  const width = Math.min(THUMBNAIL_WIDTH, probe.width);
  const height = Math.max(1, Math.round((probe.height * width) / probe.width));
  probe.close();
  const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('This browser cannot draw images in a worker.');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const out = await canvas.convertToBlob({ type: 'image/webp', quality: THUMBNAIL_QUALITY });
  // Browsers without a WebP encoder answer with PNG (the default type).
  const mime = out.type === 'image/webp' ? 'image/webp' : 'image/png';
  return { bytes: await out.arrayBuffer(), mime };
}
