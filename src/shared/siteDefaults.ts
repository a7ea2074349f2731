/**
 * What a site sets at build time instead of in every link: the index the app opens without ?index=
 * and the host of hub-style encoder files without ?modelHost= (a site running real CLIP from its own
 * mirror). Read from the build's environment by vite.config.ts, checked here, compiled into the app;
 * the URL parameters still win. README, "Switching from the demo to real CLIP".
 */
import { refusal } from './policy.ts';

export const DEFAULT_INDEX_VARIABLE = 'MODEL_SEARCH_DEFAULT_INDEX';
export const MODEL_HOST_VARIABLE = 'MODEL_SEARCH_MODEL_HOST';

/** The demo index, when the build names none. */
export const DEMO_INDEX = 'index/demo/';

export interface SiteDefaults {
  /** Index folder, relative to the app (`index/my-clip/`) or an http(s) address; ends with '/'. */
  index: string;
  /** Origin (+ path) of hub-style encoder files, without a trailing '/'; undefined = huggingface.co. */
  modelHost?: string;
}

/**
 * The build's defaults from its environment; throws an Error whose message names the variable when
 * a value cannot work, so a misconfigured build fails instead of shipping a site that cannot start.
 * `allowedHosts` is the build's connect list (src/shared/policy.ts): a model host outside it would be
 * refused by the worker at every visit.
 */
export function readSiteDefaults(env: Record<string, string | undefined>, allowedHosts: readonly string[]): SiteDefaults {
  const rawIndex = env[DEFAULT_INDEX_VARIABLE]?.trim();
  let index = DEMO_INDEX;
  if (rawIndex) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(rawIndex)) {
      const url = parseHttp(rawIndex, DEFAULT_INDEX_VARIABLE);
      if (refusal(url.href, { hosts: allowedHosts }) === 'host') {
        throw new Error(`${DEFAULT_INDEX_VARIABLE}=${rawIndex}: its host ${url.origin} is not in MODEL_SEARCH_CONNECT_SRC, so the app could not read it; add it there too.`);
      }
    } else if (rawIndex.startsWith('/') || rawIndex.split('/').includes('..')) {
      throw new Error(`${DEFAULT_INDEX_VARIABLE}=${rawIndex}: give a folder relative to the app (e.g. index/my-clip/) or an http(s) address.`);
    }
    index = rawIndex.endsWith('/') ? rawIndex : `${rawIndex}/`;
  }
  const rawHost = env[MODEL_HOST_VARIABLE]?.trim();
  let modelHost: string | undefined;
  if (rawHost) {
    const url = parseHttp(rawHost, MODEL_HOST_VARIABLE);
    if (refusal(url.href, { hosts: allowedHosts }) === 'host') {
      throw new Error(`${MODEL_HOST_VARIABLE}=${rawHost}: its host ${url.origin} is not in MODEL_SEARCH_CONNECT_SRC (or the default model hosts), so the worker would refuse it; add it there too.`);
    }
    modelHost = url.href.replace(/\/+$/, '');
  }
  return { index, modelHost };
}

function parseHttp(value: string, variable: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${variable}=${value} is not an address.`);
  }
  const why = refusal(url.href, { hosts: [] });
  if (why === 'not-http') throw new Error(`${variable}=${value} is not an http(s) address.`);
  if (why === 'credentials' || /[?#]/.test(url.href)) throw new Error(`${variable}=${value}: give it without a user name, password, “?” or “#”.`);
  return url;
}
