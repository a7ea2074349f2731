import { describe, expect, it } from 'vitest';
import { allowedHosts } from './policy.ts';
import { DEMO_INDEX, readSiteDefaults } from './siteDefaults.ts';

const hosts = allowedHosts('https://indexes.example.org http://127.0.0.1:4176');

describe('readSiteDefaults: the index and model host a site builds in', () => {
  it('defaults to the demo index and the worker’s model host', () => {
    expect(readSiteDefaults({}, hosts)).toEqual({ index: DEMO_INDEX, modelHost: undefined });
    expect(readSiteDefaults({ MODEL_SEARCH_DEFAULT_INDEX: '  ', MODEL_SEARCH_MODEL_HOST: '' }, hosts)).toEqual({ index: DEMO_INDEX, modelHost: undefined });
  });

  it('takes a relative index folder (adding the slash) or an allowed http(s) one, and an allowed model host', () => {
    expect(readSiteDefaults({ MODEL_SEARCH_DEFAULT_INDEX: 'index/my-clip' }, hosts).index).toBe('index/my-clip/');
    expect(readSiteDefaults({ MODEL_SEARCH_DEFAULT_INDEX: 'https://indexes.example.org/clip/' }, hosts).index).toBe('https://indexes.example.org/clip/');
    expect(readSiteDefaults({ MODEL_SEARCH_MODEL_HOST: 'http://127.0.0.1:4176/' }, hosts).modelHost).toBe('http://127.0.0.1:4176');
    expect(readSiteDefaults({ MODEL_SEARCH_MODEL_HOST: 'https://cdn-lfs.hf.co/mirror' }, hosts).modelHost).toBe('https://cdn-lfs.hf.co/mirror');
  });

  it('fails the build, naming the variable, for a value the app could not use', () => {
    const cases: [Record<string, string>, string][] = [
      [{ MODEL_SEARCH_DEFAULT_INDEX: '/abs/index/' }, 'MODEL_SEARCH_DEFAULT_INDEX=/abs/index/: give a folder relative to the app'],
      [{ MODEL_SEARCH_DEFAULT_INDEX: '../outside/' }, 'give a folder relative to the app'],
      [{ MODEL_SEARCH_DEFAULT_INDEX: 'https://elsewhere.example/i/' }, 'is not in MODEL_SEARCH_CONNECT_SRC'],
      [{ MODEL_SEARCH_DEFAULT_INDEX: 'javascript:alert(1)' }, 'is not an http(s) address'],
      [{ MODEL_SEARCH_MODEL_HOST: 'https://evil.example' }, 'MODEL_SEARCH_MODEL_HOST=https://evil.example: its host https://evil.example is not in MODEL_SEARCH_CONNECT_SRC'],
      [{ MODEL_SEARCH_MODEL_HOST: 'ftp://huggingface.co' }, 'is not an http(s) address'],
      [{ MODEL_SEARCH_MODEL_HOST: 'https://huggingface.co/?x=1' }, 'without a user name, password, “?” or “#”'],
      [{ MODEL_SEARCH_MODEL_HOST: 'not a url' }, 'is not an address'],
    ];
    for (const [env, message] of cases) expect(() => readSiteDefaults(env, hosts), JSON.stringify(env)).toThrow(message);
  });
});
