/**
 * The kernel experiments (tools/bench/experiments/, a lab notebook run by hand) still run: each
 * on a tiny size, as a child process like `npx tsx …`, printing its table with every variant.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const run = promisify(execFile);

async function experiment(file: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [TSX, join(REPO, 'tools', 'bench', 'experiments', file), ...args], { cwd: REPO, timeout: 60_000 });
  return stdout;
}

describe('bench experiments run on a tiny size', () => {
  it('gd-variants: every variant, checked against the f64 reference', async () => {
    const out = await experiment('gd-variants.ts', '4');
    expect(out).toContain('N = 4 (d = 512');
    for (const v of ['js-f16-table', 'js-f32-acc4', 'wasm-f16-src', 'wasm-f16-sext-qs-mask', 'wasm-f32-acc4']) expect(out).toMatch(new RegExp(`\\| ${v} \\|`));
    // the variants that compute the right thing agree with the reference to float32 rounding
    const diffs = [...out.matchAll(/^\| ([\w-]+) \|[^\n]*\| (\d\.\de[+-]\d+) \|$/gm)];
    expect(diffs).toHaveLength(11); // 13 variants, 2 wrong on purpose
    for (const m of diffs) expect(Number(m[2]), m[1]).toBeLessThan(1e-6);
  });

  it('fm-variants: every variant agrees with src/core', async () => {
    const out = await experiment('fm-variants.ts', '16');
    expect(out).toContain('N = 16');
    const diffs = [...out.matchAll(/^\| (js-src|js-acc4|js-acc8|wasm-simd) \|.*\| (\S+) \|$/gm)];
    expect(diffs.map((m) => m[1])).toEqual(['js-src', 'js-acc4', 'js-acc8', 'wasm-simd']);
    for (const m of diffs) expect(Number(m[2]), m[1]).toBeLessThan(1e-6);
  });

  it('roofline-loops: one row of GB/s per buffer size', async () => {
    const out = await experiment('roofline-loops.ts', '0.25');
    const row = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(row.MiB).toBe(0.25);
    for (const k of ['f32x1', 'f32x8', 'f64x4', 'f64x8', 'i32xor8', 'copy']) expect(Number(row[k]), k).toBeGreaterThan(0);
  });
});
