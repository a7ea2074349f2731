import type { Plugin } from 'vite';

/**
 * The Content-Security-Policy of the built app, shipped as a <meta> tag (static hosts cannot all
 * set headers). Scripts, styles and workers come only from the app's own origin; WebAssembly
 * compilation ('wasm-unsafe-eval') is the one relaxation, needed by onnxruntime-web and the
 * scoring kernels. Network reads are limited to the app, the model host (CLIP weights from the
 * Hugging Face hub and its CDNs) and any extra index/model hosts configured at build time.
 * `frame-ancestors` cannot be set from a meta tag: README.md "Deploy to a static host" gives the header form.
 */
export const DEFAULT_MODEL_HOSTS = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co'];

export interface CspOptions {
  /** Extra origins the app may fetch indexes, thumbnails or model files from. */
  extraHosts?: string[];
  modelHosts?: string[];
}

/** Origins from a space/comma separated list; anything that is not an http(s) origin is dropped. */
export function parseHostList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/[\s,]+/)
    .filter(Boolean)
    .filter((h) => /^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?$/i.test(h));
}

export function contentSecurityPolicy(opts: CspOptions = {}): string {
  const hosts = [...(opts.modelHosts ?? DEFAULT_MODEL_HOSTS), ...(opts.extraHosts ?? [])].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "style-src 'self'",
    `img-src 'self' blob: data: ${hosts}`,
    `connect-src 'self' blob: ${hosts}`,
    "font-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
}

/**
 * Adds the policy to index.html in production builds only (the dev server injects inline scripts
 * for hot reload). Extra hosts come from MODEL_SEARCH_CONNECT_SRC, e.g.
 * `MODEL_SEARCH_CONNECT_SRC="https://indexes.example.org" npm run build`.
 */
export function cspPlugin(opts: CspOptions = {}): Plugin {
  return {
    name: 'model-search-csp',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy({ ...opts, extraHosts: [...(opts.extraHosts ?? []), ...parseHostList(process.env.MODEL_SEARCH_CONNECT_SRC)] }) },
          injectTo: 'head-prepend',
        },
      ],
    },
  };
}
