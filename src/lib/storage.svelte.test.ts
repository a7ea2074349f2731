import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { StorageInfo } from '../shared/protocol.ts';

const client = {
  storageInfo: vi.fn<() => Promise<StorageInfo>>(),
  clearStorage: vi.fn<() => Promise<StorageInfo>>(),
  removeDamagedLocalModels: vi.fn<() => Promise<StorageInfo>>(),
};
vi.mock('./searchClient.ts', () => ({ searchClient: client }));

const { StorageManager, formatBytes, storageManager } = await import('./storage.svelte.ts');
const { AppError } = await import('../core/io/errors.ts');

const saved: StorageInfo = {
  available: true,
  files: [{ sha256: 'a', label: 'Index', bytes: 2048, group: 'index/demo', url: 'http://x/i/index.bin' }],
  totalBytes: 2048,
} as StorageInfo;
const empty: StorageInfo = { ...saved, files: [], totalBytes: 0 };

describe('StorageManager', () => {
  beforeEach(() => {
    client.storageInfo.mockReset();
    client.clearStorage.mockReset();
    client.removeDamagedLocalModels.mockReset();
  });

  it('reads what is saved, then clears it', async () => {
    const s = new StorageManager();
    client.storageInfo.mockResolvedValue(saved);
    const reading = s.refresh();
    expect(s.busy).toBe(true);
    await reading;
    expect([s.info, s.busy, s.status]).toEqual([saved, false, '']);
    client.clearStorage.mockResolvedValue(empty);
    await s.clear();
    expect([s.info, s.status]).toEqual([empty, 'Cleared']);
  });

  it('says why storage could not be read, and keeps what it had', async () => {
    const s = new StorageManager();
    client.storageInfo.mockResolvedValue(saved);
    await s.refresh();
    client.storageInfo.mockRejectedValue(new AppError('worker', 'The search engine stopped unexpectedly. Retry starts it again.'));
    await s.refresh();
    expect(s.info).toEqual(saved);
    expect(s.status).toBe('Could not read offline storage: The search engine stopped unexpectedly. Retry starts it again.');
    expect(s.busy).toBe(false);
  });

  it('does not say "Cleared" while files are still saved (a store that failed to delete)', async () => {
    const s = new StorageManager();
    client.clearStorage.mockResolvedValue(saved);
    await s.clear();
    expect(s.info).toEqual(saved);
    expect(s.status).toBe('Could not clear offline storage: 1 file is still saved.');
  });

  it('never shows a raw internal error, and says which action failed', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const s = new StorageManager();
    client.storageInfo.mockRejectedValue(new TypeError("Cannot read properties of undefined (reading 'estimate')"));
    await s.refresh();
    expect(s.status).toBe('Could not read offline storage: the browser reported an unexpected error (details in the console).');
    client.clearStorage.mockRejectedValue(new DOMException('Access is denied', 'SecurityError'));
    await s.clear();
    expect(s.status).toBe('Could not clear offline storage: the browser reported an unexpected error (details in the console).');
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });

  it('removes damaged models only after a confirmation, and says so only when none is left', async () => {
    const s = new StorageManager();
    const damaged: StorageInfo = { ...saved, localDamaged: [{ key: 'entry:mine-1', reason: 'its embeddings have the wrong size' }] };
    await s.removeDamaged();
    expect(s.confirmingDamaged).toBe(true);
    expect(client.removeDamagedLocalModels).not.toHaveBeenCalled();
    client.removeDamagedLocalModels.mockResolvedValueOnce(saved);
    await s.removeDamaged(true);
    expect([s.confirmingDamaged, s.info, s.status]).toEqual([false, saved, 'Removed the damaged models']);
    client.removeDamagedLocalModels.mockResolvedValueOnce(damaged);
    await s.removeDamaged(true);
    expect(s.status).toBe('Could not remove one damaged record: it is still saved.');
    client.removeDamagedLocalModels.mockRejectedValueOnce(new AppError('worker', 'The browser refused.'));
    await s.removeDamaged(true);
    expect([s.info, s.status]).toEqual([damaged, 'Could not remove the damaged models: The browser refused.']);
    await s.removeDamaged();
    s.reset();
    expect(s.confirmingDamaged).toBe(false);
  });

  it('only the newest action writes its outcome; reset() forgets everything', async () => {
    const s = new StorageManager();
    let answerOld!: (i: StorageInfo) => void;
    client.storageInfo.mockReturnValueOnce(new Promise((r) => (answerOld = r)));
    const old = s.refresh();
    client.clearStorage.mockResolvedValue(empty);
    await s.clear();
    answerOld(saved);
    await old;
    expect([s.info, s.status, s.busy]).toEqual([empty, 'Cleared', false]);
    s.reset();
    expect([s.info, s.status, s.busy]).toEqual([null, '', false]);
    expect(storageManager).toBeInstanceOf(StorageManager);
  });

  it('formats sizes as the panel shows them', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(5 * 1024 * 1024)]).toEqual(['0 B', '1023 B', '1.5 kB', '5.0 MB']);
  });
});
