/**
 * Writes a folder of files atomically, with the same replacement protocol as version 1's
 * writeIndexDir (tools/lib/writeIndexDir.ts): everything goes into a temp folder beside `outDir`,
 * `manifest.json` last, which is renamed into place only when complete; an existing folder (only
 * with `force`) is moved aside to asideDir(outDir) first and removed last, and recoverIndexDir
 * finishes or undoes a replacement a killed build left half done. The tiered builder writes
 * through it.
 */
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { asideDir, recoverIndexDir, type WriteStep } from '../writeIndexDir.ts';

const exists = (path: string) => access(path).then(() => true, () => false);

export async function writeDirAtomically(
  outDir: string,
  files: ReadonlyMap<string, Uint8Array>,
  manifestJson: string,
  opts: { force?: boolean; onStep?: (step: WriteStep) => void | Promise<void> } = {},
): Promise<void> {
  for (const line of await recoverIndexDir(outDir)) console.warn(`[build] ${line}`);
  const step = async (s: WriteStep) => opts.onStep?.(s);
  const present = await exists(outDir);
  if (present && !opts.force) throw new Error(`${outDir} already exists (use --force to replace it).`);
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp, { recursive: true });
  try {
    const made = new Set<string>();
    for (const [path, bytes] of files) {
      const dir = dirname(join(tmp, path));
      if (!made.has(dir)) {
        await mkdir(dir, { recursive: true });
        made.add(dir);
      }
      await writeFile(join(tmp, path), bytes);
    }
    // The manifest goes last: a folder without one is never mistaken for an index.
    await writeFile(join(tmp, 'manifest.json'), manifestJson);
    await step('written');
    if (present) {
      const old = asideDir(outDir);
      await rm(old, { recursive: true, force: true });
      await rename(outDir, old);
      await step('old-moved-aside');
      try {
        await rename(tmp, outDir);
      } catch (err) {
        await rename(old, outDir);
        throw err;
      }
      await step('new-in-place');
      await rm(old, { recursive: true, force: true });
      await step('old-removed');
    } else {
      await rename(tmp, outDir);
      await step('new-in-place');
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
