/// <reference path="./virtual-ort-wasm.d.ts" />
import * as ORT_WASM from 'virtual:ort-wasm';
import { downloadFile, type FileStorage } from './download.ts';
import { identityModel } from './identityModel.ts';
import type { Backend, LoadProgress } from '../src/shared/protocol.ts';

/** onnxruntime-web as the worker uses it (both bundles have the same API). */
export type Ort = typeof import('onnxruntime-web/webgpu');

/**
 * One bundle per backend: WebGPU needs `onnxruntime-web/webgpu`, whose binary (~27 MB) runs both of
 * its execution providers (a lost GPU falls back to its WASM provider). Where WebGPU is missing,
 * `onnxruntime-web/wasm` does the same work with a binary half that size, which also starts about
 * three times faster.
 */
const BUNDLES: Record<Backend, () => Promise<Ort>> = {
  webgpu: () => import('onnxruntime-web/webgpu'),
  wasm: () => import('onnxruntime-web/wasm'),
};

/** The offline-storage group of a bundle's binary (both can be kept); its version is the binary's SHA-256. */
export const runtimeGroup = (backend: Backend) => `runtime:onnxruntime-web-${backend}`;

const LABEL: Record<Backend, string> = { webgpu: 'Runtime (onnxruntime-web, WebGPU)', wasm: 'Runtime (onnxruntime-web, WASM)' };

// Without cross-origin isolation (e.g. inside an embed) WASM must run single-threaded: threads need
// SharedArrayBuffer, which browsers give only to isolated pages (COOP + COEP headers).
export const WASM_THREADS = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

let started: Promise<Ort> | undefined;

/**
 * onnxruntime-web for `backend`, loaded and started once per worker (the first backend asked for
 * picks the bundle; the WebGPU bundle also serves a later fall-back to WASM). Called as soon as the
 * backend is known, alongside the index load:
 *
 * 1. Its WebAssembly binary comes from verified offline storage, else it is downloaded with byte
 *    progress (a row of the download list) and saved. The bytes go to onnxruntime-web as
 *    `env.wasm.wasmBinary`, so it fetches nothing itself, and the service worker does not precache
 *    the file: one copy is downloaded, and it is there offline after one visit.
 * 2. onnxruntime-web starts on its first session and has no call that only starts it, so a session
 *    of a one-node model does, as soon as the binary is in: on a warm start that takes most of a
 *    second, which then overlaps the index manifest's round trip and the reads of the other files.
 *    The WASM execution provider is the one every backend needs; WebGPU's own start-up comes with
 *    the encoder's first WebGPU session. A failure to start is left to the encoder's session to
 *    report, with its own message.
 *
 * Sessions must be created only with the module this resolves to. A failed download rejects, and
 * the next call tries again.
 */
export function startOrtRuntime(backend: Backend, storage: FileStorage, progress: (p: LoadProgress) => void): Promise<Ort> {
  started ??= (async () => {
    const binary = ORT_WASM[backend];
    const [ort, bytes] = await Promise.all([
      BUNDLES[backend](),
      downloadFile(
        {
          url: new URL(binary.url, self.location.href).href,
          label: LABEL[backend],
          kind: 'runtime',
          bytes: binary.bytes,
          sha256: binary.sha256,
          group: runtimeGroup(backend),
        },
        storage,
        progress,
      ),
    ]);
    // One file, one version: a new release replaces the old binary.
    await storage.store?.commitGroup(runtimeGroup(backend), binary.sha256, [binary.sha256]);
    ort.env.wasm.wasmBinary = bytes;
    ort.env.wasm.numThreads = WASM_THREADS;
    ort.env.logLevel = 'error';
    try {
      const session = await ort.InferenceSession.create(identityModel(), { executionProviders: ['wasm'], logSeverityLevel: 3 });
      await session.release();
    } catch (err) {
      console.warn('[search worker] onnxruntime-web did not start ahead of the encoder:', err);
    }
    return ort;
  })();
  started.catch(() => (started = undefined));
  return started;
}
