/**
 * Fetches https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 §3.3)
 * through the gateway's HTTPS client (src/net/https-client.ts: dns.servers,
 * system CAs plus tls.trustedCaFiles, no redirects, bounded). Only a 200
 * with a text/plain (or untyped) body counts. Failures carry the RFC 8460
 * result type.
 */
import type { DnsResolver } from '../delivery/dns.js';
import { HttpsError, httpsRequest } from '../net/https-client.js';

export type StsFetchFailure = 'sts-policy-fetch-error' | 'sts-webpki-invalid';

export class StsFetchError extends Error {
  constructor(
    readonly resultType: StsFetchFailure,
    message: string,
  ) {
    super(message);
    this.name = 'StsFetchError';
  }
}

export interface StsFetchOptions {
  readonly resolver: DnsResolver;
  /** 443, except in lab and test set-ups. */
  readonly port: number;
  readonly trustedCas: readonly string[];
  /** The whole fetch, from connect to the last byte. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** The policy text, or throws StsFetchError. */
export async function fetchStsPolicyText(domain: string, options: StsFetchOptions): Promise<string> {
  const host = `mta-sts.${domain}`;
  let res;
  try {
    res = await httpsRequest(
      { host, port: options.port, path: '/.well-known/mta-sts.txt', method: 'GET', headers: { accept: 'text/plain' } },
      { resolver: options.resolver, trustedCas: options.trustedCas, timeoutMs: options.timeoutMs, maxResponseBytes: options.maxBytes },
    );
  } catch (err) {
    if (!(err instanceof HttpsError)) throw err;
    if (err.kind === 'too-large') throw new StsFetchError('sts-policy-fetch-error', `the policy from ${host} is larger than ${options.maxBytes} bytes`);
    throw new StsFetchError(err.kind === 'certificate' ? 'sts-webpki-invalid' : 'sts-policy-fetch-error', err.message);
  }
  if (res.status !== 200) {
    throw new StsFetchError('sts-policy-fetch-error', `HTTP ${res.status} from ${host}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`);
  }
  const type = String(res.headers['content-type'] ?? '');
  if (type && !/^text\/plain\s*(;|$)/i.test(type)) throw new StsFetchError('sts-policy-fetch-error', `${host} served the policy as "${type.slice(0, 60)}", not text/plain`);
  return res.body.toString('utf8');
}
