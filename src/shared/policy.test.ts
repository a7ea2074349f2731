import { describe, expect, it } from 'vitest';
import { AppError } from '../core/io/errors.ts';
import { allowedHosts, assertAllowed, assertModelHost, DEFAULT_MODEL_HOSTS, hostSourceMatches, parseHostList, redirectError, refusal, type ConnectPolicy } from './policy.ts';

const POLICY: ConnectPolicy = { self: 'https://app.test', hosts: allowedHosts('http://127.0.0.1:4176 https://indexes.example.org') };

function thrown(fn: () => void): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('the allowed origins (one list for the CSP and the worker)', () => {
  it('is the model hosts plus MODEL_SEARCH_CONNECT_SRC, without repeats or anything that is not a host-source', () => {
    expect(allowedHosts(undefined)).toEqual([...DEFAULT_MODEL_HOSTS]);
    expect(allowedHosts("https://huggingface.co https://x.org/path 'self' * http://127.0.0.1:4176,https://a.test")).toEqual([
      ...DEFAULT_MODEL_HOSTS,
      'http://127.0.0.1:4176',
      'https://a.test',
    ]);
    expect(parseHostList('javascript:alert(1) data: https://*.ok.test:8443')).toEqual(['https://*.ok.test:8443']);
  });

  it('matches scheme, host and port like a CSP host-source (stricter: http does not admit https)', () => {
    expect(hostSourceMatches('https://huggingface.co', 'https://huggingface.co')).toBe(true);
    expect(hostSourceMatches('https://huggingface.co', 'https://HuggingFace.co')).toBe(true);
    expect(hostSourceMatches('https://huggingface.co', 'https://huggingface.co:443')).toBe(true);
    expect(hostSourceMatches('https://huggingface.co', 'https://huggingface.co:8443')).toBe(false);
    expect(hostSourceMatches('https://huggingface.co', 'http://huggingface.co')).toBe(false);
    expect(hostSourceMatches('https://huggingface.co', 'https://huggingface.co.evil.test')).toBe(false);
    expect(hostSourceMatches('https://*.hf.co', 'https://cdn-lfs.hf.co')).toBe(true);
    expect(hostSourceMatches('https://*.hf.co', 'https://a.b.hf.co')).toBe(true);
    expect(hostSourceMatches('https://*.hf.co', 'https://hf.co')).toBe(false);
    expect(hostSourceMatches('https://*.hf.co', 'https://evilhf.co')).toBe(false);
    expect(hostSourceMatches('http://127.0.0.1:4176', 'http://127.0.0.1:4176')).toBe(true);
    expect(hostSourceMatches('http://127.0.0.1:4176', 'http://127.0.0.1:4177')).toBe(false);
    expect(hostSourceMatches('http://127.0.0.1:4176', 'http://127.0.0.1')).toBe(false);
    expect(hostSourceMatches("'self'", 'https://app.test')).toBe(false);
  });

  it("allows the app's own origin and listed hosts; refuses other hosts, other schemes and user info", () => {
    expect(refusal('https://app.test/index/demo/manifest.json', POLICY)).toBeUndefined();
    expect(refusal('https://cdn-lfs.huggingface.co/repo/file.onnx', POLICY)).toBeUndefined();
    expect(refusal('http://127.0.0.1:4176/colours/index.bin', POLICY)).toBeUndefined();
    expect(refusal('https://evil.example/x', POLICY)).toBe('host');
    expect(refusal('http://app.test/x', POLICY)).toBe('host'); // not the same origin
    expect(refusal('https://app.test:444/x', POLICY)).toBe('host');
    expect(refusal('https://user:pw@app.test/x', POLICY)).toBe('credentials');
    expect(refusal('https://huggingface.co@evil.example/x', POLICY)).toBe('credentials'); // user info 'huggingface.co'
    expect(refusal('javascript:alert(1)', POLICY)).toBe('not-http');
    expect(refusal('data:text/plain,hi', POLICY)).toBe('not-http');
    expect(refusal('blob:https://app.test/1234', POLICY)).toBe('not-http');
    expect(refusal('file:///etc/passwd', POLICY)).toBe('not-http');
    expect(refusal('not a url', POLICY)).toBe('not-http');
    // Without an origin of its own (Node), only the listed hosts.
    expect(refusal('https://app.test/x', { hosts: POLICY.hosts })).toBe('host');
  });

  it('refusals name the parameter or file, the host, and how a site owner allows a host', () => {
    const index = thrown(() => assertAllowed('https://evil.example/idx/', { param: 'index', value: '//evil.example/idx/' }, POLICY));
    expect(index.code).toBe('bad-query');
    expect(index.message).toBe(
      'The index address in ?index= (“//evil.example/idx/”) is on https://evil.example, a host this site does not allow, so nothing is loaded from it (allowed: this site, https://huggingface.co, https://*.huggingface.co, https://*.hf.co, http://127.0.0.1:4176, https://indexes.example.org). The site\'s owner can allow another host by listing it in MODEL_SEARCH_CONNECT_SRC when building the site (see docs/security.md).',
    );
    expect(index.subject).toBe('https://evil.example/idx/');
    const file = thrown(() => assertAllowed('https://evil.example/t.json', { file: 'Tokenizer t.json' }, POLICY));
    expect(file.message).toMatch(/^Tokenizer t\.json \(https:\/\/evil\.example\/t\.json\) is on https:\/\/evil\.example, a host/);
    const redirect = redirectError('https://huggingface.co/a.onnx', 'https://evil.example/a.onnx', 'a.onnx', { param: 'modelHost', value: 'https://huggingface.co' }, POLICY);
    expect(redirect.message).toMatch(/^a\.onnx \(from \?modelHost=\) was redirected from https:\/\/huggingface\.co to https:\/\/evil\.example, a host this site does not allow, so its contents were not used/);
  });

  it("checks ?modelHost= itself: an http(s) address (relative ones are the app's) on an allowed host, plain", () => {
    const base = 'https://app.test/search/';
    for (const ok of ['https://huggingface.co', 'https://huggingface.co/', 'https://mirror.hf.co/models', 'models/', 'http://127.0.0.1:4176']) {
      expect(() => assertModelHost(ok, base, POLICY), ok).not.toThrow();
    }
    const cases: [string, string][] = [
      ['https://evil.example', 'a host this site does not allow'],
      ['https://huggingface.co.evil.example', 'a host this site does not allow'],
      ['https://huggingface.co@evil.example', 'contains a user name or password'],
      ['https://user:pw@huggingface.co', 'contains a user name or password'],
      ['javascript:alert(1)', 'is not an http(s) address'],
      ['data:text/html,hi', 'is not an http(s) address'],
      ['ftp://huggingface.co', 'is not an http(s) address'],
      ['https://huggingface.co/?x=1', 'without “?” or “#”'],
      ['https://huggingface.co#frag', 'without “?” or “#”'],
      ['http://[::1', 'is not an http(s) address'],
    ];
    for (const [value, words] of cases) {
      const err = thrown(() => assertModelHost(value, base, POLICY));
      expect(err.message, value).toContain('?modelHost=');
      expect(err.message, value).toContain(words);
    }
  });
});
