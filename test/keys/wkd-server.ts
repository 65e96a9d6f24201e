/**
 * A Web Key Directory server on loopback: HTTPS with a certificate from the
 * test CA naming every host it serves, answers by host and path (query
 * included), 404 for anything else. An answer may hang (never respond) to
 * test the lookup's time limit. Requests are counted per host.
 */
import { createServer, type Server } from 'node:https';
import { issueCertificate, type Pem } from '../../src/tls/x509.js';
import { listenOn } from '../helpers/listen.js';

export interface WkdServerAnswer {
  readonly status?: number;
  readonly body?: Buffer;
  /** Never answer (the connection stays open until the server closes). */
  readonly hang?: boolean;
  readonly location?: string;
}

export interface WkdServer {
  readonly port: number;
  /** By `${host}${path}`, e.g. "example.org/.well-known/openpgpkey/hu/…?l=alice". */
  readonly answers: Map<string, WkdServerAnswer>;
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

export async function startWkdServer(options: { ip: string; port?: number; ca: Pem; hosts: readonly string[] }): Promise<WkdServer> {
  const cert = await issueCertificate(options.ca, { commonName: options.hosts[0] ?? 'wkd.test', dnsNames: [...options.hosts], usage: 'server' });
  const answers = new Map<string, WkdServerAnswer>();
  const requests = new Map<string, number>();
  const server: Server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const host = String(req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    requests.set(host, (requests.get(host) ?? 0) + 1);
    const answer = answers.get(`${host}${req.url ?? ''}`);
    if (!answer) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (answer.hang) return;
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/octet-stream', ...(answer.location ? { location: answer.location } : {}) }).end(answer.body ?? Buffer.alloc(0));
  });
  const { port, close } = await listenOn(server, options.ip, options.port);
  return { port, answers, requests, close };
}
