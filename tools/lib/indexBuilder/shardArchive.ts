/**
 * `build-index merge` accepts a shard as a `.tar` of its folder (what the app's "export shard"
 * downloads, src/core/io/tar.ts): each archive is read with readTar's checks (no absolute or
 * escaping paths, regular files only, checksums, limits) and extracted into a temporary folder
 * beside --out, which the merge then reads like any shard folder and which is removed afterwards.
 * Messages name the archive, not the temporary folder.
 */
import { mkdir, mkdtemp, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { DEFAULT_TAR_LIMITS, readTar, TarError, type TarLimits } from '../../../src/core/io/tar.ts';
import { quote } from '../../../src/core/messages.ts';
import { InputError } from './errors.ts';

/** A shard as merge reads it: `dir` holds its files, `label` names it in messages (the folder or the archive). */
export interface ShardSource {
  dir: string;
  label: string;
}

/** Whether `path` is a shard archive (a file named *.tar) rather than a shard folder. */
export async function isShardArchive(path: string): Promise<boolean> {
  if (!/\.tar$/i.test(path)) return false;
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Extracts `archive` into a new folder under `parent`; returns the folder holding manifest.json
 * (the archive's root, or its one top-level folder when it was made from the folder itself).
 */
async function extractArchive(archive: string, into: string, limits: TarLimits): Promise<string> {
  const size = (await stat(archive)).size;
  const maxBytes = limits.maxBytes ?? DEFAULT_TAR_LIMITS.maxBytes;
  // Headers and padding add to the contents; twice the limit bounds any honest archive.
  if (size > 2 * maxBytes) throw new TarError(`the archive is larger than ${2 * maxBytes} bytes`);
  const files = readTar(new Uint8Array(await readFile(archive)), limits);
  const root = resolve(into);
  for (const f of files) {
    const target = resolve(root, f.path);
    if (!target.startsWith(root + sep)) throw new TarError(`tar entry ${quote(f.path)}: the path leaves the folder`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.bytes, { flag: 'wx' });
  }
  if (files.some((f) => f.path === 'manifest.json')) return root;
  const tops = new Set(files.map((f) => f.path.split('/')[0]));
  if (tops.size === 1) {
    const [top] = tops;
    if (files.some((f) => f.path === `${top}/manifest.json`)) return join(root, top!);
  }
  throw new TarError('the archive has no manifest.json (a shard archive holds an index folder: manifest.json, index.bin, models.json, thumbs/)');
}

/**
 * Runs `fn` with every shard as a folder: folders as they are, `.tar` archives extracted into
 * temporary folders beside `outDir` (named like writeIndexDir's temp folders, so a killed merge's
 * leftovers are removed by the next write there). The temporary folders are removed when `fn`
 * settles. An unreadable or unsafe archive is an InputError naming it.
 */
export async function withShardFolders<T>(
  outDir: string,
  shards: readonly string[],
  fn: (sources: ShardSource[]) => Promise<T>,
  limits: TarLimits = {},
): Promise<T> {
  const temps: string[] = [];
  let madeParent: string | undefined; // the first folder mkdir created for --out's parent, if any
  try {
    const sources: ShardSource[] = [];
    for (const shard of shards) {
      if (!(await isShardArchive(shard))) {
        sources.push({ dir: shard, label: shard });
        continue;
      }
      const out = resolve(outDir);
      madeParent ??= await mkdir(dirname(out), { recursive: true });
      const temp = await mkdtemp(join(dirname(out), `.${basename(out)}.tmp-${process.pid}-shard-`));
      temps.push(temp);
      try {
        sources.push({ dir: await extractArchive(shard, temp, limits), label: shard });
      } catch (err) {
        const why = err instanceof TarError ? err.message : `cannot be extracted (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
        throw new InputError(`shard archive ${shard}: ${why}`);
      }
    }
    try {
      return await fn(sources);
    } catch (err) {
      // Messages about an extracted shard name its archive, not the temporary folder.
      if (err instanceof Error) {
        const named = (text: string) => sources.reduce((t, s) => (s.dir === s.label ? t : t.split(s.dir).join(s.label)), text);
        err.message = named(err.message);
        if (err instanceof InputError) (err.details as string[]).forEach((d, i, all) => (all[i] = named(d)));
      }
      throw err;
    }
  } finally {
    for (const temp of temps) await rm(temp, { recursive: true, force: true });
    // Folders made only to hold the temporary ones go too (rmdir leaves a non-empty one, e.g. with the output).
    if (madeParent) {
      for (let dir = dirname(resolve(outDir)); dir.length >= madeParent.length; dir = dirname(dir)) {
        if (!(await rmdir(dir).then(() => true, () => false))) break;
      }
    }
  }
}
