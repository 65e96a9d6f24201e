/**
 * Asking a key server for an address's OpenPGP key (keys.discovery.keyserver,
 * off by default: the address itself goes to a third party). VKS first —
 * `GET /vks/v1/by-email/<address>` (keys.openpgp.org, Hagrid, Hockeypuck) —
 * then, when that gives no key, HKP `GET /pks/lookup?op=get&options=mr&
 * search=<address>` (SKS-style servers). HTTPS only: the URL's scheme is
 * https or hkps, its port is the URL's (443 by default). Keys served for
 * other addresses (HKP searches are substring matches) are set aside by the
 * reader, never stored. The HTTP transport is injected
 * (`httpsKeyserverTransport` is the real one: the gateway's HTTPS client,
 * dns.servers, tls.trustedCaFiles, no redirects, bounded).
 */
import type { DnsResolver } from '../delivery/dns.js';
import { HttpsError, httpsRequest } from '../net/https-client.js';
import { beforeDeadline, type SourceFetch } from './source-fetch.js';

/** Longest key-server answer read (HKP servers keep third-party certifications: keys run larger than WKD's). */
export const MAX_KEYSERVER_BYTES = 1024 * 1024;

export interface KeyserverOrigin {
  readonly host: string;
  readonly port: number;
}

const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `https://host[:port]` or `hkps://host[:port]` (a trailing "/" allowed, no path, query or credentials); undefined otherwise. Pure. */
export function parseKeyserverUrl(value: string): KeyserverOrigin | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'hkps:') return undefined;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return undefined;
  const host = url.hostname.toLowerCase();
  if (!HOST.test(host)) return undefined;
  return { host, port: url.port ? Number(url.port) : 443 };
}

export type KeyserverMethod = 'vks' | 'hkp';

/** The two paths asked, in order. Pure. */
export function keyserverPaths(address: string): readonly [{ method: KeyserverMethod; path: string }, { method: KeyserverMethod; path: string }] {
  const q = encodeURIComponent(address);
  return [
    { method: 'vks', path: `/vks/v1/by-email/${q}` },
    { method: 'hkp', path: `/pks/lookup?op=get&options=mr&search=${q}` },
  ];
}

export interface KeyserverHttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/** One GET of a path on the configured key server; throws HttpsError. */
export type KeyserverTransport = (path: string, timeoutMs: number) => Promise<KeyserverHttpAnswer>;

export interface KeyserverFetchDeps {
  readonly transport: KeyserverTransport;
  /** For messages: the key server's host. */
  readonly host: string;
  readonly now: () => number;
  readonly deadline: number;
}

/** `reached`: the server answered over HTTP (else asking it again by HKP is pointless). */
async function one(method: KeyserverMethod, path: string, deps: KeyserverFetchDeps): Promise<{ fetch: SourceFetch; reached: boolean }> {
  const left = deps.deadline - deps.now();
  const label = `${method.toUpperCase()} on ${deps.host}`;
  const miss = (outcome: 'not-found' | 'failed' | 'timeout', detail: string, reached = false) => ({ fetch: { outcome, detail }, reached });
  if (left <= 0) return miss('timeout', `no answer from ${deps.host} in time`);
  let answer: KeyserverHttpAnswer;
  try {
    answer = await deps.transport(path, left);
  } catch (err) {
    if (err instanceof HttpsError) {
      if (err.kind === 'timeout') return miss('timeout', `no answer from ${deps.host} in time`);
      if (err.kind === 'too-large') return miss('failed', `the answer of ${label} is larger than ${MAX_KEYSERVER_BYTES} bytes`, true);
      return miss('failed', err.message);
    }
    return miss('failed', `${label}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (answer.status === 200 && answer.body.length > 0) return { fetch: { outcome: 'found', method, pgp: [answer.body], smime: [] }, reached: true };
  if (answer.status === 200) return miss('not-found', `${label} answered with an empty body`, true);
  const redirect = answer.status >= 300 && answer.status < 400 ? ' (redirects are not followed)' : '';
  return miss(answer.status === 404 ? 'not-found' : 'failed', `HTTP ${answer.status} from ${label}${redirect}`, true);
}

async function both(address: string, deps: KeyserverFetchDeps): Promise<SourceFetch> {
  const [vks, hkp] = keyserverPaths(address);
  const first = await one(vks.method, vks.path, deps);
  // a resolve, connection or certificate failure would fail HKP on the same server too
  if (first.fetch.outcome === 'found' || first.fetch.outcome === 'timeout' || !first.reached) return first.fetch;
  const second = (await one(hkp.method, hkp.path, deps)).fetch;
  if (second.outcome === 'found' || second.outcome === 'timeout') return second;
  const a = first.fetch;
  return { outcome: a.outcome === 'not-found' || second.outcome === 'not-found' ? 'not-found' : 'failed', detail: `${a.detail}; ${second.detail}` };
}

/** VKS, then HKP, within the lookup's deadline. */
export function fetchKeyserver(address: string, deps: KeyserverFetchDeps): Promise<SourceFetch> {
  return beforeDeadline(both(address, deps), deps.deadline, deps.now, { outcome: 'timeout', detail: 'no key found in time' });
}

export interface HttpsKeyserverOptions {
  readonly origin: KeyserverOrigin;
  readonly resolver: DnsResolver;
  readonly trustedCas: readonly string[];
}

/** The real transport: the gateway's HTTPS client (dns.servers, system roots + tls.trustedCaFiles, no redirects, bounded). */
export function httpsKeyserverTransport(options: HttpsKeyserverOptions): KeyserverTransport {
  return async (path, timeoutMs) => {
    const res = await httpsRequest(
      { host: options.origin.host, port: options.origin.port, path, method: 'GET', headers: { accept: 'application/pgp-keys, application/octet-stream' } },
      { resolver: options.resolver, trustedCas: options.trustedCas, timeoutMs, maxResponseBytes: MAX_KEYSERVER_BYTES },
    );
    return { status: res.status, body: res.body };
  };
}
