import { afterEach, describe, expect, it, vi } from 'vitest';

const client = {
  loseDevice: vi.fn(async () => true),
  encodeImage: vi.fn(async () => new Float32Array([0.5, -0.5])),
  preprocessImage: vi.fn(async () => new Float32Array([1, 2, 3])),
};
vi.mock('./searchClient.ts', () => ({ searchClient: client }));

const { installDebugHooks } = await import('./debugHooks.ts');
type Target = { modelSearchDebug?: import('./debugHooks.ts').ModelSearchDebug };

describe('debug hooks', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('are installed only with ?debug', () => {
    const target: Target = {};
    expect(installDebugHooks('?q=red', target)).toBe(false);
    expect(target.modelSearchDebug).toBeUndefined();
    expect(installDebugHooks('?q=red&debug=1', target)).toBe(true);
    expect(Object.keys(target.modelSearchDebug!).sort()).toEqual(['crashWorker', 'encodeImage', 'loseDevice', 'preprocessImage', 'workerStarts']);
  });

  it('answer with plain arrays the tests can read across page.evaluate', async () => {
    const image = new Blob(['png'], { type: 'image/png' });
    vi.stubGlobal('fetch', vi.fn(async () => ({ blob: async () => image })));
    const target: Target = {};
    installDebugHooks('?debug', target);
    const hooks = target.modelSearchDebug!;
    expect(await hooks.loseDevice()).toBe(true);
    expect(await hooks.encodeImage('parity/a.png')).toEqual([0.5, -0.5]);
    expect(client.encodeImage).toHaveBeenCalledWith(image);
    expect(await hooks.preprocessImage('parity/a.png')).toEqual([1, 2, 3]);
    expect(fetch).toHaveBeenCalledWith('parity/a.png');
  });
});
