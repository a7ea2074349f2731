/**
 * The pins the first visit relies on: onnxruntime-web's binaries as the build ships them
 * (tools/vite/ortWasm.ts) and the tokenizer files (src/core/encode/encoders.ts), both checked by
 * size and SHA-256 before the worker uses or saves them.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENCODERS } from '../../src/core/encode/encoders.ts';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { ORT_WASM_MODULE, ORT_WASM_SPECIFIERS, ortWasmPin, ortWasmPlugin } from '../../tools/vite/ortWasm.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const require = createRequire(import.meta.url);

/** The file a bundler gets for each `import 'onnxruntime-web/…'` the worker makes (package.json "exports": import → default). */
const BUNDLES = { webgpu: 'ort.webgpu.bundle.min.mjs', wasm: 'ort.wasm.bundle.min.mjs' } as const;

describe("onnxruntime-web's binaries", () => {
  it.each(Object.entries(BUNDLES) as [keyof typeof BUNDLES, string][])('the %s bundle fetches exactly the binary pinned for it', async (build, file) => {
    const dist = dirname(require.resolve(ORT_WASM_SPECIFIERS[build]));
    const { exports } = JSON.parse(await readFile(join(dist, '..', 'package.json'), 'utf8')) as { exports: Record<string, { import: { default: string } }> };
    expect(exports[`./${build}`].import.default).toBe(`./dist/${file}`);
    const bundle = await readFile(join(dist, file), 'utf8');
    const wasmName = ORT_WASM_SPECIFIERS[build].split('/').pop()!;
    // It names no other binary: a different build would not match the pinned one.
    expect([...new Set(bundle.match(/ort-wasm[\w.-]*\.wasm/g))]).toEqual([wasmName]);
  });

  it('each is pinned by the size and SHA-256 of the installed file', async () => {
    for (const specifier of Object.values(ORT_WASM_SPECIFIERS)) {
      const bytes = await readFile(require.resolve(specifier));
      expect(ortWasmPin(specifier)).toEqual({ bytes: bytes.byteLength, sha256: sha256(bytes) });
    }
    // The WASM-only binary is the smaller download.
    expect(ortWasmPin(ORT_WASM_SPECIFIERS.wasm).bytes).toBeLessThan(ortWasmPin(ORT_WASM_SPECIFIERS.webgpu).bytes * 0.6);
  });

  it('virtual:ort-wasm exports both build URLs with their pins', async () => {
    const plugin = ortWasmPlugin();
    const resolveId = plugin.resolveId as (id: string) => string | undefined;
    const load = plugin.load as (id: string) => string | undefined;
    const id = resolveId(ORT_WASM_MODULE)!;
    expect(resolveId('onnxruntime-web')).toBeUndefined();
    const code = load(id)!;
    for (const [build, specifier] of Object.entries(ORT_WASM_SPECIFIERS)) {
      const { bytes, sha256: hash } = ortWasmPin(specifier);
      expect(code).toContain(`import ${build}Url from "${specifier}?url";`);
      expect(code).toContain(`export const ${build} = { url: ${build}Url, bytes: ${bytes}, sha256: "${hash}" };`);
    }
    expect(load('something-else')).toBeUndefined();
  });
});

describe('tokenizer pins', () => {
  it('match the files in public/ for every encoder that pins them', async () => {
    const pinned = Object.values(ENCODERS).filter((e) => e.tokenizer.pinned);
    expect(pinned.length).toBe(Object.keys(ENCODERS).length);
    for (const desc of pinned) {
      for (const part of ['json', 'config'] as const) {
        const bytes = new Uint8Array(await readFile(join(PUBLIC_DIR, desc.tokenizer[part])));
        expect({ bytes: bytes.byteLength, sha256: sha256(bytes) }, `${desc.id} ${part}`).toEqual(desc.tokenizer.pinned![part]);
      }
    }
  });
});
