/**
 * One HTTPS request the gateway makes on its own account (MTA-STS policy
 * fetch, TLS-RPT report upload): the host is resolved through the gateway's
 * resolver (dns.servers), the certificate must chain to the system CAs plus
 * tls.trustedCaFiles and name the host, TLS 1.2 or later, no redirects are
 * followed, the response body and the whole exchange are bounded. Plain
 * HTTP (scheme 'http') is there only for the S/MIME revocation fetch: OCSP
 * answers and CRLs are signed by the CA and served over http:// by design.
 */
import { request as httpsSend } from 'node:https';
import { request as httpSend, type IncomingHttpHeaders } from 'node:http';
import { rootCertificates } from 'node:tls';
import type { DnsResolver } from '../delivery/dns.js';

export interface HttpsRequest {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | undefined;
  /** 'http' only for plain-HTTP resources signed in themselves (OCSP answers, CRLs); default 'https'. */
  readonly scheme?: 'https' | 'http';
}

export interface HttpsClientOptions {
  readonly resolver: DnsResolver;
  readonly trustedCas: readonly string[];
  /** The whole exchange, from connect to the last byte. */
  readonly timeoutMs: number;
  /** Longest response body read; longer fails with kind 'too-large'. */
  readonly maxResponseBytes: number;
}

export interface HttpsResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type HttpsFailureKind = 'resolve' | 'connect' | 'certificate' | 'timeout' | 'too-large';

export class HttpsError extends Error {
  constructor(
    readonly kind: HttpsFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'HttpsError';
  }
}

const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO|Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME/i;

/** Sends the request to the host's addresses in turn (network failures only); throws HttpsError. */
export async function httpsRequest(req: HttpsRequest, options: HttpsClientOptions): Promise<HttpsResponse> {
  let addresses: string[];
  try {
    addresses = [...(await options.resolver.a(req.host)), ...(await options.resolver.aaaa(req.host))];
  } catch (err) {
    throw new HttpsError('resolve', `cannot resolve ${req.host}: ${(err as Error).message}`);
  }
  if (addresses.length === 0) throw new HttpsError('resolve', `${req.host} has no address records`);
  let last: HttpsError | undefined;
  for (const ip of addresses.slice(0, 4)) {
    try {
      return await requestTo(ip, req, options);
    } catch (err) {
      if (!(err instanceof HttpsError) || (err.kind !== 'connect' && err.kind !== 'timeout')) throw err;
      last = err;
    }
  }
  throw last ?? new HttpsError('connect', `cannot reach ${req.host}`);
}

function requestTo(ip: string, r: HttpsRequest, options: HttpsClientOptions): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: HttpsError | undefined, res?: HttpsResponse): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else if (res) resolve(res);
    };
    const plain = r.scheme === 'http';
    const send = plain ? httpSend : httpsSend;
    const req = send(
      {
        host: ip,
        port: r.port,
        path: r.path,
        method: r.method,
        headers: { host: r.port === (plain ? 80 : 443) ? r.host : `${r.host}:${r.port}`, 'user-agent': 'Sealgate', ...(r.headers ?? {}), ...(r.body ? { 'content-length': String(r.body.length) } : {}) },
        agent: false,
        ...(plain ? {} : { servername: r.host, ca: [...rootCertificates, ...options.trustedCas], minVersion: 'TLSv1.2' as const, rejectUnauthorized: true }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxResponseBytes) return finish(new HttpsError('too-large', `the answer from ${r.host} is larger than ${options.maxResponseBytes} bytes`));
          chunks.push(chunk);
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (err) => finish(new HttpsError('connect', `${r.host}: ${err.message}`)));
      },
    );
    const timer = setTimeout(() => finish(new HttpsError('timeout', `timed out talking to ${r.host}`)), options.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (CERT_ERROR.test(`${err.code ?? ''} ${err.message}`)) return finish(new HttpsError('certificate', `the certificate of ${r.host} does not verify: ${err.message}`));
      finish(new HttpsError('connect', `${r.host}: ${err.message}`));
    });
    req.end(r.body);
  });
}

export interface PostOutcome {
  /** The URL's host ('' when the URL does not parse). */
  readonly host: string;
  /** The HTTP status, or the failure kind (resolve, connect, certificate, timeout, too-large; bad-uri). */
  readonly status: string;
  /** A 2xx answer. */
  readonly ok: boolean;
}

/** POSTs `body` to an https URL (a report, an alert) and says how it went; only non-HTTP faults throw. */
export async function httpsPost(uri: string, contentType: string, body: Buffer, options: HttpsClientOptions): Promise<PostOutcome> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return { host: '', status: 'bad-uri', ok: false };
  }
  const host = url.hostname;
  try {
    const res = await httpsRequest({ host, port: url.port ? Number(url.port) : 443, path: `${url.pathname}${url.search}`, method: 'POST', headers: { 'content-type': contentType }, body }, options);
    return { host, status: String(res.status), ok: res.status >= 200 && res.status < 300 };
  } catch (err) {
    if (err instanceof HttpsError) return { host, status: err.kind, ok: false };
    throw err;
  }
}
