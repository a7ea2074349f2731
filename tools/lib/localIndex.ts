import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../src/core/io/errors.ts';
import { MAX_UNDECLARED_BYTES } from '../../src/core/io/fetchBytes.ts';
import { openIndex, type OpenedIndex } from '../../src/core/index/openIndex.ts';

export interface LocalIndex extends OpenedIndex {
  dir: string;
}

/**
 * Reads an index folder from disk through the same openIndex as the browser: sizes, SHA-256, format,
 * unique ids. Like the browser's downloads, no file is read past its declared size (the manifest,
 * whose size nothing declares, past MAX_UNDECLARED_BYTES): a huge file is refused from its size.
 */
export async function openLocalIndex(dir: string): Promise<LocalIndex> {
  const read = async (file: string, what: string, declared?: number) => {
    const path = join(dir, file);
    const size = await stat(path).then(
      (s) => (s.isFile() ? s.size : -1),
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new AppError('http', `${what} was not found at ${path}.`, path);
        throw new AppError('http', `${what} at ${path} cannot be read (${err.code ?? err.message}).`, path);
      },
    );
    if (size < 0) throw new AppError('http', `${what} at ${path} is not a file.`, path);
    const limit = declared ?? MAX_UNDECLARED_BYTES;
    if (size > limit) {
      throw new AppError(
        'integrity',
        declared !== undefined
          ? `${file} is larger than the ${declared} bytes declared for it (${size} bytes): the file is a different version.`
          : `${file} is larger than the ${limit} bytes a file of unknown size may have (${size} bytes).`,
        path,
      );
    }
    return new Uint8Array(await readFile(path));
  };
  const opened = await openIndex({
    where: dir.endsWith('/') ? dir : `${dir}/`,
    manifest: () => read('manifest.json', 'The index manifest'),
    read: (file, entry) => read(file, file, entry.bytes),
  });
  return { dir, ...opened };
}
