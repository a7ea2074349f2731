import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_HOSTS, contentSecurityPolicy, cspPlugin, headersFile, parseHostList } from '../../tools/vite/csp.ts';
import { allowedHosts } from '../../src/shared/policy.ts';

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

  it('writes the same policy as a header file for hosts that send headers (which then covers the worker too)', () => {
    const hosts = allowedHosts('https://indexes.example.org');
    const csp = contentSecurityPolicy({ modelHosts: hosts });
    const file = headersFile(csp);
    expect(file.split('\n').slice(1, 4)).toEqual(['/*', `  Content-Security-Policy: ${csp}`, '  X-Content-Type-Options: nosniff']);
    expect(file).toContain('connect-src \'self\' blob: https://huggingface.co https://*.huggingface.co https://*.hf.co https://indexes.example.org;');

    // The plugin's meta tag and _headers carry one policy, built from the list it is given (vite.config.ts
    // gives it the list it also compiles into the worker).
    const plugin = cspPlugin(hosts);
    const emitted: { fileName: string; source: string }[] = [];
    (plugin.generateBundle as unknown as (this: unknown) => void).call({ emitFile: (f: { fileName: string; source: string }) => emitted.push(f) });
    expect(emitted).toEqual([{ type: 'asset', fileName: '_headers', source: file }]);
    const html = plugin.transformIndexHtml as unknown as { handler: () => { attrs: { content: string } }[] };
    expect(html.handler()[0].attrs.content).toBe(csp);
  });
});
