import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { StorageInfo } from '../shared/protocol.ts';

const client = { storageInfo: vi.fn<() => Promise<StorageInfo>>(), clearStorage: vi.fn<() => Promise<StorageInfo>>() };
vi.mock('./searchClient.ts', () => ({ searchClient: client }));

const { StorageManager, formatBytes, storageManager } = await import('./storage.svelte.ts');

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
    client.storageInfo.mockRejectedValue(new Error('the worker stopped'));
    await s.refresh();
    expect(s.info).toEqual(saved);
    expect(s.status).toBe('Could not read offline storage: the worker stopped');
    expect(s.busy).toBe(false);
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
