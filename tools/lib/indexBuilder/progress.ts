/**
 * Build progress on stderr: a cli-progress bar (images done/total, images/s, ETA) when stderr is
 * a terminal, otherwise one plain line every ~5 s (CI logs, pipes); nothing with --quiet.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number): void;
  /** Adds `n` finished images (embedded, from the cache or skipped). */
  tick(n?: number): void;
  stop(): void;
}

export const silentProgress: Progress = { start() {}, tick() {}, stop() {} };

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

interface Stream {
  isTTY?: boolean;
  write(chunk: string): unknown;
}

export function createProgress(opts: { quiet?: boolean; stream?: Stream; intervalMs?: number; label?: string } = {}): Progress {
  if (opts.quiet) return silentProgress;
  const stream = opts.stream ?? process.stderr;
  const label = opts.label ?? 'images';
  let total = 0;
  let done = 0;
  let started = 0;
  const rate = () => done / Math.max((Date.now() - started) / 1000, 1e-3);

  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WriteStream,
        format: `${label} {bar} {value}/{total} | {rate} img/s | ETA {eta_formatted}`,
        etaBuffer: 50,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    return {
      start(t) {
        total = t;
        started = Date.now();
        bar.start(t, 0, { rate: '0.0' });
      },
      tick(n = 1) {
        done += n;
        bar.update(done, { rate: rate().toFixed(1) });
      },
      stop() {
        bar.stop();
      },
    };
  }

  const interval = opts.intervalMs ?? 5000;
  let last = 0;
  const line = () => {
    const r = rate();
    const pct = total ? ((100 * done) / total).toFixed(0) : '100';
    stream.write(`build-index: ${done}/${total} ${label} (${pct}%), ${r.toFixed(1)} img/s, ETA ${formatDuration((total - done) / r)}\n`);
  };
  return {
    start(t) {
      total = t;
      started = last = Date.now();
    },
    tick(n = 1) {
      done += n;
      const now = Date.now();
      if (now - last >= interval) {
        last = now;
        line();
      }
    },
    stop() {
      if (total > 0 && Date.now() - started >= interval) line();
    },
  };
}
