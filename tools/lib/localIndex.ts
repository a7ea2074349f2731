import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../src/core/io/errors.ts';
import { openIndex, type OpenedIndex } from '../../src/core/index/openIndex.ts';

export interface LocalIndex extends OpenedIndex {
  dir: string;
}

/** Reads an index folder from disk through the same openIndex as the browser: sizes, SHA-256, format, unique ids. */
export async function openLocalIndex(dir: string): Promise<LocalIndex> {
  const read = (file: string, what: string) =>
    readFile(join(dir, file)).then(
      (b) => new Uint8Array(b),
      () => {
        throw new AppError('http', `${what} not found at ${join(dir, file)}.`, join(dir, file));
      },
    );
  const opened = await openIndex({
    where: dir.endsWith('/') ? dir : `${dir}/`,
    manifest: () => read('manifest.json', 'The index manifest'),
    read: (file) => read(file, file),
  });
  return { dir, ...opened };
}
