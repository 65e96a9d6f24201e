/**
 * Fetching an address's WKD answer: the advanced method first; the direct
 * method when the advanced host does not resolve, cannot be reached, fails
 * TLS verification or answers anything but 200 with a body. The whole
 * fetch shares one deadline: past it the answer is `timeout` (no key).
 * Redirects are never followed. The HTTP transport is injected
 * (`httpsWkdTransport` is the real one: the gateway's HTTPS client).
 */
import type { DnsResolver } from '../delivery/dns.js';
import { HttpsError, httpsRequest } from '../net/https-client.js';
import { wkdDomainOk, wkdLocations, type WkdLocation, type WkdMethod } from './wkd.js';

/** Longest WKD answer read; a key block larger than this is refused. */
export const MAX_WKD_BYTES = 256 * 1024;

export interface WkdHttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/** One GET; throws HttpsError (kind resolve | connect | certificate | timeout | too-large). */
export type WkdTransport = (location: WkdLocation, timeoutMs: number) => Promise<WkdHttpAnswer>;

export type WkdFetchResult =
  | { readonly outcome: 'found'; readonly method: WkdMethod; readonly bytes: Buffer }
  | { readonly outcome: 'not-found' | 'failed' | 'timeout'; readonly detail: string };

export interface WkdFetchDeps {
  readonly transport: WkdTransport;
  /** ms since epoch. */
  readonly now: () => number;
  /** The lookup's deadline (ms since epoch). */
  readonly deadline: number;
}

function describe(loc: WkdLocation, err: unknown): { outcome: 'not-found' | 'failed' | 'timeout'; detail: string } {
  if (err instanceof HttpsError) {
    if (err.kind === 'timeout') return { outcome: 'timeout', detail: `no answer from ${loc.host} in time` };
    if (err.kind === 'too-large') return { outcome: 'failed', detail: `the answer from ${loc.host} is larger than ${MAX_WKD_BYTES} bytes` };
    if (err.kind === 'resolve') return { outcome: 'not-found', detail: `${loc.host} does not resolve` };
    return { outcome: 'failed', detail: err.message };
  }
  return { outcome: 'failed', detail: `${loc.host}: ${err instanceof Error ? err.message : String(err)}` };
}

async function fetchOne(loc: WkdLocation, deps: WkdFetchDeps): Promise<WkdFetchResult> {
  const left = deps.deadline - deps.now();
  if (left <= 0) return { outcome: 'timeout', detail: `no answer from ${loc.host} in time` };
  let answer: WkdHttpAnswer;
  try {
    answer = await deps.transport(loc, left);
  } catch (err) {
    return describe(loc, err);
  }
  if (answer.status === 200 && answer.body.length > 0) return { outcome: 'found', method: loc.method, bytes: answer.body };
  if (answer.status === 200) return { outcome: 'not-found', detail: `${loc.host} answered with an empty body` };
  const redirect = answer.status >= 300 && answer.status < 400 ? ' (redirects are not followed)' : '';
  return { outcome: answer.status === 404 ? 'not-found' : 'failed', detail: `HTTP ${answer.status} from ${loc.host}${redirect}` };
}

/** The advanced method, then the direct one; the deadline (DNS included) ends the fetch. */
export async function fetchWkd(address: string, deps: WkdFetchDeps): Promise<WkdFetchResult> {
  if (!wkdDomainOk(address)) return { outcome: 'failed', detail: 'the address\'s domain is not a DNS host name' };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<WkdFetchResult>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: 'timeout', detail: 'no key found in time' }), Math.max(0, deps.deadline - deps.now()));
  });
  try {
    return await Promise.race([bothMethods(address, deps), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function bothMethods(address: string, deps: WkdFetchDeps): Promise<WkdFetchResult> {
  const [advanced, direct] = wkdLocations(address);
  const first = await fetchOne(advanced, deps);
  if (first.outcome === 'found' || first.outcome === 'timeout') return first;
  const second = await fetchOne(direct, deps);
  if (second.outcome !== 'failed' || first.outcome !== 'failed') return second;
  return { outcome: 'failed', detail: `${first.detail}; ${second.detail}` };
}

export interface HttpsWkdOptions {
  readonly resolver: DnsResolver;
  readonly port: number;
  readonly trustedCas: readonly string[];
}

/** The real transport: the gateway's HTTPS client (dns.servers, tls.trustedCaFiles, no redirects, bounded). */
export function httpsWkdTransport(options: HttpsWkdOptions): WkdTransport {
  return async (loc, timeoutMs) => {
    const res = await httpsRequest(
      { host: loc.host, port: options.port, path: loc.path, method: 'GET', headers: { accept: 'application/octet-stream' } },
      { resolver: options.resolver, trustedCas: options.trustedCas, timeoutMs, maxResponseBytes: MAX_WKD_BYTES },
    );
    return { status: res.status, body: res.body };
  };
}
