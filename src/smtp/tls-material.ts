/**
 * TLS material for the listeners: certificate + key per listener, the trust
 * store for client certificates, and what a presented client certificate
 * tells us (verified? which names? issued by which connector's CA?).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates, type PeerCertificate, type TLSSocket } from 'node:tls';
import { pemCertificateBlocks } from '../crypto/pem.js';
import { SealgateError } from '../errors.js';
import type { Config, ListenerConfig } from '../config/schema.js';
import type { ClientCertFacts, ConnectorRule } from './connector-policy.js';

export interface ListenerTls {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly requestCert: boolean;
  readonly rejectUnauthorized: false;
  readonly ca?: string[] | undefined;
}

function readPem(path: string, what: string, keyPath: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SealgateError('SG_CONFIG_INVALID', {
      message: `${keyPath}: cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check the path and its permissions`,
      cause: err,
    });
  }
}

/** PEM file → list of certificates (a file may hold several). */
export function readCertificates(path: string, keyPath: string): X509Certificate[] {
  const text = readPem(path, 'CA file', keyPath).toString('utf8');
  const blocks = pemCertificateBlocks(text);
  if (blocks.length === 0) throw new SealgateError('SG_CONFIG_INVALID', { message: `${keyPath}: ${path} holds no PEM certificate` });
  return blocks.map((b) => new X509Certificate(b));
}

export function listenerTls(config: Config, index: number, connectors: readonly ConnectorRule[]): ListenerTls | undefined {
  const listener: ListenerConfig | undefined = config.smtp.listeners[index];
  if (!listener || listener.tls === 'none' || !listener.certFile || !listener.keyFile) return undefined;
  const usable = connectors.filter((c) => listener.connectors.length === 0 || listener.connectors.includes(c.name));
  const certConnectors = usable.filter((c) => c.clientCert !== false);
  let ca: string[] | undefined;
  if (certConnectors.length > 0) {
    const set = new Set<string>();
    const needsDefault = certConnectors.some((c) => c.clientCert !== false && c.clientCert.caFiles.length === 0);
    if (needsDefault) {
      rootCertificates.forEach((r) => set.add(r));
      config.tls.trustedCaFiles.forEach((f, i) => readCertificates(f, `tls.trustedCaFiles[${i}]`).forEach((c) => set.add(c.toString())));
    }
    for (const c of certConnectors) {
      if (c.clientCert === false) continue;
      c.clientCert.caFiles.forEach((f) => readCertificates(f, `connectors.${c.name}.requireClientCert.caFiles`).forEach((x) => set.add(x.toString())));
    }
    ca = [...set];
  }
  return {
    key: readPem(listener.keyFile, 'key file', `smtp.listeners[${index}].keyFile`),
    cert: readPem(listener.certFile, 'certificate file', `smtp.listeners[${index}].certFile`),
    minVersion: config.tls.minVersion,
    requestCert: certConnectors.length > 0,
    rejectUnauthorized: false,
    ca,
  };
}

/** CA certificates per connector name, for connectors with their own caFiles. */
export function connectorCas(connectors: readonly ConnectorRule[]): Map<string, X509Certificate[]> {
  const out = new Map<string, X509Certificate[]>();
  for (const c of connectors) {
    if (c.clientCert === false || c.clientCert.caFiles.length === 0) continue;
    out.set(c.name, c.clientCert.caFiles.flatMap((f) => readCertificates(f, `connectors.${c.name}.requireClientCert.caFiles`)));
  }
  return out;
}

function certNames(peer: PeerCertificate): string[] {
  const names = new Set<string>();
  const cn = peer.subject?.CN;
  if (typeof cn === 'string') names.add(cn.toLowerCase());
  for (const part of (peer.subjectaltname ?? '').split(/,\s*/)) {
    if (part.startsWith('DNS:')) names.add(part.slice(4).toLowerCase());
  }
  return [...names];
}

function chainOf(peer: PeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let cur: PeerCertificate | undefined = peer;
  while (cur?.raw && !seen.has(cur.fingerprint256) && out.length < 10) {
    seen.add(cur.fingerprint256);
    out.push(new X509Certificate(cur.raw));
    const next: PeerCertificate | undefined = (cur as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
    cur = next && next !== cur ? next : undefined;
  }
  return out;
}

function issuedBy(chain: readonly X509Certificate[], cas: readonly X509Certificate[]): boolean {
  return chain.some((c) => cas.some((ca) => c.fingerprint256 === ca.fingerprint256 || (c.checkIssued(ca) && c.verify(ca.publicKey))));
}

export function clientCertFacts(socket: TLSSocket, cas: ReadonlyMap<string, X509Certificate[]>): ClientCertFacts | undefined {
  const peer = socket.getPeerCertificate(true);
  if (!peer || !peer.raw) return undefined;
  const chain = chainOf(peer);
  const issuedForConnectors = [...cas.entries()].filter(([, list]) => issuedBy(chain, list)).map(([name]) => name);
  return { verified: socket.authorized, names: certNames(peer), issuedForConnectors };
}
