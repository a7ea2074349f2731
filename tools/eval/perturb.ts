/**
 * Image perturbations of the robustness suites (docs/eval.md "Robustness suites"): what real
 * uploads do to a clean render. Each is a pure function PNG/JPEG bytes → image bytes, with sharp
 * (SVG compositing for the screenshot frame; no external assets). Eval-only: nothing under
 * tools/zoo/ (the training export) imports this file (test/unit/evalHeldout.test.ts checks).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';

export const PERTURBATIONS = ['frame', 'rotate7', 'crop70', 'jpeg40', 'downup'] as const;
export type Perturbation = (typeof PERTURBATIONS)[number];

/** What each perturbation does, for the report. */
export const PERTURBATION_LABELS: Record<Perturbation, string> = {
  frame: 'screenshot frame (window border, title bar with dots, toolbar)',
  rotate7: 'rotated 7° (white corners, same size)',
  crop70: 'centre crop 70 %, rescaled back',
  jpeg40: 'JPEG quality 40',
  downup: 'downscaled to ⅓ and back up',
};

/** Bump when a perturbation changes (it keys the cached images). */
export const PERTURBATION_VERSION = 1;

/** Where an eval zoo's perturbed query images are cached (`npm run eval` writes them, `eval:no-match` reads them). */
export function perturbedDir(zooDir: string): string {
  return join(zooDir, `perturbed-v${PERTURBATION_VERSION}`);
}

/** The screenshot-like frame around a `w`×`h` image: an SVG of the window with a hole where the image goes. */
export function frameSvg(w: number, h: number): { svg: string; width: number; height: number; left: number; top: number } {
  const side = 10;
  const title = 26;
  const toolbar = 20;
  const bottom = 14;
  const width = w + 2 * side;
  const height = h + title + toolbar + bottom;
  const top = title + toolbar;
  const icons = Array.from({ length: 5 }, (_, i) => `<rect x="${side + 4 + i * 16}" y="${title + 5}" width="11" height="10" rx="2" fill="#9aa0a6"/>`).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="${width}" height="${height}" fill="#e8e8ea"/>` +
    `<rect width="${width}" height="${title}" fill="#d2d3d6"/>` +
    `<circle cx="14" cy="13" r="5" fill="#ff5f57"/><circle cx="30" cy="13" r="5" fill="#febc2e"/><circle cx="46" cy="13" r="5" fill="#28c840"/>` +
    `<rect x="${Math.round(width / 2 - 40)}" y="9" width="80" height="8" rx="3" fill="#8e9196"/>` +
    `<rect y="${title}" width="${width}" height="${toolbar}" fill="#f4f4f6"/>` +
    icons +
    `<rect x="${side + 90}" y="${title + 4}" width="${Math.max(20, width - side * 2 - 96)}" height="12" rx="6" fill="#ffffff" stroke="#c4c6ca"/>` +
    `<rect x="${side - 1}" y="${top - 1}" width="${w + 2}" height="${h + 2}" fill="#b8b9bd"/>` +
    `<rect x="${Math.round(width / 2 - 30)}" y="${height - 10}" width="60" height="5" rx="2" fill="#a9abb0"/>` +
    `</svg>`;
  return { svg, width, height, left: side, top };
}

/** Applies one perturbation; returns the encoded image and its file extension. */
export async function perturb(kind: Perturbation, input: Uint8Array): Promise<{ data: Buffer; ext: 'png' | 'jpg' }> {
  const img = sharp(input).removeAlpha();
  const { width: w = 0, height: h = 0 } = await img.metadata();
  if (!w || !h) throw new Error('perturb: an image without a size');
  switch (kind) {
    case 'frame': {
      const f = frameSvg(w, h);
      const data = await sharp(Buffer.from(f.svg))
        .composite([{ input: await img.png().toBuffer(), left: f.left, top: f.top }])
        .removeAlpha()
        .png()
        .toBuffer();
      return { data, ext: 'png' };
    }
    case 'rotate7': {
      const r = await img.rotate(7, { background: '#ffffff' }).png().toBuffer({ resolveWithObject: true });
      const left = Math.floor((r.info.width - w) / 2);
      const top = Math.floor((r.info.height - h) / 2);
      return { data: await sharp(r.data).extract({ left, top, width: w, height: h }).png().toBuffer(), ext: 'png' };
    }
    case 'crop70': {
      const cw = Math.round(w * 0.7);
      const ch = Math.round(h * 0.7);
      const data = await img
        .extract({ left: Math.floor((w - cw) / 2), top: Math.floor((h - ch) / 2), width: cw, height: ch })
        .resize(w, h)
        .png()
        .toBuffer();
      return { data, ext: 'png' };
    }
    case 'jpeg40':
      return { data: await img.jpeg({ quality: 40 }).toBuffer(), ext: 'jpg' };
    case 'downup': {
      const small = await img.resize(Math.round(w / 3), Math.round(h / 3)).png().toBuffer();
      return { data: await sharp(small).resize(w, h).png().toBuffer(), ext: 'png' };
    }
  }
}

/**
 * Writes every perturbation of every clean query image into `<outDir>/<kind>/` (reused when a
 * marker of this version is there) and returns the files per kind, in the input order.
 */
export async function perturbAll(files: string[], outDir: string): Promise<Record<Perturbation, string[]>> {
  const marker = join(outDir, `complete-v${PERTURBATION_VERSION}.json`);
  const out = {} as Record<Perturbation, string[]>;
  const done = existsSync(marker);
  for (const kind of PERTURBATIONS) {
    await mkdir(join(outDir, kind), { recursive: true });
    out[kind] = [];
  }
  for (let i = 0; i < files.length; i += 16) {
    await Promise.all(
      files.slice(i, i + 16).map(async (f, j) => {
        const bytes = done ? undefined : new Uint8Array(await readFile(f));
        for (const kind of PERTURBATIONS) {
          const ext = kind === 'jpeg40' ? 'jpg' : 'png';
          const path = join(outDir, kind, basename(f).replace(/\.[a-z]+$/i, `.${ext}`));
          out[kind][i + j] = path;
          if (!done) await writeFile(path, (await perturb(kind, bytes!)).data);
        }
      }),
    );
  }
  if (!done) await writeFile(marker, JSON.stringify({ version: PERTURBATION_VERSION, files: files.length }) + '\n');
  return out;
}
