import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { IMAGE_FAULTS } from '../messages.ts';
import { headerFault, isCmykJpeg, readImageHeader } from './imageHeader.ts';

const base = () => sharp({ create: { width: 37, height: 23, channels: 3, background: '#c04020' } });
const bytes = async (s: Sharp) => new Uint8Array(await s.toBuffer());

describe('readImageHeader', () => {
  it('reads the size of PNG, GIF, WebP (lossy, lossless, extended) and JPEG files', async () => {
    expect(readImageHeader(await bytes(base().png()))).toEqual({ format: 'png', width: 37, height: 23 });
    expect(readImageHeader(await bytes(base().gif()))).toEqual({ format: 'gif', width: 37, height: 23 });
    expect(readImageHeader(await bytes(base().webp({ quality: 80 })))).toMatchObject({ format: 'webp', width: 37, height: 23 });
    expect(readImageHeader(await bytes(base().webp({ lossless: true })))).toMatchObject({ format: 'webp', width: 37, height: 23 });
    expect(readImageHeader(await bytes(base().ensureAlpha().webp({ quality: 80, alphaQuality: 50 })))).toMatchObject({ format: 'webp', width: 37, height: 23 });
    expect(readImageHeader(await bytes(base().jpeg()))).toEqual({ format: 'jpeg', width: 37, height: 23, components: 3 });
  });

  it('counts a JPEG’s colour components: grey 1, CMYK 4 (also behind a 1 MB ICC profile)', async () => {
    expect(readImageHeader(await bytes(base().toColourspace('b-w').jpeg()))?.components).toBe(1);
    const cmyk = readImageHeader(await bytes(base().toColourspace('cmyk').jpeg()));
    expect(cmyk).toMatchObject({ format: 'jpeg', components: 4, width: 37 });
    expect(isCmykJpeg(cmyk)).toBe(true);
    const withProfile = await bytes(base().toColourspace('cmyk').keepIccProfile().jpeg());
    expect(withProfile.length).toBeGreaterThan(500_000);
    expect(isCmykJpeg(readImageHeader(withProfile))).toBe(true);
  });

  it('says null for other formats, truncated headers and garbage', async () => {
    expect(readImageHeader(await bytes(base().tiff()))).toBeNull();
    expect(readImageHeader(new Uint8Array(0))).toBeNull();
    expect(readImageHeader(new TextEncoder().encode('not an image at all'))).toBeNull();
    const jpeg = await bytes(base().jpeg());
    expect(readImageHeader(jpeg.subarray(0, 20))).toBeNull();
    // A segment length pointing past the end, or a zero length, ends the walk.
    expect(readImageHeader(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff]))).toBeNull();
    expect(readImageHeader(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x00, 0, 0, 0, 0, 0, 0]))).toBeNull();
  });
});

describe('headerFault', () => {
  it('names CMYK and decompression bombs, and nothing else', async () => {
    expect(headerFault(readImageHeader(await bytes(base().toColourspace('cmyk').jpeg())))).toBe(IMAGE_FAULTS.cmyk);
    expect(headerFault({ format: 'png', width: 100_000, height: 100_000 })).toBe('is 100000×100000 pixels; images up to 64 megapixels are accepted');
    expect(headerFault({ format: 'png', width: 8000, height: 8000 })).toBe('');
    expect(headerFault(readImageHeader(await bytes(base().jpeg())))).toBe('');
    expect(headerFault(null)).toBe('');
  });
});
