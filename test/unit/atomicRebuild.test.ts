import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import { asideDir, recoverIndexDir, writeIndexDir, type WriteStep } from '../../tools/lib/writeIndexDir.ts';
import { readIndexDir } from '../support/build/fixtures.ts';
import { killedRebuild } from '../support/build/killedRebuild.ts';
import { tinyIndexInput } from '../support/build/tinyIndex.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'atomic-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a --force rebuild killed at any step leaves a complete index at --out', () => {
  // The index that --out holds once recovery has run: the old one until the new one was in place.
  const expected: Record<WriteStep, 'old' | 'new'> = { written: 'old', 'old-moved-aside': 'old', 'new-in-place': 'new', 'old-removed': 'new' };
  for (const [step, survivor] of Object.entries(expected) as [WriteStep, 'old' | 'new'][]) {
    it(`killed after "${step}": the ${survivor} index, complete, and nothing left beside it`, async () => {
      const parent = join(root, step);
      const outDir = join(parent, 'index');
      await writeIndexDir(outDir, tinyIndexInput('old'));
      expect(await killedRebuild(outDir, step)).toBe('killed');
      // What the next build (or anything that writes the index) does first.
      await recoverIndexDir(outDir);
      const dir = await readIndexDir(outDir); // parses the manifest, index.bin and models.json
      expect(dir.manifest.name).toBe(survivor);
      expect(dir.manifest.files['index.bin'].sha256).toBe(await sha256Hex(dir.bin));
      expect(dir.manifest.files['models.json'].sha256).toBe(await sha256Hex(new TextEncoder().encode(dir.modelsJson)));
      expect(await readdir(parent)).toEqual(['index']);
      // And the next rebuild goes through.
      expect(await killedRebuild(outDir, 'none')).toBe('finished');
      expect((await readIndexDir(outDir)).manifest.name).toBe('new');
      expect(await readdir(parent)).toEqual(['index']);
    });
  }

  it('a write runs the recovery itself: the previous index is back before --force is considered', async () => {
    const parent = join(root, 'self');
    const outDir = join(parent, 'index');
    await writeIndexDir(outDir, tinyIndexInput('old'));
    expect(await killedRebuild(outDir, 'old-moved-aside')).toBe('killed');
    expect(await readdir(parent)).toContain('.index.old');
    // Without --force the restored index is an existing folder, kept.
    await expect(writeIndexDir(outDir, tinyIndexInput('third'))).rejects.toThrow(/already exists/);
    expect(JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')).name).toBe('old');
    expect(await readdir(parent)).toEqual(['index']);
    expect(asideDir(outDir)).toBe(join(parent, '.index.old'));
  });
});
