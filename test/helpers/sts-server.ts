/**
 * An HTTPS server on loopback that serves MTA-STS policies
 * (/.well-known/mta-sts.txt) per Host header, with a certificate from the
 * test CA naming every mta-sts.<domain> it serves. Each answer can be
 * changed while the server runs; requests are counted per host.
 */
import { createServer, type Server } from 'node:https';
import { issueCertificate, type Pem } from '../../src/tls/x509.js';
import { listenOn } from './listen.js';

export interface StsAnswer {
  readonly status?: number;
  readonly body?: string;
  readonly contentType?: string;
  readonly location?: string;
}

export interface StsServer {
  readonly ip: string;
  readonly port: number;
  /** Answers by host name ("mta-sts.example.test"); unknown hosts get 404. */
  readonly answers: Map<string, StsAnswer>;
  /** Requests per host name. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

export function stsPolicy(mode: 'enforce' | 'testing' | 'none', mx: readonly string[], maxAge = 86_400): string {
  return ['version: STSv1', `mode: ${mode}`, ...mx.map((m) => `mx: ${m}`), `max_age: ${maxAge}`, ''].join('\r\n');
}

export async function startStsServer(options: { ip: string; port?: number; ca: Pem; hosts: readonly string[]; certificate?: Pem }): Promise<StsServer> {
  const cert = options.certificate ?? (await issueCertificate(options.ca, { commonName: options.hosts[0] ?? 'mta-sts.test', dnsNames: [...options.hosts], usage: 'server' }));
  const answers = new Map<string, StsAnswer>();
  const requests = new Map<string, number>();
  const server: Server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const host = String(req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    requests.set(host, (requests.get(host) ?? 0) + 1);
    const answer = answers.get(host);
    if (!answer || req.url !== '/.well-known/mta-sts.txt') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers: Record<string, string> = { 'content-type': answer.contentType ?? 'text/plain' };
    if (answer.location) headers.location = answer.location;
    res.writeHead(answer.status ?? 200, headers).end(answer.body ?? '');
  });
  const { port, close } = await listenOn(server, options.ip, options.port);
  return { ip: options.ip, port, answers, requests, close };
}
