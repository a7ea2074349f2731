import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEMO_MODELS, DEMO_THUMBNAIL_SIZE, DEMO_THUMBNAILS } from '../../tools/build-demo-index.ts';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { nodeCanvasFactory } from '../../tools/zoo/node.ts';
import { renderSample } from '../../tools/zoo/render.ts';
import { makeZoo } from '../../tools/zoo/spec.ts';

const DEMO = join(PUBLIC_DIR, 'index/demo');

/** Mean absolute difference per RGB channel value of two same-sized RGB(A) buffers. */
function meanAbsDiff(a: Uint8Array, aChannels: number, b: Uint8ClampedArray, bChannels: number, pixels: number): number {
  let sum = 0;
  for (let p = 0; p < pixels; p++) for (let c = 0; c < 3; c++) sum += Math.abs(a[p * aChannels + c] - b[p * bChannels + c]);
  return sum / (pixels * 3);
}

describe('the demo index thumbnails', () => {
  it(`are ${DEMO_THUMBNAIL_SIZE}-px renders of kept samples 0…${DEMO_THUMBNAILS - 1} (thumbnail k shows sample k)`, async () => {
    const models = JSON.parse(await readFile(join(DEMO, 'models.json'), 'utf8')) as { id: string; thumbnails: string[] }[];
    const zoo = makeZoo('eval', DEMO_MODELS);
    const byId = new Map(models.map((m) => [m.id, m]));
    expect([...byId.keys()].sort()).toEqual(zoo.map((s) => s.id).sort());
    for (const i of [0, 150, 299]) {
      const spec = zoo[i];
      const model = byId.get(spec.id)!;
      expect(model.thumbnails).toEqual(Array.from({ length: DEMO_THUMBNAILS }, (_, k) => `thumbs/${spec.id}/${k}.webp`));
      for (let k = 0; k < DEMO_THUMBNAILS; k++) {
        const { data, info } = await sharp(join(DEMO, model.thumbnails[k])).raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height]).toEqual([DEMO_THUMBNAIL_SIZE, DEMO_THUMBNAIL_SIZE]);
        const same = meanAbsDiff(data, info.channels, renderSample(spec, k, nodeCanvasFactory, DEMO_THUMBNAIL_SIZE), 4, DEMO_THUMBNAIL_SIZE ** 2);
        const other = meanAbsDiff(data, info.channels, renderSample(spec, k + DEMO_THUMBNAILS, nodeCanvasFactory, DEMO_THUMBNAIL_SIZE), 4, DEMO_THUMBNAIL_SIZE ** 2);
        expect(same, `${spec.id} thumbnail ${k}`).toBeLessThan(8); // WebP quality 70
        expect(other, `${spec.id} thumbnail ${k} vs another sample`).toBeGreaterThan(same);
      }
    }
  });
});
