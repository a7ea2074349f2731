import { describe, expect, it, vi } from 'vitest';

// The app's instance wires the real search manager; these tests build their own managers over the fake client.
vi.mock('./searchClient.ts', async () => (await import('../../test/support/fakeSearchClient.ts')).fakeSearchClientModule(['first-moment']));
const { fakeLocalModelsClient, localSummary } = await import('../../test/support/fakeSearchClient.ts');
const { LocalModelsManager } = await import('./localModels.svelte.ts');
const { PERSIST_DENIED } = await import('./localModelNotice.ts');

const png = (name: string) => Object.assign(new Blob([name], { type: 'image/png' }), { name, webkitRelativePath: '' });

function setup(saved = [localSummary('a-1'), localSummary('b-2', { usable: false })], persist = async () => true) {
  const client = fakeLocalModelsClient(saved);
  const changed: number[] = [];
  const saves: { type: string; filename: string }[] = [];
  let next = 0;
  const revoked: string[] = [];
  const manager = new LocalModelsManager({
    client,
    // Each change is recorded with how many of the listed models rank at that moment.
    onChanged: () => changed.push(manager.list.filter((m) => m.usable && !m.shadowed).length),
    save: (_parts, type, filename) => saves.push({ type, filename }),
    persist: vi.fn(persist),
    createUrl: () => `blob:${next++}`,
    revokeUrl: (u) => revoked.push(u),
  });
  return { client, manager, changed, saves, revoked };
}

describe('LocalModelsManager', () => {
  it('lists your models with object URLs for their thumbnails, made once per model', async () => {
    const { manager } = setup();
    await manager.refresh();
    expect(manager.list.map((m) => [m.id, m.thumbs])).toEqual([['a-1', ['blob:0', 'blob:1']], ['b-2', ['blob:2', 'blob:3']]]);
    expect(manager.list[0]).not.toHaveProperty('thumbnails');
    expect(manager.thumbSrc('a-1', 1)).toBe('blob:1');
    expect(manager.thumbSrc('nope', 0)).toBe('');
    expect(manager.list.map((m) => m.usable)).toEqual([true, false]); // b-2 was made with another encoder
    await manager.refresh();
    expect(manager.thumbSrc('b-2', 0)).toBe('blob:2');
  });

  it('knows the damaged records (the panel points to Offline storage); failing to read them keeps the list and the last known', async () => {
    const { manager, client } = setup();
    await manager.refresh();
    expect(manager.damaged).toEqual([]);
    const damaged = vi.fn(async () => [{ key: 'entry:cut-1', reason: 'its embeddings have the wrong size' }, { key: '*', reason: 'could not be read' }]);
    Object.assign(client, { damagedLocalModels: damaged });
    await manager.refresh();
    expect(manager.damaged).toEqual(['entry:cut-1']);
    damaged.mockRejectedValueOnce(new Error('worker gone'));
    await manager.refresh();
    expect([manager.damaged, manager.list.length, manager.status]).toEqual([['entry:cut-1'], 2, '']);
    damaged.mockResolvedValueOnce([]);
    await manager.refresh();
    expect(manager.damaged).toEqual([]);
    manager.damaged = ['entry:x'];
    manager.reset();
    expect(manager.damaged).toEqual([]);
  });

  it('refuses fewer than 2 images before asking the worker', async () => {
    const { client, manager } = setup([]);
    await manager.start([png('a.png'), png('notes.txt')], { name: '', description: '', licence: '' });
    expect(client.adds).toHaveLength(0);
    expect(manager.add.phase).toBe('refused');
    expect(manager.add.text).toMatch(/^Not added: Add at least 2 images/);
  });

  it('an add: progress, then saved with its report; the list and the search follow; persistence is asked once', async () => {
    const { client, manager, changed } = setup([]);
    const done = manager.start([png('b.png'), png('a.png'), png('c.png')], { name: 'Mine', description: '', licence: '' });
    await vi.waitFor(() => expect(client.adds).toHaveLength(1));
    expect(client.adds[0].input.files.map((f) => f.name)).toEqual(['a.png', 'b.png', 'c.png']);
    expect(manager.adding).toBe(true);
    client.adds[0].progress({ stage: 'embedding', done: 2, total: 3, skipped: 1 });
    expect(manager.add).toMatchObject({ phase: 'embedding', done: 2, total: 3, skipped: 1, text: 'Embedding 2 of 3… (1 skipped)' });
    client.adds[0].progress({ stage: 'saving' });
    expect(manager.add.phase).toBe('saving');
    client.adds[0].resolve({ status: 'saved', model: localSummary('mine-12345678', { name: 'Mine' }), skipped: [{ name: 'c.png', reason: 'could not be read as an image' }] });
    await done;
    expect(manager.add).toMatchObject({ phase: 'done', localId: 'mine-12345678', skippedFiles: [{ name: 'c.png', reason: 'could not be read as an image' }] });
    expect(manager.add.text).toBe('Saved “Mine” from 2 images; 1 file skipped.');
    expect(manager.list.map((m) => m.id)).toEqual(['mine-12345678']);
    expect(changed).toEqual([1]);
    expect(manager.persistNote).toBe('');
    // A second save does not ask again.
    const again = manager.start([png('x.png'), png('y.png')], { name: '', description: '', licence: '' });
    await vi.waitFor(() => expect(client.adds).toHaveLength(2));
    client.adds[1].resolve({ status: 'saved', model: localSummary('other-1'), skipped: [] });
    await again;
    expect(changed).toEqual([1, 2]);
  });

  it('persistent storage not granted: the panel says to export', async () => {
    const { client, manager } = setup([], async () => false);
    const done = manager.start([png('a.png'), png('b.png')], { name: '', description: '', licence: '' });
    await vi.waitFor(() => expect(client.adds).toHaveLength(1));
    client.adds[0].resolve({ status: 'saved', model: localSummary('m-1'), skipped: [] });
    await done;
    expect(manager.persistNote).toBe(PERSIST_DENIED);
  });

  it('refused by the worker: its reasons and the skipped files, nothing listed, no re-run', async () => {
    const { client, manager, changed } = setup([]);
    const done = manager.start([png('a.png'), png('b.png')], { name: '', description: '', licence: '' });
    await vi.waitFor(() => expect(client.adds).toHaveLength(1));
    client.adds[0].resolve({ status: 'refused', reasons: ['These images were already added as “Mine”.'], skipped: [{ name: 'b.png', reason: 'duplicate of a.png' }] });
    await done;
    expect(manager.add).toMatchObject({ phase: 'refused', reasons: ['These images were already added as “Mine”.'], skippedFiles: [{ name: 'b.png', reason: 'duplicate of a.png' }] });
    expect(manager.list).toEqual([]);
    expect(changed).toEqual([]);
  });

  it('cancel: the add ends as cancelled, nothing saved, the form is free again', async () => {
    const { client, manager, changed } = setup([]);
    const done = manager.start([png('a.png'), png('b.png')], { name: '', description: '', licence: '' });
    await vi.waitFor(() => expect(client.adds).toHaveLength(1));
    manager.cancel();
    expect(manager.cancelling).toBe(true);
    expect(manager.add.text).toBe('Cancelling…');
    await done;
    expect(client.adds[0].signal?.aborted).toBe(true);
    expect(manager.add).toMatchObject({ phase: 'idle', text: 'Cancelled: nothing was saved.' });
    expect(manager.adding).toBe(false);
    expect(client.saved).toEqual([]);
    expect(changed).toEqual([]);
  });

  it('a worker failure is an error phase with plain words', async () => {
    const { client, manager } = setup([]);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const done = manager.start([png('a.png'), png('b.png')], { name: '', description: '', licence: '' });
    await vi.waitFor(() => expect(client.adds).toHaveLength(1));
    client.adds[0].reject(new TypeError('boom'));
    await done;
    expect(manager.add.phase).toBe('error');
    expect(manager.add.text).toMatch(/^Not added: the browser reported an unexpected error/);
  });

  it('rename keeps the thumbnails; remove asks first, then revokes its URLs and re-runs the search', async () => {
    const { client, manager, changed, revoked } = setup();
    await manager.refresh();
    await manager.rename('a-1', '  New name ');
    expect(manager.list[0]).toMatchObject({ id: 'a-1', name: 'New name', thumbs: ['blob:0', 'blob:1'] });
    expect(manager.status).toBe('Renamed');
    await manager.rename('a-1', '   ');
    expect(manager.status).toBe('A name cannot be empty.');
    await manager.remove('a-1');
    expect(manager.confirming).toBe('a-1');
    expect(client.saved).toHaveLength(2);
    await manager.remove('a-1', true);
    expect(manager.confirming).toBe('');
    expect(manager.list.map((m) => m.id)).toEqual(['b-2']);
    expect(revoked).toEqual(['blob:0', 'blob:1']);
    expect(changed).toEqual([1, 0]); // after the rename (the new name), after the removal
    expect(manager.status).toBe('Removed');
  });

  it('export hands the worker’s file to the download helper', async () => {
    const { client, manager, saves } = setup();
    await manager.export(['a-1', 'b-2'], 'shard');
    expect(client.exports).toEqual([{ ids: ['a-1', 'b-2'], as: 'shard' }]);
    expect(saves).toEqual([{ type: 'application/x-tar', filename: 'my-models.shard.tar' }]);
    expect(manager.status).toBe('Exported my-models.shard.tar');
  });

  it('another tab’s change (a message on the shared channel) refreshes the list and re-runs the search; an unchanged list does not', async () => {
    const { client, manager, changed } = setup([localSummary('a-1')]);
    await manager.refresh();
    const stop = manager.watchOtherTabs('test-local-models');
    const other = new BroadcastChannel('test-local-models');
    try {
      other.postMessage({ type: 'changed' });
      await new Promise((r) => setTimeout(r, 50));
      expect(changed).toEqual([]);
      client.saved.push(localSummary('b-2'));
      other.postMessage({ type: 'changed' });
      await vi.waitFor(() => expect(manager.list.map((m) => m.id)).toEqual(['a-1', 'b-2']));
      expect(changed).toEqual([2]);
    } finally {
      other.close();
      stop();
    }
  });
});
