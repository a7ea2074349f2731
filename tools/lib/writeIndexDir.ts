import { access, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { IndexManifest } from '../../src/core/index/manifest.ts';
import { serialiseIndexFolder, type IndexDirInput } from '../../src/core/index/indexFolder.ts';

export type { IndexDirInput } from '../../src/core/index/indexFolder.ts';

class OutputExistsError extends Error {}

/** The steps of replacing a folder, in order (writeIndexDir's `onStep` hears each as it completes). */
export type WriteStep = 'written' | 'old-moved-aside' | 'new-in-place' | 'old-removed';

const exists = (path: string) => access(path).then(() => true, () => false);
/** Where the previous index waits while the new one is renamed into place (one fixed name, so a later run finds it). */
export const asideDir = (outDir: string) => join(dirname(outDir), `.${basename(outDir)}.old`);
const TMP_PREFIX = (outDir: string) => `.${basename(outDir)}.tmp-`;

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * Finishes or undoes a replacement that a killed build left half done, so `outDir` holds a complete
 * index again: the previous index moved aside but the new one not yet in place → the previous one
 * goes back; both in place → the aside copy goes. Temp folders of dead builds are removed. Returns
 * what it did, for the build's log.
 */
export async function recoverIndexDir(outDir: string): Promise<string[]> {
  const done: string[] = [];
  const aside = asideDir(outDir);
  if (await exists(aside)) {
    if (await exists(outDir)) {
      await rm(aside, { recursive: true, force: true });
      done.push(`removed ${aside}, left by a build that was stopped after replacing ${outDir}`);
    } else {
      await rename(aside, outDir);
      done.push(`restored the previous index to ${outDir} from ${aside} (a build was stopped half-way through replacing it)`);
    }
  }
  const parent = dirname(outDir);
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(TMP_PREFIX(outDir))) continue;
    // `.<name>.tmp-<pid>-<time>`: a live build's folder is left alone.
    const pid = Number(name.slice(TMP_PREFIX(outDir).length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    done.push(`removed the unfinished ${join(parent, name)}`);
  }
  return done;
}

/** How a folder is replaced: `force` allows replacing an existing one; `onStep` hears each step (tests stop the process there). */
export interface WriteDirOptions {
  force?: boolean;
  onStep?: (step: WriteStep) => void | Promise<void>;
}

/**
 * The first half of an atomic write: finishes or undoes a replacement a killed build left half done
 * (recoverIndexDir), then refuses an existing `outDir` without `force`. Returns whether `outDir`
 * exists (and so is to be replaced). Separate from replaceDir so a writer refuses before it does
 * any expensive work.
 */
async function claimDir(outDir: string, force = false): Promise<boolean> {
  for (const line of await recoverIndexDir(outDir)) console.warn(`[build] ${line}`);
  const present = await exists(outDir);
  if (present && !force) throw new OutputExistsError(`${outDir} already exists (use --force to replace it).`);
  return present;
}

/**
 * The second half: writes `files` (by path relative to the folder) and then `manifestJson` as
 * manifest.json into a temp folder beside `outDir`, which is renamed into place only when complete;
 * a `present` folder is moved aside to asideDir(outDir) first and removed last.
 */
async function replaceDir(
  outDir: string,
  present: boolean,
  files: Iterable<readonly [string, Uint8Array]>,
  manifestJson: string,
  onStep?: WriteDirOptions['onStep'],
): Promise<void> {
  const step = async (s: WriteStep) => onStep?.(s);
  const tmp = join(dirname(outDir), `${TMP_PREFIX(outDir)}${process.pid}-${Date.now()}`);
  await mkdir(tmp, { recursive: true });
  try {
    const made = new Set<string>([tmp]);
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
        await rename(old, outDir); // the previous index goes back before the error is reported
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

/**
 * Writes a folder of files atomically: `files` and then `manifestJson` as manifest.json go into a
 * temp folder beside `outDir`, which is renamed into place only when complete, so a crash never
 * leaves a half-written index. Replacing an existing folder (only with `force`) moves it aside to
 * asideDir(outDir) first and removes it last; a build stopped between those renames is finished or
 * undone by recoverIndexDir, which every write runs first, so `outDir` is always the previous
 * complete folder or the new one. writeIndexDir (version 1) and the tiered builder
 * (tools/lib/indexBuilder/tieredAssemble.ts) both write through this protocol.
 */
export async function writeDirAtomically(
  outDir: string,
  files: Iterable<readonly [string, Uint8Array]>,
  manifestJson: string,
  opts: WriteDirOptions = {},
): Promise<void> {
  const present = await claimDir(outDir, opts.force);
  await replaceDir(outDir, present, files, manifestJson, opts.onStep);
}

/**
 * Writes manifest.json + index.bin + models.json (+ extra files) into `outDir` atomically, as
 * writeDirAtomically does; an existing folder without `force` is refused before the index is
 * serialised or calibrated.
 */
export async function writeIndexDir(outDir: string, input: IndexDirInput, opts: WriteDirOptions = {}): Promise<IndexManifest> {
  const present = await claimDir(outDir, opts.force);
  const { files, manifest, manifestJson } = await serialiseIndexFolder(input);
  await replaceDir(outDir, present, files, manifestJson, opts.onStep);
  return manifest;
}
