import type { BackendReason } from '../shared/protocol.ts';

/** The words a person reads for why the encoder runs on WASM (the worker sends the reason as data). */
export function describeBackendReason(r: BackendReason): string {
  switch (r.kind) {
    case 'requested':
      return 'WASM was requested (?backend=wasm)';
    case 'no-webgpu':
      return 'this browser has no WebGPU';
    case 'no-adapter':
      return 'no WebGPU adapter is available';
    case 'adapter-failed':
      return `WebGPU adapter request failed: ${r.detail}`;
    case 'session-failed':
      return `WebGPU session could not be created (${r.detail})`;
    case 'run-failed':
      return `WebGPU failed (${r.detail})`;
    case 'device-lost':
      return `WebGPU device lost (${r.detail})`;
  }
}
