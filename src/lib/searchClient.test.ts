import { expose } from 'comlink';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AddModelInput, AddModelOutcome, AddModelProgress, LoadProgress, ReadyInfo, SearchOutcome, SearchRequest, SearchResponse, WorkerConfig } from '../shared/protocol.ts';
import { createSearchClient, type WorkerLike } from './searchClient.ts';

const INFO = { backend: 'wasm', encoderId: 'test', encoderLabel: 'Test', indexName: 'fixture', modelCount: 3, methods: ['first-moment'], examples: [], temperature: 100, wasmThreads: 1, loadMs: 1 } as unknown as ReadyInfo;
const CONFIG = { appBase: 'http://x/', indexUrl: 'http://x/i/', backend: 'auto' } as WorkerConfig;
const REQUEST = { parts: [{ part: { kind: 'text', text: 'red' }, weight: 1 }] } as SearchRequest;
const answer = (label: string) => ({ results: [], label }) as unknown as SearchResponse;
const done = (label: string): SearchOutcome => ({ status: 'done', response: answer(label) });

/** What the fake worker's search sees: its call id and whether the page has cancelled it. */
interface FakeCall {
  id: number;
  readonly cancelled: boolean;
}

/** A worker stand-in: a comlink API over a MessageChannel, with the Worker's error event and terminate(). */
class FakeWorker extends EventTarget implements WorkerLike {
  static all: FakeWorker[] = [];
  configured: WorkerConfig[] = [];
  terminated = false;
  /** Search call ids received, and those the page cancelled. */
  searched: number[] = [];
  cancelled = new Set<number>();
  /** The load's progress callback (the worker keeps it: the image encoder reports through it after ready). */
  loadProgress?: (p: LoadProgress) => void;
  private port: MessagePort;
  constructor(behaviour: {
    search?: (r: SearchRequest, call: FakeCall) => Promise<SearchOutcome>;
    ready?: () => Promise<ReadyInfo>;
    progress?: boolean;
    add?: (input: AddModelInput, call: FakeCall, onProgress: (p: AddModelProgress) => void) => Promise<AddModelOutcome>;
  }) {
    super();
    const channel = new MessageChannel();
    this.port = channel.port1;
    const self = this;
    expose(
      {
        configure(config: WorkerConfig, onProgress: (p: LoadProgress) => void) {
          self.configured.push(config);
          self.loadProgress = onProgress;
          if (behaviour.progress !== false) onProgress({ status: 'initiate', file: 'index.bin', label: 'Index' } as LoadProgress);
        },
        ready: behaviour.ready ?? (async () => INFO),
        search(request: SearchRequest, id: number) {
          self.searched.push(id);
          const call = { id, get cancelled() { return self.cancelled.has(id); } };
          return behaviour.search ? behaviour.search(request, call) : Promise.resolve(done(`worker ${FakeWorker.all.indexOf(self)}`));
        },
        cancel(id: number) {
          self.cancelled.add(id);
        },
        addLocalModel(input: AddModelInput, id: number, onProgress: (p: AddModelProgress) => void) {
          const call = { id, get cancelled() { return self.cancelled.has(id); } };
          return behaviour.add ? behaviour.add(input, call, onProgress) : Promise.resolve({ status: 'refused', reasons: ['no'], skipped: [] });
        },
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

// The browser's words about a failed worker go to the console (for bug reports), kept quiet here.
beforeEach(() => void vi.spyOn(console, 'error').mockImplementation(() => {}));
afterEach(() => {
  for (const w of FakeWorker.all) w.terminate();
  FakeWorker.all = [];
  vi.restoreAllMocks();
});

describe('searchClient over a worker that can fail', () => {
  it('a crash rejects the pending search with a retryable worker error; the next search runs in a new, reloaded worker', async () => {
    const behaviours = [{ search: never }, {}];
    const client = createSearchClient(() => new FakeWorker(behaviours.shift()!), { callMs: 10_000, stallMs: 10_000 });
    const progress: LoadProgress[] = [];
    expect(await client.start(CONFIG, (p) => progress.push(p))).toEqual(INFO);
    const pending = client.search(REQUEST);
    FakeWorker.all[0].crash('ReferenceError: x is not defined');
    // The browser's words ("ReferenceError …") go to the console, not into the sentence a person reads.
    await expect(pending).rejects.toMatchObject({ code: 'worker', message: 'The search engine stopped unexpectedly. Retry starts it again.' });
    expect(console.error).toHaveBeenCalledWith('The search worker failed: ReferenceError: x is not defined');
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
    await expect(client.search(REQUEST)).rejects.toMatchObject({ code: 'worker', message: expect.stringMatching(/did not answer a search within 0\.06 s\. Retry/) });
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

  it('a crash while loading, after the script ran, is "stopped unexpectedly" (Retry), not "could not start"', async () => {
    const client = createSearchClient(() => new FakeWorker({ ready: never }), { callMs: 10_000, stallMs: 10_000 });
    const started = client.start(CONFIG, () => {});
    FakeWorker.all[0].crash('Uncaught TypeError: Cannot read properties of undefined');
    await expect(started).rejects.toMatchObject({ code: 'worker', message: 'The search engine stopped unexpectedly. Retry starts it again.' });
  });

  it('a message from the worker that cannot be read (messageerror) fails the pending call clearly and replaces the worker', async () => {
    const behaviours = [{ search: never }, {}];
    const client = createSearchClient(() => new FakeWorker(behaviours.shift()!), { callMs: 10_000, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    const pending = client.search(REQUEST);
    FakeWorker.all[0].dispatchEvent(new MessageEvent('messageerror'));
    await expect(pending).rejects.toMatchObject({ code: 'worker', message: 'The search engine stopped unexpectedly (a message from it could not be read). Retry starts it again.' });
    expect(await client.search(REQUEST)).toMatchObject({ label: 'worker 1' });
  });

  it('searches that wait for a restarted worker share one load of it', async () => {
    const behaviours = [{}, {}];
    const client = createSearchClient(() => new FakeWorker(behaviours.shift()!), { callMs: 10_000, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    FakeWorker.all[0].crash('Uncaught Error: boom');
    const answers = await Promise.all([client.search(REQUEST), client.search(REQUEST), client.search(REQUEST)]);
    expect(answers.map((a) => (a as unknown as { label: string }).label)).toEqual(['worker 1', 'worker 1', 'worker 1']);
    expect(FakeWorker.all[1].configured).toEqual([CONFIG]);
    expect(client.workerStarts).toBe(2);
  });

  it('setDeadlines shortens the deadline of later calls and refuses a deadline that is not a positive number', async () => {
    const behaviours = [{ search: never }, {}];
    const client = createSearchClient(() => new FakeWorker(behaviours.shift()!));
    await client.start(CONFIG, () => {});
    client.setDeadlines({ callMs: 50 });
    await expect(client.search(REQUEST)).rejects.toMatchObject({ code: 'worker', message: expect.stringMatching(/within 0\.05 s/) });
    for (const bad of [0, -1, NaN, Infinity]) expect(() => client.setDeadlines({ stallMs: bad })).toThrow(/stallMs deadline must be a positive number/);
  });
});

describe('searchClient cancellation reaches the worker', () => {
  /** A worker whose searches wait until `release()`, then stop if cancelled (as the real one's checkpoints do). */
  function gatedWorker() {
    const gates: (() => void)[] = [];
    const outcomes: string[] = [];
    const search = async (r: SearchRequest, call: FakeCall): Promise<SearchOutcome> => {
      await new Promise<void>((resolve) => gates.push(resolve));
      const text = (r.parts[0].part as { text: string }).text;
      outcomes.push(call.cancelled ? `aborted ${text}` : `done ${text}`);
      return call.cancelled ? { status: 'aborted', stage: 'before-score' } : done(text);
    };
    return { search, gates, outcomes };
  }
  const text = (t: string) => ({ parts: [{ part: { kind: 'text', text: t }, weight: 1 }] }) as SearchRequest;

  it('aborting a search sends a cancel for its call id; the worker stops it, stays alive, and the newer search answers', async () => {
    const gated = gatedWorker();
    const client = createSearchClient(() => new FakeWorker({ search: gated.search }), { callMs: 10_000, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    const worker = FakeWorker.all[0];
    const older = new AbortController();
    const first = client.search(text('teal'), older.signal);
    await vi.waitFor(() => expect(worker.searched).toHaveLength(1));
    older.abort();
    // The caller hears at once, with an AbortError (not a failure); the worker hears by call id.
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect([...worker.cancelled]).toEqual(worker.searched));
    const second = client.search(text('crimson'), new AbortController().signal);
    await vi.waitFor(() => expect(worker.searched).toHaveLength(2));
    expect(worker.searched[1]).not.toBe(worker.searched[0]);
    for (const release of gated.gates) release();
    expect(await second).toMatchObject({ label: 'crimson' });
    expect(gated.outcomes).toEqual(['aborted teal', 'done crimson']);
    expect(worker.terminated).toBe(false);
    expect(client.workerStarts).toBe(1);
    expect(client.searchesSent).toBe(2);
  });

  it('a search aborted before the worker is ready is never sent (nothing to encode); the next one is', async () => {
    let ready!: () => void;
    const client = createSearchClient(() => new FakeWorker({ ready: () => new Promise<ReadyInfo>((r) => (ready = () => r(INFO))) }), { callMs: 10_000, stallMs: 10_000 });
    const started = client.start(CONFIG, () => {});
    const controllers = [1, 2, 3].map(() => new AbortController());
    const searches = ['teal', 'crimson', 'snow'].map((t, i) =>
      client.search(text(t), controllers[i].signal).then(
        (r) => (r as unknown as { label: string }).label,
        (e: Error) => e.name,
      ),
    );
    controllers[0].abort();
    controllers[1].abort();
    await vi.waitFor(() => expect(ready).toBeTypeOf('function'));
    ready();
    await started;
    expect(await Promise.all(searches)).toEqual(['AbortError', 'AbortError', 'worker 0']);
    expect(FakeWorker.all[0].searched).toHaveLength(1);
    expect(client.searchesSent).toBe(1);
  });

  it('a result the worker sends after the abort never reaches the caller', async () => {
    let finish!: () => void;
    const client = createSearchClient(
      () => new FakeWorker({ search: () => new Promise<SearchOutcome>((r) => (finish = () => r(done('late')))) }),
      { callMs: 10_000, stallMs: 10_000 },
    );
    await client.start(CONFIG, () => {});
    const controller = new AbortController();
    const result = client.search(text('teal'), controller.signal).then(
      (r) => `resolved ${(r as unknown as { label: string }).label}`,
      (e: Error) => e.name,
    );
    await vi.waitFor(() => expect(FakeWorker.all[0].searched).toHaveLength(1));
    controller.abort();
    finish(); // the worker had already scored it: its answer crosses the cancel
    expect(await result).toBe('AbortError');
  });

  it('an "aborted" answer is an AbortError even when the caller gave no signal, never a result or a failure', async () => {
    const client = createSearchClient(() => new FakeWorker({ search: async () => ({ status: 'aborted', stage: 'before-encode' }) }), { callMs: 10_000, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    await expect(client.search(text('teal'))).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a crash while a cancelled search is still in the worker: the newer search gets a fresh worker and answers', async () => {
    const gated = gatedWorker();
    const behaviours = [{ search: gated.search }, {}];
    const client = createSearchClient(() => new FakeWorker(behaviours.shift()!), { callMs: 10_000, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    const older = new AbortController();
    const first = client.search(text('teal'), older.signal);
    await vi.waitFor(() => expect(FakeWorker.all[0].searched).toHaveLength(1));
    older.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    FakeWorker.all[0].crash('Uncaught Error: boom');
    expect(await client.search(text('crimson'), new AbortController().signal)).toMatchObject({ label: 'worker 1' });
    expect(client.workerStarts).toBe(2);
  });
});

describe('searchClient adding a model', () => {
  const INPUT: AddModelInput = { files: [{ name: 'a.png', blob: new Blob(['a']) }, { name: 'b.png', blob: new Blob(['b']) }] };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('takes longer than the call deadline while progress keeps coming: each event arms it again', async () => {
    const add = async (_: AddModelInput, __: FakeCall, onProgress: (p: AddModelProgress) => void): Promise<AddModelOutcome> => {
      for (let done = 1; done <= 6; done++) {
        await sleep(40);
        onProgress({ stage: 'embedding', done, total: 6, skipped: 0 });
      }
      return { status: 'refused', reasons: ['finished'], skipped: [] };
    };
    const client = createSearchClient(() => new FakeWorker({ add }), { callMs: 150, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    const seen: AddModelProgress[] = [];
    // 6 × 40 ms = 240 ms in all, more than the 150 ms deadline, but never 150 ms without an event.
    expect(await client.addLocalModel(INPUT, undefined, (p) => seen.push(p))).toEqual({ status: 'refused', reasons: ['finished'], skipped: [] });
    // Progress crosses its own channel: the last event may land just after the answer.
    await vi.waitFor(() => expect(seen).toHaveLength(6));
    expect(FakeWorker.all[0].terminated).toBe(false);
  });

  it('no progress for the call deadline ends the worker with a clear error (nothing saved)', async () => {
    const client = createSearchClient(() => new FakeWorker({ add: never }), { callMs: 60, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    await expect(client.addLocalModel(INPUT)).rejects.toMatchObject({ code: 'worker', message: expect.stringMatching(/while adding your model.*Nothing was saved/) });
    expect(FakeWorker.all[0].terminated).toBe(true);
  });

  it('aborting sends a cancel for its call id; the worker answers "aborted" and stays alive', async () => {
    const add = async (_: AddModelInput, call: FakeCall): Promise<AddModelOutcome> => {
      while (!call.cancelled) await sleep(5);
      return { status: 'aborted' };
    };
    const client = createSearchClient(() => new FakeWorker({ add }), { callMs: 10_000, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    const controller = new AbortController();
    const pending = client.addLocalModel(INPUT, controller.signal);
    await sleep(20);
    controller.abort();
    expect(await pending).toEqual({ status: 'aborted' });
    expect(FakeWorker.all[0].cancelled.size).toBe(1);
    expect(FakeWorker.all[0].terminated).toBe(false);
  });

  it('an add aborted before the worker was ready is never sent', async () => {
    let calls = 0;
    const client = createSearchClient(() => new FakeWorker({ add: async () => (calls++, { status: 'aborted' }) }), { callMs: 10_000, stallMs: 10_000 });
    void client.start(CONFIG, () => {});
    const controller = new AbortController();
    controller.abort();
    expect(await client.addLocalModel(INPUT, controller.signal)).toEqual({ status: 'aborted' });
    expect(calls).toBe(0);
  });

  it('load progress after ready (the image encoder in the background) never re-arms the finished load’s stall timer', async () => {
    const client = createSearchClient(() => new FakeWorker({}), { callMs: 10_000, stallMs: 60 });
    await client.start(CONFIG, () => {});
    FakeWorker.all[0].loadProgress!({ status: 'download', file: 'vision.onnx', loaded: 1, total: 2 });
    await sleep(150);
    expect(FakeWorker.all[0].terminated).toBe(false);
  });

  it('the image encoder’s first download (load progress) keeps an add alive past the call deadline', async () => {
    let worker!: FakeWorker;
    const add = async (): Promise<AddModelOutcome> => {
      for (let i = 0; i < 5; i++) {
        await sleep(40);
        worker.loadProgress!({ status: 'download', file: 'vision.onnx', loaded: i, total: 5 });
      }
      return { status: 'aborted' };
    };
    const client = createSearchClient(() => (worker = new FakeWorker({ add })), { callMs: 120, stallMs: 10_000 });
    await client.start(CONFIG, () => {});
    expect(await client.addLocalModel(INPUT)).toEqual({ status: 'aborted' });
    expect(worker.terminated).toBe(false);
  });
});
