/**
 * Import boundaries between the layers (README "Architecture"). Part of `npm run check`.
 *
 *   npx tsx tools/check-boundaries.ts [root]
 *
 * Reads every .ts/.js/.svelte file under src/, workers/, tools/ and test/ (plus the root configs),
 * extracts its imports with the TypeScript parser (the <script> blocks of .svelte files via the
 * Svelte parser), resolves the relative ones to a layer and checks them against ALLOWED below.
 * Prints each violation as `file:line  importer-layer → imported-layer: specifier` and exits 1.
 *
 * Counted as imports: static imports and re-exports, `import type`, dynamic `import()`,
 * `import('…')` types, and `new URL('…', import.meta.url)` (how Vite references a worker or an asset).
 * Package imports are not checked here, except Node's built-ins (layer `node`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseSvelte } from 'svelte/compiler';
import ts from 'typescript';

export type Layer = 'core' | 'shared' | 'worker' | 'ui' | 'tools' | 'tests' | 'config' | 'node';

/** Where each layer lives, first match wins (paths relative to the repository root). */
export function layerOf(file: string): Layer | null {
  if (/\.(test|spec)\.[cm]?[jt]s$/.test(file) || file.startsWith('test/')) return 'tests';
  if (file.startsWith('src/core/')) return 'core';
  if (file.startsWith('src/shared/')) return 'shared';
  if (file.startsWith('src/')) return 'ui';
  if (file.startsWith('workers/')) return 'worker';
  if (file.startsWith('tools/')) return 'tools';
  if (/^[^/]+\.config\.[cm]?[jt]s$/.test(file)) return 'config';
  return null;
}

/** The worker's entry: the one worker module the UI may name, as a `new URL(…)` or in `import type`. */
export const WORKER_ENTRY = 'workers/search.worker.ts';

/**
 * The rules: which layers each layer may import. Everything not listed is a violation.
 * core is pure and imports nothing of ours; shared (the client↔worker protocol) builds on core only;
 * the worker and the UI meet only through shared, except the UI's reference to WORKER_ENTRY;
 * the CLIs reuse core (and shared), never the UI or the worker.
 */
export const ALLOWED: Record<Layer, readonly Layer[]> = {
  core: ['core'],
  shared: ['shared', 'core'],
  worker: ['worker', 'shared', 'core'],
  ui: ['ui', 'shared', 'core'], // + WORKER_ENTRY: type-only imports and its `new URL(…)`
  tools: ['tools', 'shared', 'core', 'node'],
  config: ['config', 'tools', 'shared', 'core', 'node'],
  tests: ['tests', 'core', 'shared', 'worker', 'ui', 'tools', 'config', 'node'],
  node: [],
};

export type ImportKind = 'import' | 'import type' | 'dynamic import' | 'url';

export interface FoundImport {
  specifier: string;
  line: number;
  kind: ImportKind;
}

export interface Violation {
  file: string;
  line: number;
  from: Layer;
  to: Layer;
  specifier: string;
}

export interface SourceFile {
  /** Relative to the repository root, '/'-separated. */
  path: string;
  text: string;
}

/** The imports of one file (see the header for what counts). */
export function findImports(file: SourceFile): FoundImport[] {
  let text = file.text;
  let kind = ts.ScriptKind.TS;
  if (file.path.endsWith('.svelte')) {
    text = svelteScripts(file);
  } else if (/\.[cm]?js$/.test(file.path)) {
    kind = ts.ScriptKind.JS;
  }
  const source = ts.createSourceFile(file.path, text, ts.ScriptTarget.Latest, true, kind);
  const found: FoundImport[] = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined, importKind: ImportKind) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push({ specifier: literal.text, line, kind: importKind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ? 'import type' : 'import');
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly ? 'import type' : 'import');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly ? 'import type' : 'import');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, 'import type');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], 'dynamic import');
    } else if (ts.isNewExpression(node) && isUrlOfModule(node)) {
      add(node, node.arguments![0], 'url');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `new URL('<literal>', import.meta.url)` */
function isUrlOfModule(node: ts.NewExpression): boolean {
  const [first, second] = node.arguments ?? [];
  return (
    ts.isIdentifier(node.expression) &&
    node.expression.text === 'URL' &&
    first !== undefined &&
    ts.isStringLiteralLike(first) &&
    second !== undefined &&
    ts.isPropertyAccessExpression(second) &&
    second.name.text === 'url' &&
    ts.isMetaProperty(second.expression) &&
    second.expression.keywordToken === ts.SyntaxKind.ImportKeyword
  );
}

/** The file's text with everything but its <script> contents blanked (line numbers stay put). */
function svelteScripts(file: SourceFile): string {
  const ast = parseSvelte(file.text, { modern: true, filename: file.path });
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  let out = '';
  let at = 0;
  const scripts = [ast.module, ast.instance].filter((s) => s != null).sort((a, b) => a.start - b.start);
  for (const script of scripts) {
    const { start, end } = script.content as unknown as { start: number; end: number };
    out += blank(file.text.slice(at, start)) + file.text.slice(start, end);
    at = end;
  }
  return out + blank(file.text.slice(at));
}

/** The layer a specifier written in `importer` points at, and the file (null for packages). */
export function resolveImport(importer: string, specifier: string): { target: string | null; layer: Layer | null } {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const bare = specifier.replace(/[?#].*$/, ''); // Vite suffixes: ?url, ?worker, ?raw
    const target = specifier.startsWith('/') ? bare.slice(1) : path.posix.join(path.posix.dirname(importer), bare);
    return { target, layer: target.startsWith('../') ? null : layerOf(target) };
  }
  return { target: null, layer: isBuiltin(specifier) ? 'node' : null };
}

/** Every import in `files` that its layer's rule forbids. */
export function checkBoundaries(files: readonly SourceFile[]): Violation[] {
  const violations: Violation[] = [];
  for (const file of files) {
    const from = layerOf(file.path);
    if (!from) continue;
    for (const imp of findImports(file)) {
      const { target, layer: to } = resolveImport(file.path, imp.specifier);
      if (!to || ALLOWED[from].includes(to)) continue;
      const workerEntry = from === 'ui' && target === WORKER_ENTRY && (imp.kind === 'import type' || imp.kind === 'url');
      if (workerEntry) continue;
      violations.push({ file: file.path, line: imp.line, from, to, specifier: imp.specifier });
    }
  }
  return violations;
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}  ${v.from} → ${v.to}: ${v.specifier}`;
}

const SCANNED_DIRS = ['src', 'workers', 'tools', 'test'];
const SOURCE_FILE = /\.([cm]?[jt]s|svelte)$/;
const SKIPPED = new Set(['node_modules', 'dist', '.cache']);

/** The files the check reads under `root`. */
export function collectFiles(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(path.join(root, dir), { withFileTypes: true });
    } catch {
      return; // a folder a fixture tree lacks
    }
    for (const e of entries) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (dir && !SKIPPED.has(e.name) && !e.name.startsWith('.')) walk(rel);
        else if (!dir && SCANNED_DIRS.includes(e.name)) walk(rel);
      } else if (e.isFile() && SOURCE_FILE.test(e.name) && !e.name.endsWith('.d.ts') && (dir || layerOf(rel))) {
        files.push({ path: rel, text: readFileSync(path.join(root, rel), 'utf8') });
      }
    }
  };
  walk('');
  return files;
}

/** Checks the tree at `root`; returns the exit code. */
export function main(root: string, log: (line: string) => void = console.log): number {
  const files = collectFiles(root);
  const violations = checkBoundaries(files);
  for (const v of violations) log(formatViolation(v));
  if (violations.length > 0) {
    log(`Import boundaries: ${violations.length} violation(s) in ${files.length} files; the rules are in tools/check-boundaries.ts (ALLOWED).`);
    return 1;
  }
  log(`Import boundaries: ${files.length} files, no violations.`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  process.exitCode = main(root);
}
