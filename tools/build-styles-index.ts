/**
 * Builds public/index/styles: a style-retrieval index over the style zoo's evaluation styles
 * (tools/style-zoo), embedded with the zoo encoder. Every style model is applied to one shared
 * reference set of content images; the index keeps the features of those outputs, the cleansing
 * mask (pairs the style barely changed are dropped) and, as the 1st moment, their mean — so the app
 * can rank style models by style distance to a query image.
 *
 *   npm run build-styles-index     (reproducible: the same bytes on every run)
 */
import { calibrateIndex } from './lib/calibrate.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ENCODERS } from '../src/core/encode/encoders.ts';
import type { ModelMeta } from '../src/core/index/manifest.ts';
import { preprocessRgba } from '../src/core/encode/preprocess.ts';
import { cleansingMask } from '../src/core/scoring/styleDistance.ts';
import { NodeEncoder, PUBLIC_DIR } from './lib/nodeEncoder.ts';
import { writeIndexDir } from './lib/writeIndexDir.ts';
import { CONTENT_SIZE, contentSets, renderContent, type ContentImage } from './style-zoo/content.ts';
import { pixelMse, stylesOf, type RgbaPixels, type StyleTransform } from './style-zoo/transforms.ts';

/** Reference inputs shared by every style model. */
export const STYLE_REFERENCES = 8;
const THUMBNAILS = 3;
const ENCODER = 'zoo-encoder';

export interface StyleIndexData {
  styles: StyleTransform[];
  references: ContentImage[];
  /** [M·S, dim] unit features of t(s, m), model by model. */
  refs: Float32Array;
  keep: Uint8Array;
  means: Float32Array;
}

/** Features of every (style, reference) output, the cleansing mask and the per-style means. */
export async function styleIndexData(encoder: NodeEncoder, pixelsOf: (c: ContentImage) => Promise<RgbaPixels>): Promise<StyleIndexData> {
  const desc = ENCODERS[ENCODER];
  const styles = stylesOf('eval');
  const references = contentSets({ reference: STYLE_REFERENCES, query: 0, train: 0 }).reference;
  const S = references.length;
  const dim = desc.dim;
  const per = 3 * desc.image.size * desc.image.size;
  const refs = new Float32Array(styles.length * S * dim);
  const mse = new Float32Array(styles.length * S);
  const batch = new Float32Array(S * per);
  for (const [m, style] of styles.entries()) {
    for (const [s, ref] of references.entries()) {
      const src = await pixelsOf(ref);
      const out = style.apply(src);
      mse[m * S + s] = pixelMse(src, out);
      preprocessRgba(out, desc.image, batch.subarray(s * per, (s + 1) * per));
    }
    const feats = await encoder.encodeImages(batch, S);
    feats.forEach((f, s) => refs.set(f, (m * S + s) * dim));
  }
  const keep = cleansingMask(mse);
  // 1st moment over the kept outputs (all of them when none survives, so the mean stays defined).
  const means = new Float32Array(styles.length * dim);
  for (let m = 0; m < styles.length; m++) {
    const kept = [...Array(S).keys()].filter((s) => keep[m * S + s]);
    const use = kept.length ? kept : [...Array(S).keys()];
    for (const s of use) for (let j = 0; j < dim; j++) means[m * dim + j] += refs[(m * S + s) * dim + j] / use.length;
  }
  return { styles, references, refs, keep, means };
}

async function main() {
  const desc = ENCODERS[ENCODER];
  const cache = await mkdtemp(join(tmpdir(), 'style-content-'));
  try {
    // Both towers: the text tower is needed for the "nothing matches" calibration.
    const encoder = await NodeEncoder.load(desc);
    const pixels = new Map<string, RgbaPixels>();
    const pixelsOf = async (c: ContentImage) => {
      let p = pixels.get(c.key);
      if (!p) pixels.set(c.key, (p = await renderContent(c, cache)));
      return p;
    };
    const data = await styleIndexData(encoder, pixelsOf);
    const extraFiles = new Map<string, Uint8Array>();
    const models: ModelMeta[] = [];
    for (const style of data.styles) {
      const thumbnails: string[] = [];
      for (const ref of data.references.slice(0, THUMBNAILS)) {
        const out = style.apply(await pixelsOf(ref));
        const path = `thumbs/${style.id}/${thumbnails.length}.webp`;
        const webp = await sharp(Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength), { raw: { width: out.width, height: out.height, channels: 4 } })
          .resize(160, 160)
          .webp({ quality: 80, effort: 4 })
          .toBuffer();
        extraFiles.set(path, new Uint8Array(webp));
        thumbnails.push(path);
      }
      models.push({
        id: style.id,
        name: style.name,
        description: `A style model (a LoRA stand-in from the procedural style zoo, family “${style.family}”): its outputs for the ${STYLE_REFERENCES} shared reference images are what style distance compares.`,
        family: style.family,
        creator: 'model-search style zoo',
        licence: 'CC0-1.0',
        resolution: `${CONTENT_SIZE}×${CONTENT_SIZE}`,
        links: [],
        thumbnails,
      });
    }
    await writeIndexDir(
      join(PUBLIC_DIR, 'index', 'styles'),
      {
        name: 'styles',
        createdWith: 'tools/build-styles-index.ts',
        encoder: { id: desc.id, dim: desc.dim },
        licence: 'CC0-1.0 (procedural style zoo generated by this project)',
        models,
        index: {
          dim: desc.dim,
          means: data.means,
          style: { refs: data.refs, keep: data.keep, refsPerModel: STYLE_REFERENCES, dtype: 'f32' },
        },
        extraFiles,
        calibrate: (index, t) => calibrateIndex(index, encoder, t, models.map((m) => m.name)),
      },
      { force: true },
    );
    const dropped = data.keep.reduce((a, k) => a + (1 - k), 0);
    console.log(`Built public/index/styles: ${models.length} style models × ${STYLE_REFERENCES} references (${dropped} pairs cleansed)`);
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
