/**
 * What an image file's header says, read without decoding: its format, its size as stored and, for
 * JPEG, how many colour components it has (4 = CMYK or YCCK). The app (main thread and worker) and
 * the Node tools use it to refuse the same files for the same reasons before any pixel is decoded:
 * CMYK, which browsers and libvips convert differently, and headers that claim a decompression bomb.
 */
import { IMAGE_FAULTS, MAX_IMAGE_PIXELS, tooManyPixels } from '../messages.ts';

export interface ImageHeader {
  format: 'jpeg' | 'png' | 'gif' | 'webp';
  width: number;
  height: number;
  /** JPEG only: colour components per pixel (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK). */
  components?: number;
}

const u16be = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u16le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u24le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
const u32be = (b: Uint8Array, o: number) => ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
const ascii = (b: Uint8Array, o: number, s: string) => [...s].every((c, i) => b[o + i] === c.charCodeAt(0));

/** The header of a JPEG, PNG, GIF or WebP file, or null (another format, or too short to tell). */
export function readImageHeader(b: Uint8Array): ImageHeader | null {
  if (b.length >= 24 && ascii(b, 1, 'PNG') && b[0] === 0x89 && ascii(b, 12, 'IHDR')) {
    return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
  }
  if (b.length >= 10 && (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a'))) {
    return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
  }
  if (b.length >= 30 && ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return webpHeader(b);
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpegHeader(b);
  return null;
}

function webpHeader(b: Uint8Array): ImageHeader | null {
  if (ascii(b, 12, 'VP8X')) return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  if (ascii(b, 12, 'VP8L') && b[20] === 0x2f) {
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (ascii(b, 12, 'VP8 ')) return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  return null;
}

/** Walks the JPEG's marker segments up to its frame header (SOFn), which holds size and components. */
function jpegHeader(b: Uint8Array): ImageHeader | null {
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return null;
    const marker = b[o + 1];
    if (marker === 0xff) {
      o += 1; // fill byte
      continue;
    }
    // Markers without a length: TEM, RST0–7, SOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      o += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image, or scan data before any frame header
    const length = u16be(b, o + 2);
    if (length < 2) return null;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (o + 10 > b.length) return null;
      return { format: 'jpeg', height: u16be(b, o + 5), width: u16be(b, o + 7), components: b[o + 9] };
    }
    o += 2 + length;
  }
  return null;
}

/** Whether the file is a JPEG with four colour components (CMYK, or YCCK that decodes to CMYK). */
export function isCmykJpeg(header: ImageHeader | null): boolean {
  return header?.format === 'jpeg' && header.components === 4;
}

/**
 * The fault a header already shows — CMYK colours, or more than MAX_IMAGE_PIXELS pixels (a
 * decompression bomb) — as an IMAGE_FAULTS phrase for imageFault, or '' when it shows none (or
 * the format is not one readImageHeader knows: the decoder has the last word then).
 */
export function headerFault(header: ImageHeader | null): string {
  if (!header) return '';
  if (isCmykJpeg(header)) return IMAGE_FAULTS.cmyk;
  if (header.width * header.height > MAX_IMAGE_PIXELS) return tooManyPixels(header.width, header.height);
  return '';
}
