import { expose } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadProgress, ReadyInfo, SearchRequest, SearchResponse, WorkerConfig } from '../shared/protocol.ts';
import { createSearchClient, type WorkerLike } from './searchClient.ts';

const INFO = { backend: 'wasm', encoderId: 'test', encoderLabel: 'Test', indexName: 'fixture', modelCount: 3, methods: ['first-moment'], examples: [], temperature: 100, wasmThreads: 1, loadMs: 1 } as unknown as ReadyInfo;
const CONFIG = { appBase: 'http://x/', indexUrl: 'http://x/i/', backend: 'auto' } as WorkerConfig;
const REQUEST = { parts: [{ part: { kind: 'text', text: 'red' }, weight: 1 }] } as SearchRequest;
const answer = (label: string) => ({ results: [], label }) as unknown as SearchResponse;

/** A worker stand-in: a comlink API over a MessageChannel, with the Worker's error event and terminate(). */
class FakeWorker extends EventTarget implements WorkerLike {
  static all: FakeWorker[] = [];
  configured: WorkerConfig[] = [];
  terminated = false;
  private port: MessagePort;
  constructor(behaviour: { search?: (r: SearchRequest) => Promise<SearchResponse>; ready?: () => Promise<ReadyInfo>; progress?: boolean }) {
    super();
    const channel = new MessageChannel();
    this.port = channel.port1;
    const self = this;
    expose(
      {
        configure(config: WorkerConfig, onProgress: (p: LoadProgress) => void) {
          self.configured.push(config);
          if (behaviour.progress !== false) onProgress({ status: 'initiate', file: 'index.bin', label: 'Index' } as LoadProgress);
        },
        ready: behaviour.ready ?? (async () => INFO),
        search: behaviour.search ?? (async () => answer(`worker ${FakeWorker.all.indexOf(self)}`)),
      },
      channel.port2,
    );
    this.port.start();
    FakeWorker.all.push(this);
  }
  postMessage(message: unknown, transfer?: Transferable[]) {
    if (!this.terminated) this.port.postMessage(message, transfer ?? []);
  }
  override addEventListener(type: string, fn: EventListenerOrEventListenerObject) {
    if (type === 'message') this.port.addEventListener('message', fn as EventListener);
    else super.addEventListener(type, fn);
  }
  override removeEventListener(type: string, fn: EventListenerOrEventListenerObject) {
    if (type === 'message') this.port.removeEventListener('message', fn as EventListener);
    else super.removeEventListener(type, fn);
  }
  terminate() {
    this.terminated = true;
    this.port.close();
  }
  /** What a browser does when the worker's script fails to load or it throws outside a call. */
  crash(message = '') {
    const e = new Event('error') as Event & { message: string };
    e.message = message;
    this.dispatchEvent(e);
  }
}

const never = () => new Promise<never>(() => {});

afterEach(() => {
  for (const w of FakeWorker.all) w.terminate();
  FakeWorker.all = [];
});

describe('searchClient over a worker that can fail', () => {
  it('a crash rejects the pending search with a retryable worker error; the next search runs in a new, reloaded worker', async () => {
    const behaviours = [{ search: never }, {}];
    const client = createSearchClient(() => new FakeWorker(behaviours.shift()!), { callMs: 10_000, stallMs: 10_000 });
    const progress: LoadProgress[] = [];
    expect(await client.start(CONFIG, (p) => progress.push(p))).toEqual(INFO);
    const pending = client.search(REQUEST);
    FakeWorker.all[0].crash('ReferenceError: x is not defined');
    await expect(pending).rejects.toMatchObject({ code: 'worker', message: expect.stringMatching(/stopped unexpectedly: ReferenceError: x is not defined\. Retry starts it again\./) });
    expect(FakeWorker.all[0].terminated).toBe(true);
    // Retry: a new worker, configured as the first was, answers.
    expect(await client.search(REQUEST)).toMatchObject({ label: 'worker 1' });
    expect(FakeWorker.all[1].configured).toEqual([CONFIG]);
    expect(client.workerStarts).toBe(2);
    expect(progress.length).toBe(2); // the reload reports its progress too
  });

  it('a worker whose script does not load: start rejects, saying it could not start (never "Loading…" forever)', async () => {
    const client = createSearchClient(() => new FakeWorker({ ready: never }), { callMs: 10_000, stallMs: 10_000 });
    const started = client.start(CONFIG, () => {});
    FakeWorker.all[0].crash();
    await expect(started).rejects.toMatchObject({ code: 'worker', message: expect.stringMatching(/could not start \(its script did not load\)\. Reload the page/) });
  });

  it('a search past its deadline ends the worker: a clear error, and the next search gets a fresh worker', async () => {
    const behaviours = [{ search: never }, {}];
    const client = createSearchClient(() => new FakeWorker(behaviours.shift()!), { callMs: 60, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    await expect(client.search(REQUEST)).rejects.toMatchObject({ code: 'worker', message: expect.stringMatching(/did not answer a search within 0 s/) });
    expect(FakeWorker.all[0].terminated).toBe(true);
    expect(await client.search(REQUEST)).toMatchObject({ label: 'worker 1' });
  });

  it('loading with no progress for the stall time fails instead of hanging', async () => {
    const client = createSearchClient(() => new FakeWorker({ ready: never, progress: false }), { callMs: 10_000, stallMs: 60 });
    await expect(client.start(CONFIG, () => {})).rejects.toMatchObject({ code: 'worker', message: expect.stringMatching(/Loading stopped: nothing arrived/) });
    expect(FakeWorker.all[0].terminated).toBe(true);
  });

  it('an aborted search rejects at once with the abort reason and leaves the worker running', async () => {
    const client = createSearchClient(() => new FakeWorker({ search: never }), { callMs: 10_000, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    const controller = new AbortController();
    const pending = client.search(REQUEST, controller.signal);
    controller.abort(new DOMException('aborted', 'AbortError'));
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(FakeWorker.all[0].terminated).toBe(false);
  });
});
