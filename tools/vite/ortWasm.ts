import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';

/**
 * onnxruntime-web's WebAssembly binaries, one per bundle the search worker may import
 * (workers/ortRuntime.ts): `onnxruntime-web/webgpu` runs its WebGPU and WASM execution providers on
 * the asyncify build (~27 MB); `onnxruntime-web/wasm`, for browsers without WebGPU, on the plain
 * build (~14 MB), which also starts faster. They are the largest downloads of a first visit.
 */
export const ORT_WASM_SPECIFIERS = {
  webgpu: 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm',
  wasm: 'onnxruntime-web/ort-wasm-simd-threaded.wasm',
} as const;

/** The module the worker imports: `{ webgpu, wasm }`, each `{ url, bytes, sha256 }` (workers/virtual-ort-wasm.d.ts). */
export const ORT_WASM_MODULE = 'virtual:ort-wasm';
const RESOLVED = `\0${ORT_WASM_MODULE}`;

export interface OrtWasmPin {
  bytes: number;
  sha256: string;
}

/** Size and SHA-256 of a binary installed in node_modules (what the build ships). */
export function ortWasmPin(specifier: string): OrtWasmPin {
  const bytes = readFileSync(createRequire(import.meta.url).resolve(specifier));
  return { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Provides `virtual:ort-wasm`: each binary's URL (an asset of the build: the same file that
 * onnxruntime-web would fetch itself) with its size and SHA-256 pinned at build time. The worker
 * downloads the one it needs once, with byte progress, keeps it in verified offline storage and
 * hands the bytes to onnxruntime-web (`env.wasm.wasmBinary`), so neither onnxruntime-web nor the
 * service worker fetch it again. Used by the app build and by the worker build (vite.config.ts
 * `worker.plugins`).
 */
export function ortWasmPlugin(): Plugin {
  let code: string | undefined;
  return {
    name: 'model-search-ort-wasm',
    resolveId(id) {
      return id === ORT_WASM_MODULE ? RESOLVED : undefined;
    },
    load(id) {
      if (id !== RESOLVED) return undefined;
      code ??= Object.entries(ORT_WASM_SPECIFIERS)
        .map(([build, specifier]) => {
          const pin = ortWasmPin(specifier);
          return [
            `import ${build}Url from ${JSON.stringify(`${specifier}?url`)};`,
            `export const ${build} = { url: ${build}Url, bytes: ${pin.bytes}, sha256: ${JSON.stringify(pin.sha256)} };`,
          ].join('\n');
        })
        .join('\n');
      return code;
    },
  };
}
