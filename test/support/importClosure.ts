import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findImports, resolveImport } from '../../tools/check-boundaries.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Every file of ours that `entry` (repo-relative) reaches through its imports, transitively,
 * entry included — read with the boundary checker's parser (static, type, dynamic and
 * `new URL(…, import.meta.url)` imports). Repo-relative paths.
 */
export function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path) || !existsSync(join(ROOT, path))) return;
    seen.add(path);
    for (const { specifier } of findImports({ path, text: readFileSync(join(ROOT, path), 'utf8') })) {
      const { target } = resolveImport(path, specifier);
      if (target && /\.(ts|svelte)$/.test(target)) visit(target);
    }
  };
  visit(entry);
  return [...seen];
}
