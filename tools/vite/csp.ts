import type { Plugin } from 'vite';
import { allowedHosts, DEFAULT_MODEL_HOSTS, parseHostList } from '../../src/shared/policy.ts';

/**
 * The Content-Security-Policy of the built app. Scripts, styles and workers come only from the app's
 * own origin; WebAssembly compilation ('wasm-unsafe-eval') is the one relaxation, needed by
 * onnxruntime-web and the scoring kernels. Network reads are limited to the app and the allowed
 * hosts of src/shared/policy.ts (the CLIP model host, i.e. the Hugging Face hub and its CDNs, plus
 * any extra index/model hosts configured at build time), the same list the search worker enforces
 * itself.
 *
 * It ships twice: as a <meta> tag in index.html (every static host serves that, but it covers the
 * page only, not the search worker) and as dist/_headers (Netlify / Cloudflare Pages), whose header
 * also covers the worker script. `frame-ancestors` cannot be set from a meta tag: docs/security.md
 * gives the header forms for other servers.
 */
export { DEFAULT_MODEL_HOSTS, parseHostList };

export interface CspOptions {
  /** Extra origins the app may fetch indexes, thumbnails or model files from. */
  extraHosts?: string[];
  modelHosts?: readonly string[];
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
 * dist/_headers (the format of Netlify and Cloudflare Pages): the same policy as the meta tag, as a
 * header on every file, so it also covers the search worker's script and with it every fetch the
 * worker makes; plus `nosniff`. Other servers: docs/security.md.
 */
export function headersFile(csp: string): string {
  return ['# Written by `npm run build` (tools/vite/csp.ts) from the same host list as the meta tag. See docs/security.md.', '/*', `  Content-Security-Policy: ${csp}`, '  X-Content-Type-Options: nosniff', ''].join('\n');
}

/**
 * Adds the policy to index.html and writes dist/_headers, in production builds only (the dev server
 * injects inline scripts for hot reload). `hosts` is the full allowed list (allowedHosts() of
 * src/shared/policy.ts), the one vite.config.ts also compiles into the worker; by default the model
 * hosts plus MODEL_SEARCH_CONNECT_SRC, e.g.
 * `MODEL_SEARCH_CONNECT_SRC="https://indexes.example.org" npm run build`.
 */
export function cspPlugin(hosts: readonly string[] = allowedHosts(process.env.MODEL_SEARCH_CONNECT_SRC)): Plugin {
  const csp = contentSecurityPolicy({ modelHosts: hosts });
  return {
    name: 'model-search-csp',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: csp }, injectTo: 'head-prepend' }],
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: '_headers', source: headersFile(csp) });
    },
  };
}
