import { describe, expect, it } from 'vitest';
import { shouldUseGpu } from '../../workers/gpu/tieredScorer.ts';

describe('shouldUseGpu (workers/gpu/tieredScorer.ts)', () => {
  it('takes a hardware adapter', () => {
    expect(shouldUseGpu({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toMatchObject({ use: true, software: false });
    expect(shouldUseGpu({ vendor: 'apple', architecture: 'metal-3' }).use).toBe(true);
    expect(shouldUseGpu({ vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: false }).use).toBe(true);
  });

  it('refuses software adapters unless forced', () => {
    const soft = [
      { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }, // Chromium's SwiftShader, as CI sees it
      { vendor: 'google', architecture: 'swiftshader' },
      { vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
      { vendor: 'mesa', description: 'lavapipe' },
      { vendor: 'microsoft', description: 'Microsoft Basic Render Driver' },
      { vendor: 'acme', architecture: 'anything', isFallbackAdapter: true },
    ];
    for (const info of soft) {
      const d = shouldUseGpu(info);
      expect(d, JSON.stringify(info)).toMatchObject({ use: false, software: true });
      expect(d.reason).toMatch(/software adapter/);
      expect(shouldUseGpu(info, { force: true })).toMatchObject({ use: true, software: true });
    }
  });

  it('refuses no adapter, even forced', () => {
    expect(shouldUseGpu(null, { force: true })).toMatchObject({ use: false, reason: 'no WebGPU adapter' });
  });

  it('does not mistake names that merely contain the letters of a software rasteriser', () => {
    expect(shouldUseGpu({ vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900 XTX (warpath edition)' }).use).toBe(true);
  });
});
