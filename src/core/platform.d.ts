/*
 * The host globals src/core (and src/shared) may use: only ones that browsers, workers and
 * Node ≥ 20 all provide, and only the members core calls. tsconfig.core.json and
 * tsconfig.shared.json compile with `lib: ["ES2022"]` and `types: []` plus this file, so
 * `document`, `window`, `navigator`, `self`, `process`, `Buffer` and `require` are errors there.
 *
 * Only those two configs include this file. Every other program (worker, app, Node) type-checks
 * core against its own runtime's full declarations (lib.webworker, lib.dom, @types/node), which
 * these must stay a subset of. To use a new global in core: check that all three runtimes have it,
 * then declare the members you need here. If core needs something only one runtime has, it does
 * not belong in core: pass it in from the worker, the UI or the CLI instead.
 */

// URL (encoders.ts, manifest.ts, fetchBytes.ts)
interface URL {
  readonly href: string;
  readonly origin: string;
  readonly protocol: string;
  readonly hostname: string;
}
declare var URL: {
  prototype: URL;
  new (url: string, base?: string): URL;
};

// Timers and cancellation (io/fetchBytes.ts: the stall deadline, following the caller's signal)
declare function setTimeout(handler: () => void, timeout?: number): unknown;
declare function clearTimeout(id: unknown): void;
interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
interface AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}
declare var AbortController: {
  prototype: AbortController;
  new (): AbortController;
};

// fetch and what it returns (io/fetchBytes.ts)
interface Headers {
  get(name: string): string | null;
}
interface ReadableStreamDefaultReader<R> {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: R }>;
  cancel(reason?: unknown): Promise<void>;
}
interface ReadableStream<R> {
  getReader(): ReadableStreamDefaultReader<R>;
  cancel(reason?: unknown): Promise<void>;
}
interface Response {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}
interface RequestInit {
  signal?: AbortSignal;
  /** Request headers (io/fetchBytes.ts sends Range for a partial read). */
  headers?: Record<string, string>;
}
declare function fetch(input: string, init?: RequestInit): Promise<Response>;

// WebCrypto (io/sha256.ts)
interface SubtleCrypto {
  digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}
declare var crypto: { readonly subtle: SubtleCrypto };

// Text decoding (index/openIndex.ts: manifest and model-list JSON)
interface TextDecoder {
  decode(input?: Uint8Array): string;
}
declare var TextDecoder: {
  prototype: TextDecoder;
  new (label?: string): TextDecoder;
};

// Text encoding (index/indexFolder.ts: models.json and manifest.json bytes; io/tar.ts: paths)
interface TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}
declare var TextEncoder: {
  prototype: TextEncoder;
  new (): TextEncoder;
};

// Blob, as a type only (shared/protocol.ts: an image query part the UI sends to the worker)
interface Blob {
  readonly size: number;
  readonly type: string;
}

// Base64 (scoring/simdKernels.ts: the embedded kernel binary)
declare function atob(data: string): string;
declare function btoa(data: string): string;

// WebAssembly (scoring/simdKernels.ts)
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array<ArrayBuffer>);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, never>);
    readonly exports: Record<string, unknown>;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
}
