import { afterEach, describe, expect, it, vi } from 'vitest';

const counts = { searches: 3, encodes: 2, scorings: 1, aborted: { 'before-encode': 1, 'before-score': 1, 'before-return': 0 }, held: 0 };
const client = {
  workerStarts: 1,
  searchesSent: 3,
  workerCounts: vi.fn(async () => counts),
  holdAt: vi.fn(async () => {}),
  setDeadlines: vi.fn(),
  crash: vi.fn(async () => {}),
  hang: vi.fn(async () => {}),
  breakMessages: vi.fn(),
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
    expect(Object.keys(target.modelSearchDebug!).sort()).toEqual([
      'breakWorkerMessages',
      'crashWorker',
      'encodeImage',
      'gpuScoring',
      'hangWorker',
      'holdAdd',
      'holdSearches',
      'listLocalModels',
      'localModelSource',
      'loseDevice',
      'preprocessImage',
      'searchesSent',
      'setDeadlines',
      'workerCounts',
      'workerStarts',
    ]);
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

  it('reach the search client: counts, holds, deadlines and worker faults', async () => {
    const target: Target = {};
    installDebugHooks('?debug', target);
    const hooks = target.modelSearchDebug!;
    expect(hooks.workerStarts()).toBe(1);
    expect(hooks.searchesSent()).toBe(3);
    expect(await hooks.workerCounts()).toEqual(counts);
    await hooks.holdSearches('before-score');
    expect(client.holdAt).toHaveBeenCalledWith('before-score');
    hooks.setDeadlines({ callMs: 2000 });
    expect(client.setDeadlines).toHaveBeenCalledWith({ callMs: 2000 });
    await hooks.crashWorker();
    await hooks.hangWorker();
    hooks.breakWorkerMessages();
    expect([client.crash, client.hang, client.breakMessages].map((f) => f.mock.calls.length)).toEqual([1, 1, 1]);
  });
});
