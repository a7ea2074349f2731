/**
 * The build/merge report: printed on stdout at the end and written as JSON with --json-report.
 */
import { escapeControls } from '../../../src/core/messages.ts';
import { InputError } from './errors.ts';
import { formatDuration } from './progress.ts';

interface SkippedFile {
  /** Path relative to the models folder, `<model-folder>/<file>`. */
  file: string;
  reason: string;
}

interface ModelReport {
  id: string;
  folder?: string;
  /** Valid images the statistics were computed from. */
  images: number;
  embedded: number;
  fromCache: number;
  skipped: number;
  /** The ε actually used (raised from the requested one when jitterSteps > 0). */
  epsilon: number;
  jitterSteps: number;
  samplesKept: number;
  thumbnails: number;
  /** Tiered builds: the record kind chosen (exact low-rank for n ≤ d, PPCA for n > d) and its rank. */
  record?: 'exact' | 'ppca';
  rank?: number;
}

export interface BuildReport {
  command: 'build' | 'merge';
  ok: boolean;
  out: string;
  name: string;
  encoder: { id: string; dim: number };
  shard?: { index: number; count: number };
  /** merge only: the shard folders read. */
  shards?: string[];
  models: ModelReport[];
  /** Models left out of the index (with --skip-invalid), or that failed the build. */
  invalidModels: { id: string; reason: string }[];
  images: { total: number; embedded: number; fromCache: number; skipped: number };
  skipped: SkippedFile[];
  warnings: string[];
  errors: string[];
  seconds: number;
}

export function emptyReport(command: BuildReport['command'], out: string, name: string, encoder: { id: string; dim: number }): BuildReport {
  return {
    command,
    ok: false,
    out,
    name,
    encoder,
    models: [],
    invalidModels: [],
    images: { total: 0, embedded: 0, fromCache: 0, skipped: 0 },
    skipped: [],
    warnings: [],
    errors: [],
    seconds: 0,
  };
}

/**
 * Runs a build or a merge and completes its report: `ok` and the time taken on success; on an
 * InputError, the time, its message and details under `errors`, and the report attached to the
 * error (the CLI prints it and writes it with --json-report).
 */
export async function completeReport(report: BuildReport, run: () => Promise<void>): Promise<BuildReport> {
  const t0 = performance.now();
  try {
    await run();
    report.ok = true;
    return report;
  } catch (err) {
    if (err instanceof InputError) {
      report.errors.push(err.message, ...err.details);
      err.report = report;
    }
    throw err;
  } finally {
    report.seconds = (performance.now() - t0) / 1000;
  }
}

/** The human-readable report (stdout). */
export function formatReport(r: BuildReport): string {
  const lines: string[] = [];
  const what = r.command === 'merge' ? `merged ${r.shards?.length ?? 0} shard(s) into` : 'built';
  const shard = r.shard ? ` (shard ${r.shard.index}/${r.shard.count})` : '';
  if (r.ok) {
    lines.push(`build-index: ${what} ${r.models.length} model(s)${shard} with ${r.encoder.id} (${r.encoder.dim}-d) → ${r.out}`);
  } else {
    lines.push(`build-index: FAILED${shard}, nothing written to ${r.out}`);
  }
  if (r.command === 'build') {
    const { total, embedded, fromCache, skipped } = r.images;
    lines.push(`images: ${total} found, ${embedded} embedded, ${fromCache} from cache, ${skipped} skipped`);
  }
  const kinds = r.models.filter((m) => m.record);
  if (kinds.length) {
    const exact = kinds.filter((m) => m.record === 'exact');
    const ppca = kinds.filter((m) => m.record === 'ppca');
    const ranks = (ms: ModelReport[]) => (ms.length ? ` (rank ${Math.min(...ms.map((m) => m.rank ?? 0))}–${Math.max(...ms.map((m) => m.rank ?? 0))})` : '');
    lines.push(`records: ${exact.length} exact low-rank${ranks(exact)}, ${ppca.length} PPCA${ranks(ppca)}`);
  }
  if (r.skipped.length) {
    lines.push(`skipped files (${r.skipped.length}):`);
    for (const s of r.skipped) lines.push(`  ${s.file}: ${s.reason}`);
  }
  if (r.invalidModels.length) {
    lines.push(`${r.ok ? 'models left out' : 'invalid models'} (${r.invalidModels.length}):`);
    for (const m of r.invalidModels) lines.push(`  ${m.id}: ${m.reason}`);
  }
  if (r.warnings.length) {
    lines.push(`warnings (${r.warnings.length}):`);
    for (const w of r.warnings) lines.push(`  ${w}`);
  }
  const rate = r.command === 'build' && r.seconds > 0 ? `, ${((r.images.embedded + r.images.fromCache) / r.seconds).toFixed(1)} images/s` : '';
  lines.push(`total time ${formatDuration(r.seconds)}${rate}`);
  // File and folder names may hold control characters: one line each, whatever they contain.
  return lines.map(escapeControls).join('\n') + '\n';
}
