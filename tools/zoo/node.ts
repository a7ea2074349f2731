/**
 * Node helpers for the procedural zoo: a canvas factory on @napi-rs/canvas (Skia) and PNG output
 * with sharp.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import sharp from 'sharp';
import type { CanvasFactory } from './render.ts';

/** `renderSample`'s canvas factory for Node (@napi-rs/canvas, the same Skia family as Chromium). */
export const nodeCanvasFactory: CanvasFactory = (w, h) => createCanvas(w, h);

/** Writes RGBA `size`×`size` pixels as an RGB PNG (alpha dropped: every zoo pixel is opaque). */
export async function writePng(rgba: Uint8ClampedArray, size: number, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width: size, height: size, channels: 4 } })
    .removeAlpha()
    .png({ compressionLevel: 6 })
    .toFile(path);
}

/** A contact sheet: `images` (RGBA, `size`²) tiled `cols` wide, written as PNG. */
export async function writeContactSheet(images: Uint8ClampedArray[], size: number, cols: number, path: string): Promise<void> {
  const rows = Math.ceil(images.length / cols);
  const W = cols * size;
  const out = new Uint8ClampedArray(W * rows * size * 4).fill(255);
  images.forEach((img, k) => {
    const ox = (k % cols) * size;
    const oy = Math.floor(k / cols) * size;
    for (let y = 0; y < size; y++) out.set(img.subarray(y * size * 4, (y + 1) * size * 4), ((oy + y) * W + ox) * 4);
  });
  await mkdir(dirname(path), { recursive: true });
  await sharp(Buffer.from(out.buffer), { raw: { width: W, height: rows * size, channels: 4 } }).removeAlpha().png().toFile(path);
}
