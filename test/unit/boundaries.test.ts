/**
 * tools/check-boundaries.ts (part of `npm run check`): the real tree passes, and each forbidden
 * import is caught — in memory, and by the CLI on a fixture tree (exit code and message).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkBoundaries, collectFiles, formatViolation, type SourceFile } from '../../tools/check-boundaries.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const CLI = join(REPO, 'tools', 'check-boundaries.ts');

/** The violations of one file, formatted as the CLI prints them. */
function check(path: string, text: string): string[] {
  return checkBoundaries([{ path, text }]).map(formatViolation);
}

describe('the real tree', () => {
  it('has no violations', () => {
    const files = collectFiles(REPO);
    expect(files.some((f) => f.path === 'src/App.svelte')).toBe(true);
    expect(files.some((f) => f.path === 'workers/search.worker.ts')).toBe(true);
    expect(checkBoundaries(files).map(formatViolation)).toEqual([]);
  });
});

describe('forbidden imports', () => {
  it('core → UI, worker, tools, shared, Node', () => {
    const text = [
      "import { AppError } from '../io/errors.ts';", // core → core: fine
      "import { SearchManager } from '../../lib/search.svelte.ts';",
      "import type { FileStore } from '../../../workers/storage/fileStore.ts';",
      "import { NodeEncoder } from '../../../tools/lib/nodeEncoder.ts';",
      "export type { SearchRequest } from '../../shared/protocol.ts';",
      "import { readFile } from 'node:fs/promises';",
      "import MiniSearch from 'minisearch';", // packages are not this check's business
      "const later = () => import('../../components/ResultGrid.svelte');",
    ].join('\n');
    expect(check('src/core/scoring/bad.ts', text)).toEqual([
      'src/core/scoring/bad.ts:2  core → ui: ../../lib/search.svelte.ts',
      'src/core/scoring/bad.ts:3  core → worker: ../../../workers/storage/fileStore.ts',
      'src/core/scoring/bad.ts:4  core → tools: ../../../tools/lib/nodeEncoder.ts',
      'src/core/scoring/bad.ts:5  core → shared: ../../shared/protocol.ts',
      'src/core/scoring/bad.ts:6  core → node: node:fs/promises',
      'src/core/scoring/bad.ts:8  core → ui: ../../components/ResultGrid.svelte',
    ]);
  });

  it('shared → worker and UI', () => {
    const text = "import type { StoredFileMeta } from '../../workers/storage/fileStore.ts';\nimport { x } from '../lib/urlState.ts';";
    expect(check('src/shared/protocol.ts', text)).toEqual([
      'src/shared/protocol.ts:1  shared → worker: ../../workers/storage/fileStore.ts',
      'src/shared/protocol.ts:2  shared → ui: ../lib/urlState.ts',
    ]);
  });

  it('worker → UI', () => {
    const text = "import { ok } from '../src/shared/protocol.ts';\nimport ResultGrid from '../src/components/ResultGrid.svelte';\nimport { searchClient } from '../src/lib/searchClient.ts';";
    expect(check('workers/search.worker.ts', text)).toEqual([
      'workers/search.worker.ts:2  worker → ui: ../src/components/ResultGrid.svelte',
      'workers/search.worker.ts:3  worker → ui: ../src/lib/searchClient.ts',
    ]);
  });

  it('tools → UI and worker', () => {
    const text = "import { topK } from '../src/core/scoring/topK.ts';\nimport { parseUrlState } from '../src/lib/urlState.ts';\nimport { fetchCached } from '../workers/storage/cachedFetch.ts';";
    expect(check('tools/search.ts', text)).toEqual([
      'tools/search.ts:2  tools → ui: ../src/lib/urlState.ts',
      'tools/search.ts:3  tools → worker: ../workers/storage/cachedFetch.ts',
    ]);
  });

  it('UI → worker: only `import type` of the worker entry and its URL', () => {
    const allowed = [
      "import type { SearchWorkerApi } from '../../workers/search.worker.ts';",
      "const w = new Worker(new URL('../../workers/search.worker.ts', import.meta.url), { type: 'module' });",
    ].join('\n');
    expect(check('src/lib/searchClient.ts', allowed)).toEqual([]);

    const forbidden = [
      "import { searchWorkerApi } from '../../workers/search.worker.ts';", // runs the worker on the main thread
      "import { type SearchWorkerApi } from '../../workers/search.worker.ts';", // still loads the module (verbatimModuleSyntax)
      "import type { FileStore } from '../../workers/storage/fileStore.ts';", // not the entry
      "const other = new URL('../../workers/decodeImage.ts', import.meta.url);",
      "const fine = new URL('../app.css', import.meta.url);",
    ].join('\n');
    expect(check('src/lib/searchClient.ts', forbidden)).toEqual([
      'src/lib/searchClient.ts:1  ui → worker: ../../workers/search.worker.ts',
      'src/lib/searchClient.ts:2  ui → worker: ../../workers/search.worker.ts',
      'src/lib/searchClient.ts:3  ui → worker: ../../workers/storage/fileStore.ts',
      'src/lib/searchClient.ts:4  ui → worker: ../../workers/decodeImage.ts',
    ]);
  });

  it('reads the <script> blocks of .svelte files, with their line numbers', () => {
    const text = [
      '<script module lang="ts">',
      "  export const x = 1;",
      '</script>',
      '',
      '<script lang="ts">',
      "  import ResultGrid from './ResultGrid.svelte';",
      "  import { loadIndex } from '../../workers/indexLoader.ts';",
      '</script>',
      '',
      "<p>import x from '../../workers/indexLoader.ts'</p>",
    ].join('\n');
    expect(check('src/components/Bad.svelte', text)).toEqual(['src/components/Bad.svelte:7  ui → worker: ../../workers/indexLoader.ts']);
  });

  it('lets tests import every layer', () => {
    const text = "import { SearchManager } from './search.svelte.ts';\nimport { loadIndex } from '../../workers/indexLoader.ts';";
    expect(check('src/lib/search.svelte.test.ts', text)).toEqual([]);
  });
});

describe('the CLI', () => {
  it('exits 1 and prints each violation on a tree with forbidden imports; 0 once they are gone', async () => {
    const root = await mkdtemp(join(tmpdir(), 'boundaries-'));
    const files: SourceFile[] = [
      { path: 'src/core/scoring/methods.ts', text: "import { SearchManager } from '../../lib/search.svelte.ts';\nexport const m = SearchManager;\n" },
      { path: 'src/lib/search.svelte.ts', text: 'export class SearchManager {}\n' },
      { path: 'src/components/ResultGrid.svelte', text: '<script lang="ts">\n  let n = 1;\n</script>\n<p>{n}</p>\n' },
      { path: 'workers/search.worker.ts', text: "\nimport ResultGrid from '../src/components/ResultGrid.svelte';\n" },
    ];
    try {
      for (const f of files) {
        await mkdir(dirname(join(root, f.path)), { recursive: true });
        await writeFile(join(root, f.path), f.text);
      }
      const bad = await cli(root);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('src/core/scoring/methods.ts:1  core → ui: ../../lib/search.svelte.ts\n');
      expect(bad.stdout).toContain('workers/search.worker.ts:2  worker → ui: ../src/components/ResultGrid.svelte\n');
      expect(bad.stdout).toContain('2 violation(s)');

      await writeFile(join(root, 'src/core/scoring/methods.ts'), 'export const m = 1;\n');
      await writeFile(join(root, 'workers/search.worker.ts'), 'export {};\n');
      const good = await cli(root);
      expect(good).toMatchObject({ code: 0, stdout: 'Import boundaries: 4 files, no violations.\n' });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

function cli(root: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX, CLI, root], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
