import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_HOSTS, contentSecurityPolicy, parseHostList } from '../../tools/vite/csp.ts';

describe('content security policy', () => {
  it('allows only own-origin scripts and styles, and WebAssembly compilation', () => {
    const csp = contentSecurityPolicy();
    const directives = Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives['style-src']).toEqual(["'self'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
    for (const host of DEFAULT_MODEL_HOSTS) expect(directives['connect-src']).toContain(host);
  });

  it('adds configured index hosts to connect-src and img-src, dropping anything that is not an origin', () => {
    const extra = parseHostList("https://indexes.example.org, http://127.0.0.1:4176 'unsafe-inline' javascript:alert(1) https://x.org/path *");
    expect(extra).toEqual(['https://indexes.example.org', 'http://127.0.0.1:4176']);
    const csp = contentSecurityPolicy({ extraHosts: extra });
    expect(csp).toContain("connect-src 'self' blob: https://huggingface.co https://*.huggingface.co https://*.hf.co https://indexes.example.org http://127.0.0.1:4176");
    expect(csp).toMatch(/img-src [^;]*http:\/\/127\.0\.0\.1:4176/);
  });
});
