/**
 * Renders the PWA icons in public/icons from public/favicon.svg:
 *   icon-192.png, icon-512.png  the favicon as it is (rounded square, transparent corners);
 *   maskable-512.png            the favicon inset on a full-bleed square of its own fill colour, so
 *                               the glyph stays inside the maskable safe zone (the central circle of
 *                               radius 40%) whatever mask the platform applies.
 * Reproducible: the same favicon gives the same bytes.
 *   npm run make-icons
 */
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Sharp } from 'sharp';

const PUBLIC = new URL('../public/', import.meta.url);
const SOURCE = new URL('favicon.svg', PUBLIC);
const OUT = new URL('icons/', PUBLIC);

/** Share of the maskable canvas the favicon covers; its glyph then ends well inside the safe zone. */
const MASKABLE_INSET = 0.78;
const FALLBACK_BACKGROUND = '#2f5fd0';

/** The favicon's viewBox width (its intrinsic size in CSS pixels). */
function viewBoxWidth(svg: string): number {
  const m = /viewBox="\s*[-\d.]+\s+[-\d.]+\s+([\d.]+)\s+[\d.]+\s*"/.exec(svg);
  const w = m ? Number(m[1]) : NaN;
  return Number.isFinite(w) && w > 0 ? w : 32;
}

/** The first solid fill in the favicon (its background square), used behind the maskable icon. */
function backgroundColour(svg: string): string {
  return /fill="(#[0-9a-fA-F]{3,8})"/.exec(svg)?.[1] ?? FALLBACK_BACKGROUND;
}

/** The SVG rasterised at exactly size×size pixels, rendered at that density (no upscaling blur). */
function render(svg: Buffer, width: number, size: number): Sharp {
  return sharp(svg, { density: (72 * size) / width }).resize(size, size, { fit: 'contain', background: '#0000' });
}

const png = (s: Sharp) => s.png({ compressionLevel: 9, adaptiveFiltering: true });

async function main(): Promise<void> {
  const svg = await readFile(SOURCE);
  const text = svg.toString('utf8');
  const width = viewBoxWidth(text);
  await mkdir(OUT, { recursive: true });

  for (const size of [192, 512]) {
    const file = fileURLToPath(new URL(`icon-${size}.png`, OUT));
    await png(render(svg, width, size)).toFile(file);
    console.log(`wrote ${file}`);
  }

  const size = 512;
  const inner = Math.round(size * MASKABLE_INSET);
  const offset = Math.round((size - inner) / 2);
  const glyph = await render(svg, width, inner).png().toBuffer();
  const file = fileURLToPath(new URL('maskable-512.png', OUT));
  await png(
    sharp({ create: { width: size, height: size, channels: 4, background: backgroundColour(text) } })
      .composite([{ input: glyph, left: offset, top: offset }]),
  ).toFile(file);
  console.log(`wrote ${file}`);
}

await main();
