/**
 * Is an S/MIME certificate revoked? OCSP first (RFC 6960: one small signed
 * answer), then the CRL (RFC 5280). The whole check shares one deadline and
 * every answer is size-bounded. It soft-fails: no responder or CRL named, a
 * server down or slow, a bad signature, a stale or unknown answer - the
 * status is "not checked", with why, and the certificate is judged as it
 * would be without revocation data (a responder outage must not stop
 * encrypted mail). Only a verified "revoked" answer makes it invalid.
 *
 * The network is an injected transport (`httpRevocationTransport` is the
 * real one: the gateway's HTTP(S) client through dns.servers and
 * tls.trustedCaFiles, no redirects).
 */
import { isIP } from 'node:net';
import type * as pkijs from 'pkijs';
import type { DnsResolver } from '../delivery/dns.js';
import { HttpsError, httpsRequest } from '../net/https-client.js';
import { judgeCrl } from './revocation-crl.js';
import { judgeOcspAnswer, ocspRequestDer, type RevocationAnswer } from './revocation-ocsp.js';
import { revocationSources, type RevocationSources } from './revocation-sources.js';

/** Longest OCSP answer read (a real one is 1-4 KB). */
export const MAX_OCSP_BYTES = 64 * 1024;
/** Longest CRL read (a large public CA's full CRL is a few MB). */
export const MAX_CRL_BYTES = 4 * 1024 * 1024;

export type RevocationMethod = 'ocsp' | 'crl';

export type RevocationStatus =
  | { readonly state: 'good' | 'revoked'; readonly method: RevocationMethod; readonly checkedAt: number }
  | { readonly state: 'not-checked'; readonly detail: string };

export interface RevocationHttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/** One request: a POST with an OCSP request body, or a GET of a CRL. Throws on network failure. */
export type RevocationTransport = (req: { readonly url: string; readonly body?: Buffer }, timeoutMs: number, maxBytes: number) => Promise<RevocationHttpAnswer>;

export interface RevocationDeps {
  readonly transport: RevocationTransport;
  /** ms since epoch. */
  readonly now: () => number;
  /** The whole check (every OCSP and CRL fetch). */
  readonly timeoutMs: number;
}

function hostOf(url: string): string {
  return new URL(url).host;
}

async function fetchAnswer(url: string, body: Buffer | undefined, maxBytes: number, deadline: number, deps: RevocationDeps): Promise<{ body: Buffer } | { detail: string }> {
  const left = deadline - deps.now();
  if (left <= 0) return { detail: `no time left for ${hostOf(url)}` };
  try {
    const answer = await deps.transport(body ? { url, body } : { url }, left, maxBytes);
    if (answer.status !== 200) return { detail: `HTTP ${answer.status} from ${hostOf(url)}` };
    return { body: answer.body };
  } catch (err) {
    if (err instanceof HttpsError && err.kind === 'too-large') return { detail: `the answer from ${hostOf(url)} is larger than ${maxBytes} bytes` };
    if (err instanceof HttpsError && err.kind === 'timeout') return { detail: `no answer from ${hostOf(url)} in time` };
    return { detail: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The status of `leaf` (issued by `issuer`, whose key signs OCSP answers and
 * CRLs). Past `timeoutMs` (DNS included) the answer is "not checked",
 * whatever is still under way.
 */
export async function checkRevocation(leaf: pkijs.Certificate, issuer: pkijs.Certificate, deps: RevocationDeps): Promise<RevocationStatus> {
  const sources = revocationSources(leaf);
  if (sources.ocsp.length === 0 && sources.crl.length === 0) return { state: 'not-checked', detail: 'the certificate names no http(s) OCSP responder or CRL' };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<RevocationStatus>((resolve) => {
    timer = setTimeout(() => resolve({ state: 'not-checked', detail: `no answer within ${deps.timeoutMs} ms` }), deps.timeoutMs);
  });
  try {
    return await Promise.race([askSources(leaf, issuer, sources, deps), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function askSources(leaf: pkijs.Certificate, issuer: pkijs.Certificate, sources: RevocationSources, deps: RevocationDeps): Promise<RevocationStatus> {
  const deadline = deps.now() + deps.timeoutMs;
  const failures: string[] = [];
  const settle = (a: RevocationAnswer, method: RevocationMethod, where: string): RevocationStatus | undefined => {
    if (a.status !== 'failed') return { state: a.status, method, checkedAt: deps.now() };
    failures.push(`${method.toUpperCase()} ${where}: ${a.detail}`);
    return undefined;
  };
  if (sources.ocsp.length > 0) {
    const request = await ocspRequestDer(leaf, issuer);
    for (const url of sources.ocsp) {
      const got = await fetchAnswer(url, request, MAX_OCSP_BYTES, deadline, deps);
      if ('detail' in got) failures.push(`OCSP ${hostOf(url)}: ${got.detail}`);
      else {
        const done = settle(await judgeOcspAnswer(got.body, leaf, issuer, deps.now()), 'ocsp', hostOf(url));
        if (done) return done;
      }
    }
  }
  for (const url of sources.crl) {
    const got = await fetchAnswer(url, undefined, MAX_CRL_BYTES, deadline, deps);
    if ('detail' in got) failures.push(`CRL ${hostOf(url)}: ${got.detail}`);
    else {
      const done = settle(await judgeCrl(got.body, leaf, issuer, deps.now()), 'crl', hostOf(url));
      if (done) return done;
    }
  }
  return { state: 'not-checked', detail: failures.join('; ').slice(0, 500) };
}

/** Requests one key file's certificates may make together (each makes at most 2 OCSP + 2 CRL). */
export const MAX_REQUESTS_PER_FILE = 32;

/**
 * The same deps with a request budget shared by every check made through
 * them: a bundle of many certificates cannot make many requests; past the
 * budget the certificates are "not checked".
 */
export function withRequestLimit(deps: RevocationDeps, max: number): RevocationDeps {
  let used = 0;
  return {
    ...deps,
    transport: (req, timeoutMs, maxBytes) => {
      used++;
      if (used > max) return Promise.reject(new Error(`not asked: more than ${max} revocation requests for one file`));
      return deps.transport(req, timeoutMs, maxBytes);
    },
  };
}

export interface HttpRevocationOptions {
  readonly resolver: DnsResolver;
  readonly trustedCas: readonly string[];
}

/** A resolver that answers an IP literal with itself (URLs may name http://192.0.2.1/). */
function literalAware(resolver: DnsResolver): DnsResolver {
  return {
    ...resolver,
    mx: (d) => resolver.mx(d),
    txt: (n) => resolver.txt(n),
    a: async (n) => (isIP(n) === 4 ? [n] : isIP(n) === 6 ? [] : resolver.a(n)),
    aaaa: async (n) => (isIP(n) === 6 ? [n] : isIP(n) === 4 ? [] : resolver.aaaa(n)),
  };
}

/** The real transport: the gateway's HTTP(S) client (dns.servers, tls.trustedCaFiles for https, no redirects, bounded). */
export function httpRevocationTransport(options: HttpRevocationOptions): RevocationTransport {
  const resolver = literalAware(options.resolver);
  return async (req, timeoutMs, maxBytes) => {
    const url = new URL(req.url);
    const scheme = url.protocol === 'http:' ? 'http' : 'https';
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? (scheme === 'http' ? 80 : 443) : Number(url.port);
    const headers: Record<string, string> = req.body ? { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' } : { accept: 'application/pkix-crl' };
    const res = await httpsRequest({ scheme, host, port, path: `${url.pathname}${url.search}`, method: req.body ? 'POST' : 'GET', headers, body: req.body }, { resolver, trustedCas: options.trustedCas, timeoutMs, maxResponseBytes: maxBytes });
    return { status: res.status, body: res.body };
  };
}
