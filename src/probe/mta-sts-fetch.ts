/**
 * Fetches https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 §3.3).
 * The host is resolved through the gateway's own resolver (dns.servers), the
 * certificate must verify against the system CAs plus tls.trustedCaFiles and
 * name mta-sts.<domain>, redirects are not followed, only 200 counts, and
 * size and time are bounded. Failures carry the RFC 8460 result type.
 */
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { DnsResolver } from '../delivery/dns.js';

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

const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO|Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME/i;

/** The policy text, or throws StsFetchError. */
export async function fetchStsPolicyText(domain: string, options: StsFetchOptions): Promise<string> {
  const host = `mta-sts.${domain}`;
  let addresses: string[];
  try {
    addresses = [...(await options.resolver.a(host)), ...(await options.resolver.aaaa(host))];
  } catch (err) {
    throw new StsFetchError('sts-policy-fetch-error', `cannot resolve ${host}: ${(err as Error).message}`);
  }
  if (addresses.length === 0) throw new StsFetchError('sts-policy-fetch-error', `${host} has no address records`);
  let last: StsFetchError | undefined;
  for (const ip of addresses.slice(0, 4)) {
    try {
      return await fetchFrom(ip, host, options);
    } catch (err) {
      last = err as StsFetchError;
      // a certificate or HTTP answer is the server's answer; only network trouble tries the next address
      if (!/^connect|^timed out/.test(last.message)) throw last;
    }
  }
  throw last ?? new StsFetchError('sts-policy-fetch-error', `cannot reach ${host}`);
}

function fetchFrom(ip: string, host: string, options: StsFetchOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: StsFetchError | undefined, text?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else resolve(text ?? '');
    };
    const req = request(
      {
        host: ip,
        port: options.port,
        servername: host,
        path: '/.well-known/mta-sts.txt',
        method: 'GET',
        headers: { host, 'user-agent': 'Sealgate MTA-STS', accept: 'text/plain' },
        ca: [...rootCertificates, ...options.trustedCas],
        minVersion: 'TLSv1.2',
        rejectUnauthorized: true,
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          return finish(new StsFetchError('sts-policy-fetch-error', `HTTP ${status} from ${host}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`));
        }
        const type = String(res.headers['content-type'] ?? '');
        if (type && !/^text\/plain\s*(;|$)/i.test(type)) {
          res.resume();
          return finish(new StsFetchError('sts-policy-fetch-error', `${host} served the policy as "${type.slice(0, 60)}", not text/plain`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) return finish(new StsFetchError('sts-policy-fetch-error', `the policy from ${host} is larger than ${options.maxBytes} bytes`));
          chunks.push(chunk);
        });
        res.on('end', () => finish(undefined, Buffer.concat(chunks).toString('utf8')));
        res.on('error', (err) => finish(new StsFetchError('sts-policy-fetch-error', `connect: ${err.message}`)));
      },
    );
    const timer = setTimeout(() => finish(new StsFetchError('sts-policy-fetch-error', `timed out fetching the policy from ${host}`)), options.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const text = `${err.code ?? ''} ${err.message}`;
      if (CERT_ERROR.test(text)) return finish(new StsFetchError('sts-webpki-invalid', `the certificate of ${host} does not verify: ${err.message}`));
      finish(new StsFetchError('sts-policy-fetch-error', `connect: ${err.message}`));
    });
    req.end();
  });
}
