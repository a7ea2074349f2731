/**
 * The procedural zoo renders the same pixels in a browser (OffscreenCanvas, Chromium's Skia) as in
 * Node (@napi-rs/canvas, Skia): `tools/zoo/render.ts` is bundled with esbuild, injected into the
 * page, and its samples compared with Node's.
 */
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { build } from 'esbuild';
import { makeZoo, STYLES, type ZooModelSpec } from '../../tools/zoo/spec.ts';
import { renderSample } from '../../tools/zoo/render.ts';
import { strokeSketch } from '../../tools/zoo/sketch.ts';
import { nodeCanvasFactory } from '../../tools/zoo/node.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function bundle(): Promise<string> {
  const out = await build({
    stdin: {
      contents: [
        "export { renderSample } from './tools/zoo/render.ts';",
        "export { strokeSketch } from './tools/zoo/sketch.ts';",
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
      sourcefile: 'zoo-entry.ts',
    },
    bundle: true,
    format: 'iife',
    globalName: 'zooRender',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  return out.outputFiles[0]!.text;
}

/** One eval model per style (plus a few more), so every style op runs in both engines. */
function specs(): ZooModelSpec[] {
  const zoo = makeZoo('eval', 300);
  const out: ZooModelSpec[] = [];
  for (const st of STYLES) {
    const m = zoo.find((z) => z.style === st.id && !out.includes(z));
    if (m) out.push(m);
  }
  return out.concat(zoo.slice(0, 4));
}

test('renderSample in Chromium (OffscreenCanvas) matches Node (@napi-rs/canvas)', async ({ page }, info) => {
  test.skip(info.project.name !== 'wasm', 'canvas parity runs once, in the wasm project');
  const code = await bundle();
  // A blank page: the app's own pages forbid inline scripts (CSP), and this test needs none of the app.
  await page.setContent('<!doctype html><title>zoo render</title>');
  await page.addScriptTag({ content: code });
  const list = specs();
  const seeds = [0, 1_000_000];
  for (const spec of list) {
    for (const seed of seeds) {
      const [browserB64, sketchB64] = await page.evaluate(
        ({ spec, seed }) => {
          const g = globalThis as unknown as {
            zooRender: {
              renderSample: (s: unknown, seed: number, f: (w: number, h: number) => OffscreenCanvas) => Uint8ClampedArray;
              strokeSketch: (s: unknown, seed: number, f: (w: number, h: number) => OffscreenCanvas) => Uint8ClampedArray;
            };
          };
          const factory = (w: number, h: number) => new OffscreenCanvas(w, h);
          const b64 = (px: Uint8ClampedArray) => {
            let s = '';
            for (let i = 0; i < px.length; i += 0x8000) s += String.fromCharCode(...px.subarray(i, i + 0x8000));
            return btoa(s);
          };
          return [b64(g.zooRender.renderSample(spec, seed, factory)), b64(g.zooRender.strokeSketch(spec, seed, factory))];
        },
        { spec, seed },
      );
      const compare = (b64: string, node: Uint8ClampedArray, what: string) => {
        const browser = Buffer.from(b64, 'base64');
        expect(browser.length, what).toBe(node.length);
        let sum = 0;
        for (let i = 0; i < node.length; i++) sum += Math.abs(browser[i]! - node[i]!);
        const mad = sum / node.length;
        info.annotations.push({ type: 'mean |Δ|', description: `${what}: ${mad.toFixed(3)}` });
        expect(mad, `${what}: mean |Δ| = ${mad.toFixed(3)} grey levels`).toBeLessThanOrEqual(2);
      };
      compare(browserB64, renderSample(spec, seed, nodeCanvasFactory), `${spec.id} (${spec.style}) seed ${seed}`);
      compare(sketchB64, strokeSketch(spec, seed, nodeCanvasFactory), `${spec.id} stroke sketch seed ${seed}`);
    }
  }
});
