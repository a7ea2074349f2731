/** Worker thread of export-training-data.ts: renders models w, w + workers, … and posts them back. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ZooModelSpec } from './spec.ts';
import { cachedEncoder, exportModel, type CaptionContext } from './export-training-data.ts';

const { zoo, S, C, w, workers, cap } = workerData as { zoo: ZooModelSpec[]; S: number; C: number; w: number; workers: number; cap: CaptionContext };
const encode = cachedEncoder();
for (let m = w; m < zoo.length; m += workers) {
  const chunk = exportModel(zoo[m]!, m, S, C, encode, cap);
  parentPort!.postMessage(chunk, [chunk.img.buffer as ArrayBuffer, chunk.sk.buffer as ArrayBuffer, chunk.cap.buffer as ArrayBuffer]);
}
