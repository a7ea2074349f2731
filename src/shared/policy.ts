import { AppError } from '../core/io/errors.ts';

/**
 * Where the app may read from: one list, used twice. The build turns it into the Content-Security-
 * Policy's `connect-src`/`img-src` (tools/vite/csp.ts: the meta tag and dist/_headers), and compiles
 * the same list into the search worker (vite.config.ts `define`), which checks every URL it fetches
 * against it (workers/download.ts). The worker must check for itself: a meta tag's policy covers the
 * page only, never a worker, and static hosts often cannot send the policy as a header.
 *
 * The list holds CSP host-sources: `https://huggingface.co`, `https://*.hf.co` (subdomains only),
 * `http://127.0.0.1:4176` (that port only; without a port, the scheme's default port). The app's own
 * origin ('self') is always allowed, so relative addresses always are.
 */
export const DEFAULT_MODEL_HOSTS: readonly string[] = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co'];

/** The build variable that adds hosts (indexes, a model mirror), space or comma separated. */
export const CONNECT_SRC_VARIABLE = 'MODEL_SEARCH_CONNECT_SRC';

const HOST_SOURCE = /^(https?):\/\/(\*\.)?([a-z0-9.-]+)(?::(\d{1,5}))?$/i;

/** Origins from a space/comma separated list; anything that is not an http(s) host-source is dropped. */
export function parseHostList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/[\s,]+/)
    .filter(Boolean)
    .filter((h) => HOST_SOURCE.test(h));
}

/** The build's allowed hosts: the model hosts plus the extra ones of MODEL_SEARCH_CONNECT_SRC, without repeats. */
export function allowedHosts(extra: string | undefined, modelHosts: readonly string[] = DEFAULT_MODEL_HOSTS): string[] {
  return [...new Set([...modelHosts, ...parseHostList(extra)])];
}

/** What a worker checks a URL against: its own origin and the build's hosts. */
export interface ConnectPolicy {
  /** The app's origin ('self'); undefined where there is none (Node). */
  self?: string;
  hosts: readonly string[];
}

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

/** scheme, lower-case host and numeric port of an http(s) origin string, else undefined. */
function splitOrigin(origin: string): { scheme: string; host: string; port: number } | undefined {
  const m = /^(https?):\/\/([^/:]+)(?::(\d+))?$/i.exec(origin);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  return { scheme, host: m[2].toLowerCase(), port: m[3] ? Number(m[3]) : DEFAULT_PORT[scheme] };
}

/**
 * Whether a CSP host-source admits an origin: same scheme, same host (or, for `*.`, a subdomain of
 * it: `https://*.hf.co` admits `https://cdn.hf.co`, not `https://hf.co` nor `https://evilhf.co`),
 * same port. Stricter than CSP in one way: `http://` sources do not admit `https://`.
 */
export function hostSourceMatches(source: string, origin: string): boolean {
  const s = HOST_SOURCE.exec(source);
  const o = splitOrigin(origin);
  if (!s || !o) return false;
  const scheme = s[1].toLowerCase();
  const host = s[3].toLowerCase();
  const port = s[4] ? Number(s[4]) : DEFAULT_PORT[scheme];
  if (scheme !== o.scheme || port !== o.port) return false;
  return s[2] ? o.host.endsWith(`.${host}`) : o.host === host;
}

/** Why a URL may not be fetched, or undefined when it may. */
export type Refusal = 'not-http' | 'credentials' | 'host';

/**
 * Whether the worker may fetch `url` (absolute): http(s) only, no user name or password in it, and
 * its origin is the app's own or matches one of the hosts.
 */
export function refusal(url: string, policy: ConnectPolicy): Refusal | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not-http';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'not-http';
  // An http(s) URL's href starts with its origin and a '/' unless user info sits between them.
  if (!parsed.href.startsWith(`${parsed.origin}/`)) return 'credentials';
  if (policy.self !== undefined && parsed.origin === policy.self) return undefined;
  return policy.hosts.some((h) => hostSourceMatches(h, parsed.origin)) ? undefined : 'host';
}

/** Where a refused URL came from, for the message: the parameter a person can change, or the file. */
export type UrlSource = { param: 'index' | 'modelHost'; value: string } | { file: string };

const HOW_TO_ALLOW = `The site's owner can allow another host by listing it in ${CONNECT_SRC_VARIABLE} when building the site (see docs/security.md).`;

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** The AppError that says a URL was refused, naming where it came from and how a host is allowed. */
export function policyError(url: string, why: Refusal, source: UrlSource, policy: ConnectPolicy): AppError {
  const shown = url.length > 120 ? `${url.slice(0, 119)}…` : url;
  const what = 'param' in source ? `The ${source.param === 'index' ? 'index address' : 'model host'} in ?${source.param}= (“${source.value.slice(0, 120)}”)` : `${source.file} (${shown})`;
  const allowed = ['this site', ...policy.hosts].join(', ');
  if (why === 'not-http') return new AppError('bad-query', `${what} is not an http(s) address, so it is not loaded.`, shown);
  if (why === 'credentials') return new AppError('bad-query', `${what} contains a user name or password, so it is not loaded: give the address without them.`, shown);
  return new AppError('bad-query', `${what} is on ${originOf(url)}, a host this site does not allow, so nothing is loaded from it (allowed: ${allowed}). ${HOW_TO_ALLOW}`, shown);
}

/** Throws policyError unless the worker may fetch `url`. */
export function assertAllowed(url: string, source: UrlSource, policy: ConnectPolicy): void {
  const why = refusal(url, policy);
  if (why) throw policyError(url, why, source, policy);
}

/**
 * Checks the `modelHost` setting itself (before any file name is added to it): an http(s) address
 * (relative ones resolve against `base`, the app) on an allowed host, without user info, query or
 * fragment (a path prefix, e.g. a mirror's folder, is fine).
 */
export function assertModelHost(modelHost: string, base: string, policy: ConnectPolicy): void {
  const source: UrlSource = { param: 'modelHost', value: modelHost };
  let parsed: URL;
  try {
    parsed = new URL(modelHost, base);
  } catch {
    throw policyError(modelHost, 'not-http', source, policy);
  }
  if (/[?#]/.test(parsed.href)) {
    throw new AppError('bad-query', `The model host in ?modelHost= (“${modelHost.slice(0, 120)}”) must be a plain address such as https://huggingface.co, without “?” or “#”.`, modelHost);
  }
  assertAllowed(parsed.href, source, policy);
}

/**
 * The refusal of a response that a redirect brought from a host outside the policy (`file`: the
 * file asked for); its body is never read.
 */
export function redirectError(from: string, to: string, file: string, source: UrlSource, policy: ConnectPolicy): AppError {
  const what = 'param' in source ? `${file} (from ?${source.param}=)` : file;
  return new AppError(
    'bad-query',
    `${what} was redirected from ${originOf(from)} to ${originOf(to)}, a host this site does not allow, so its contents were not used (allowed: ${['this site', ...policy.hosts].join(', ')}). ${HOW_TO_ALLOW}`,
    to,
  );
}
