import type { BackendReason } from '../src/shared/protocol.ts';

/** Probes WebGPU inside the worker: an adapter must exist before we ask ORT for the WebGPU EP. */
export async function probeWebGpu(): Promise<{ ok: true } | { ok: false; reason: BackendReason }> {
  const gpu = (self.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { ok: false, reason: { kind: 'no-webgpu' } };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: { kind: 'no-adapter' } };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: { kind: 'adapter-failed', detail: err instanceof Error ? err.message : String(err) } };
  }
}
