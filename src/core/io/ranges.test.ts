/**
 * Range reads against a real static server with Range support (sirv, what `vite preview` uses) and
 * against hosts that ignore, shift or lie about ranges (issue 15, "Hosting that works").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRangeServer } from '../../../tools/lib/rangeServer.ts';
import { fetchBytes, HostRangeError } from './fetchBytes.ts';
import { coalesceRanges, fetchRanges } from './ranges.ts';

const FILE = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) & 255);

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

describe('HTTP Range reads', () => {
  let dir: string;
  let close: () => void;
  let base: string;
  const requests: string[] = [];
  // Per path prefix, how the host behaves in front of the real static server.
  const hosts: Record<string, Handler> = {
    // Ignores Range: the whole file with 200.
    '/ignore/': (req, _res, next) => {
      delete req.headers.range;
      next();
    },
    // Shifts every range by 10 bytes but says it sent what was asked.
    '/shift/': (req, res) => {
      const [a, b] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!.slice(1).map(Number) as [number, number];
      res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${FILE.length}`, 'Content-Length': String(b - a + 1) });
      res.end(FILE.subarray(a + 10, b + 11));
    },
    // Answers another range than asked, honestly labelled.
    '/other/': (req, res) => {
      const [a, b] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!.slice(1).map(Number) as [number, number];
      res.writeHead(206, { 'Content-Range': `bytes ${a + 1}-${b + 1}/${FILE.length}` });
      res.end(FILE.subarray(a + 1, b + 2));
    },
    // No Content-Range at all.
    '/bare/': (req, res) => {
      const [a, b] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!.slice(1).map(Number) as [number, number];
      res.writeHead(206);
      res.end(FILE.subarray(a, b + 1));
    },
    // Sends fewer bytes than its Content-Range says.
    '/short/': (req, res) => {
      const [a, b] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!.slice(1).map(Number) as [number, number];
      res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${FILE.length}` });
      res.end(FILE.subarray(a, b - 5));
    },
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ranges-'));
    writeFileSync(join(dir, 'records.bin'), FILE);
    ({ base, close } = await startRangeServer(dir, (req, res, serve) => {
      requests.push(`${req.url} ${req.headers.range ?? ''}`);
      const prefix = Object.keys(hosts).find((p) => req.url!.startsWith(p));
      if (prefix) req.url = req.url!.slice(prefix.length - 1);
      if (prefix) hosts[prefix]!(req, res, serve);
      else serve();
    }));
  });
  afterAll(() => {
    close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads exactly the asked bytes from a host with real Range support', async () => {
    const got = await fetchBytes(`${base}/records.bin`, { range: { start: 100, end: 1100, fileBytes: FILE.length } });
    expect(got).toEqual(FILE.subarray(100, 1100));
    expect(requests.at(-1)).toBe('/records.bin bytes=100-1099');
  });

  it('reads several ranges in coalesced requests, each back in the asked order', async () => {
    const before = requests.length;
    const ranges = [
      { start: 4000, end: 4100 },
      { start: 10, end: 20 },
      { start: 20, end: 60 }, // adjacent to the previous: one request
      { start: 70, end: 90 }, // 10 bytes later: merged with maxGap 16
      { start: 3000, end: 3001 },
    ];
    const got = await fetchRanges(`${base}/records.bin`, ranges, { maxGap: 16, fileBytes: FILE.length });
    got.forEach((bytes, i) => expect(bytes).toEqual(FILE.subarray(ranges[i]!.start, ranges[i]!.end)));
    // Requests go out together (RANGE_CONCURRENCY at once): their arrival order is the network's.
    expect(requests.slice(before).sort()).toEqual(['/records.bin bytes=10-89', '/records.bin bytes=3000-3000', '/records.bin bytes=4000-4099']);
  });

  it('keeps at most `concurrency` requests in flight, and one failure cancels the rest and fails the read', async () => {
    let inFlight = 0;
    let most = 0;
    const aborted: number[] = [];
    const ranges = Array.from({ length: 20 }, (_, i) => ({ start: i * 200, end: i * 200 + 100 }));
    const slow = (fail?: number): typeof fetch => async (input, init) => {
      const start = Number(/bytes=(\d+)-/.exec(String(new Headers(init?.headers).get('range')))![1]);
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, start === fail ? 5 : 30);
          init?.signal?.addEventListener('abort', () => (clearTimeout(t), aborted.push(start), reject(init.signal!.reason)), { once: true });
        });
      } finally {
        inFlight--;
      }
      if (start === fail) return new Response(FILE.subarray(0, 10), { status: 200 });
      return fetch(input, init);
    };
    const got = await fetchRanges(`${base}/records.bin`, ranges, { fileBytes: FILE.length, concurrency: 4, fetchImpl: slow() });
    got.forEach((bytes, i) => expect(bytes).toEqual(FILE.subarray(ranges[i]!.start, ranges[i]!.end)));
    expect(most).toBe(4);
    // The 6th request's host ignores Range: the read fails with that error, and the requests in flight are cancelled.
    most = 0;
    const err = await fetchRanges(`${base}/records.bin`, ranges, { fileBytes: FILE.length, concurrency: 4, fetchImpl: slow(1000) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostRangeError);
    expect((err as HostRangeError).reason).toBe('ignored');
    expect(aborted.length).toBeGreaterThan(0);
    expect(inFlight).toBe(0);
  });

  it('a host that ignores Range is told apart (HostRangeError "ignored"), without reading the whole file', async () => {
    const err = await fetchBytes(`${base}/ignore/records.bin`, { range: { start: 0, end: 10 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostRangeError);
    expect((err as HostRangeError).reason).toBe('ignored');
    expect((err as Error).message).toMatch(/ignores HTTP Range requests.*one file per block/);
  });

  it('a host that shifts ranges and says it did not is caught by the content, not by its headers', async () => {
    // The headers look right; the bytes are 10 further on. Only the block hash can catch this
    // (tieredRecords.openBlock); here the bytes differ from the file's.
    const got = await fetchBytes(`${base}/shift/records.bin`, { range: { start: 0, end: 100 } });
    expect(got).not.toEqual(FILE.subarray(0, 100));
  });

  it('refuses another range, a missing Content-Range, a short body, a wrong file size and a range past the end', async () => {
    const reason = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof HostRangeError ? e.reason : (e as Error).message));
    expect(await reason(fetchBytes(`${base}/other/records.bin`, { range: { start: 0, end: 100 } }))).toBe('wrong-range');
    expect(await reason(fetchBytes(`${base}/bare/records.bin`, { range: { start: 0, end: 100 } }))).toBe('wrong-range');
    expect(await reason(fetchBytes(`${base}/short/records.bin`, { range: { start: 0, end: 100 } }))).toMatch(/has 94 bytes, expected 100/);
    expect(await reason(fetchBytes(`${base}/records.bin`, { range: { start: 0, end: 100, fileBytes: 4999 } }))).toBe('wrong-range');
    expect(await reason(fetchBytes(`${base}/records.bin`, { range: { start: 6000, end: 6100 } }))).toBe('unsatisfiable');
    expect(await reason(fetchBytes(`${base}/records.bin`, { range: { start: 10, end: 10 } }))).toMatch(/not a non-empty range/);
  });
});

describe('coalesceRanges', () => {
  it('covers every asked range exactly once, never overlaps, and merges within maxGap', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.integer({ min: 1, max: 50 })), { minLength: 1, maxLength: 30 }), fc.nat(20), (pairs, gap) => {
        const ranges = pairs.map(([s, l]) => ({ start: s, end: s + l }));
        const merged = coalesceRanges(ranges, gap);
        expect(merged.flatMap((m) => m.parts).sort((a, b) => a - b)).toEqual(ranges.map((_, i) => i));
        for (const m of merged) for (const i of m.parts) expect(ranges[i]!.start >= m.start && ranges[i]!.end <= m.end).toBe(true);
        for (let i = 1; i < merged.length; i++) expect(merged[i]!.start).toBeGreaterThan(merged[i - 1]!.end + gap);
      }),
    );
  });
});
