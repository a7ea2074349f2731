import { describe, expect, it } from 'vitest';
import type { LoadProgress } from '../shared/protocol.ts';
import { applyProgress, downloadTotals, downloadingText, rowBytes, totalLine, type FileProgress } from './downloads.ts';

const MB = 1024 * 1024;
const run = (events: LoadProgress[], from: FileProgress[] = []) => events.reduce(applyProgress, from);

/** A first visit part-way: the runtime downloading, the index done, the tokenizer not started. */
const FIRST_VISIT: LoadProgress[] = [
  { status: 'initiate', file: 'ort.wasm', label: 'Runtime (onnxruntime-web)', kind: 'runtime', total: 27 * MB },
  { status: 'initiate', file: 'index.bin', label: 'Index index.bin', kind: 'index', total: 3 * MB },
  { status: 'download', file: 'ort.wasm', loaded: 0, total: 27 * MB },
  { status: 'download', file: 'index.bin', loaded: 3 * MB, total: 3 * MB },
  { status: 'done', file: 'index.bin' },
  { status: 'download', file: 'ort.wasm', loaded: 12.3 * MB, total: 27 * MB },
  { status: 'initiate', file: 'tokenizer.json', label: 'Tokenizer tokenizer.json', kind: 'tokenizer', total: 3.7 * MB },
];

describe('download list', () => {
  it('follows a file from "waiting" through its bytes to done', () => {
    const files = run(FIRST_VISIT);
    expect(files.map((f) => [f.kind, f.source, f.done])).toEqual([
      ['runtime', 'network', false],
      ['index', 'network', true],
      ['tokenizer', 'pending', false],
    ]);
    expect(files.map(rowBytes)).toEqual(['12.3 of 27.0 MB', '3.0 of 3.0 MB', 'waiting']);
    expect(downloadingText(files)).toBe('Downloading Runtime (onnxruntime-web)…');
    // The tokenizer is not counted until it is known whether it is downloaded.
    expect(downloadTotals(files)).toEqual({ downloaded: 15.3 * MB, total: 30 * MB, saved: 0, pending: 1 });
    expect(totalLine(files)).toBe('Downloaded 15.3 of 30.0 MB');
  });

  it('a saved copy is "from this device", counted apart from downloads, never "Downloading"', () => {
    const files = run([
      { status: 'initiate', file: 'ort.wasm', label: 'Runtime (onnxruntime-web)', kind: 'runtime', total: 27 * MB },
      { status: 'cached', file: 'ort.wasm', bytes: 27 * MB },
      { status: 'done', file: 'ort.wasm' },
      { status: 'initiate', file: 'index.bin', label: 'Index index.bin', kind: 'index', total: 3 * MB },
      { status: 'cached', file: 'index.bin', bytes: 3 * MB },
    ]);
    expect(files.map(rowBytes)).toEqual(['27.0 MB from this device', '3.0 MB from this device']);
    expect(downloadingText(files)).toBe('');
    expect(totalLine(files)).toBe('Nothing to download · 30.0 MB from this device');
    // A file downloaded beside saved ones: both halves of the line.
    const mixed = run([{ status: 'initiate', file: 'text.onnx', label: 'Text encoder', kind: 'encoder', total: 6 * MB }, { status: 'download', file: 'text.onnx', loaded: 2 * MB, total: 6 * MB }], files);
    expect(totalLine(mixed)).toBe('Downloaded 2.0 of 6.0 MB · 30.0 MB from this device');
    expect(downloadingText(mixed)).toBe('Downloading Text encoder…');
  });

  it('a file of unknown size shows its bytes so far; the total then has no "of"', () => {
    const files = run([
      { status: 'initiate', file: 'a.onnx', label: 'A', kind: 'encoder' },
      { status: 'download', file: 'a.onnx', loaded: 1.5 * MB },
      { status: 'initiate', file: 'b.onnx', label: 'B', kind: 'encoder', total: MB },
      { status: 'download', file: 'b.onnx', loaded: MB, total: MB },
    ]);
    expect(files.map(rowBytes)).toEqual(['1.5 MB', '1.0 of 1.0 MB']);
    expect(totalLine(files)).toBe('Downloaded 2.5 MB');
    expect(downloadingText(files)).toBe('Downloading 2 files…');
    // Done, its size is what arrived.
    expect(run([{ status: 'done', file: 'a.onnx' }], files)[0]).toMatchObject({ done: true, total: 1.5 * MB });
  });

  it('starting a file again (a retry) replaces its row; other events leave the rows alone', () => {
    const files = run(FIRST_VISIT);
    const again = run([{ status: 'initiate', file: 'ort.wasm', label: 'Runtime (onnxruntime-web)', kind: 'runtime', total: 27 * MB }], files);
    expect(again.filter((f) => f.file === 'ort.wasm')).toEqual([{ file: 'ort.wasm', label: 'Runtime (onnxruntime-web)', kind: 'runtime', loaded: 0, total: 27 * MB, source: 'pending', done: false }]);
    expect(applyProgress(files, { status: 'warmup', backend: 'wasm' })).toBe(files);
    expect(totalLine([])).toBe('');
    expect(totalLine(run([FIRST_VISIT[0]]))).toBe('Looking for saved copies…');
  });
});
