/** Probes WebGPU inside the worker: an adapter must exist before we ask ORT for the WebGPU EP. */
export async function probeWebGpu(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const gpu = (self.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { ok: false, reason: 'this browser has no WebGPU' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: 'no WebGPU adapter is available' };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `WebGPU adapter request failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
