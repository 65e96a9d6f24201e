/**
 * A real revocation PKI made by OpenSSL on loopback: a test CA whose leaves
 * name an OCSP responder (AIA) and/or a CRL (CRL distribution points) at a
 * loopback HTTP server. The server answers OCSP POSTs by running OpenSSL's
 * own responder on the request (`openssl ocsp -index index.txt -reqin
 * -respout`; `openssl ocsp -port` would listen on every interface, and tests
 * stay on loopback) and serves CRLs made by `openssl ca -gencrl` after
 * `openssl ca -revoke`.
 *
 * Responders: /ocsp signed by the CA; /ocsp-other signed by a CA that did
 * not issue the leaves (a bad signature for them); /ocsp-delegated signed by
 * a responder certificate the CA issued for id-kp-OCSPSigning; /ocsp-noeku
 * signed by a certificate the CA issued without id-kp-OCSPSigning. CRLs:
 * /ca.crl current, /stale.crl whose nextUpdate passed in 2021.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type RevLeaf = 'ocspGood' | 'ocspRevoked' | 'crlRevoked' | 'crlGood' | 'ocspDown' | 'badSigner' | 'staleCrl' | 'delegated' | 'ocspRevokedCrlGood' | 'delegatedNoEku';

/** Address each leaf is issued for: `${name}@example.org` lower-cased. */
export const revAddress = (n: RevLeaf): string => `${n.toLowerCase()}@example.org`;

export interface RevocationPki {
  readonly dir: string;
  readonly caFile: string;
  /** PEM file of each leaf. */
  readonly file: Record<RevLeaf, string>;
  /** Base URL the certificates name (http://urlHost:port). */
  readonly base: string;
  /** OCSP requests and CRL fetches served, by path. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

const CONFIG = (base: string, dead: string): string => `
[ca]
default_ca = testca
[testca]
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = anything
unique_subject = no
crlnumber = ./crlnumber
default_crl_days = 7
[anything]
commonName = optional
[ocspGood]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:ocspgood@example.org
authorityInfoAccess = OCSP;URI:${base}/ocsp
crlDistributionPoints = URI:${base}/ca.crl
[ocspRevoked]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:ocsprevoked@example.org
authorityInfoAccess = OCSP;URI:${base}/ocsp
[ocspRevokedCrlGood]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:ocsprevokedcrlgood@example.org
authorityInfoAccess = OCSP;URI:${base}/ocsp
crlDistributionPoints = URI:${base}/empty.crl
[crlRevoked]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:crlrevoked@example.org
crlDistributionPoints = URI:${base}/ca.crl
[crlGood]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:crlgood@example.org
crlDistributionPoints = URI:${base}/ca.crl
[ocspDown]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:ocspdown@example.org
authorityInfoAccess = OCSP;URI:${dead}/ocsp
[badSigner]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:badsigner@example.org
authorityInfoAccess = OCSP;URI:${base}/ocsp-other
[staleCrl]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:stalecrl@example.org
crlDistributionPoints = URI:${base}/stale.crl
[delegated]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:delegated@example.org
authorityInfoAccess = OCSP;URI:${base}/ocsp-delegated
[delegatedNoEku]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:delegatednoeku@example.org
authorityInfoAccess = OCSP;URI:${base}/ocsp-noeku
[responder]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
[responderNoEku]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = emailProtection
`;

const LEAVES: readonly RevLeaf[] = ['ocspGood', 'ocspRevoked', 'crlRevoked', 'crlGood', 'ocspDown', 'badSigner', 'staleCrl', 'delegated', 'ocspRevokedCrlGood', 'delegatedNoEku'];

/** A loopback port nothing listens on (bound, then closed). */
async function deadPort(host: string): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The server listens on `host`; the certificates' URLs name `urlHost` (a DNS name the test's zone resolves to `host`). */
export async function makeRevocationPki(host: string, urlHost: string): Promise<RevocationPki> {
  const dir = mkdtempSync(join(tmpdir(), 'sealgate-revoke-'));
  const hits = new Map<string, number>();
  const responders: Record<string, [string, string]> = { '/ocsp': ['ca.pem', 'ca.key'], '/ocsp-other': ['other.pem', 'other.key'], '/ocsp-delegated': ['responder.pem', 'responder.key'], '/ocsp-noeku': ['responderNoEku.pem', 'responderNoEku.key'] };
  let seq = 0;
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signer = responders[path];
      if (req.method === 'POST' && signer) {
        const n = ++seq;
        writeFileSync(join(dir, `req${n}.der`), Buffer.concat(chunks));
        run('openssl', ['ocsp', '-index', 'index.txt', '-CA', 'ca.pem', '-rsigner', signer[0], '-rkey', signer[1], '-ndays', '1', '-reqin', `req${n}.der`, '-respout', `resp${n}.der`], { cwd: dir })
          .then(() => {
            res.writeHead(200, { 'content-type': 'application/ocsp-response' });
            res.end(readFileSync(join(dir, `resp${n}.der`)));
          })
          .catch(() => {
            res.writeHead(500);
            res.end();
          });
        return;
      }
      const crl = /^\/(ca|stale|empty)\.crl$/.exec(path);
      if (req.method === 'GET' && crl) {
        res.writeHead(200, { 'content-type': 'application/pkix-crl' });
        res.end(readFileSync(join(dir, `${crl[1]}.crl`)));
        return;
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const base = `http://${urlHost}:${(server.address() as AddressInfo).port}`;
  const dead = `http://127.0.0.1:${await deadPort('127.0.0.1')}`;
  const ssl = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  };
  writeFileSync(join(dir, 'openssl.cnf'), CONFIG(base, dead));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '10\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  const makeCa = (name: string, cn: string): void =>
    ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${cn}`, '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  makeCa('ca', 'Sealgate Revocation Test CA');
  makeCa('other', 'Some Other CA');
  const issue = (name: string, ext: string): void => {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    ssl(['ca', '-batch', '-config', 'openssl.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', `${name}.csr`, '-out', `${name}.pem`, '-days', '365', '-extfile', 'openssl.cnf', '-extensions', ext, '-notext']);
  };
  issue('responder', 'responder');
  issue('responderNoEku', 'responderNoEku');
  // a CRL made before anything is revoked: it lists nothing
  ssl(['ca', '-config', 'openssl.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-gencrl', '-out', 'empty.pem.crl']);
  for (const n of LEAVES) issue(n, n);
  for (const n of ['ocspRevoked', 'crlRevoked', 'ocspRevokedCrlGood']) ssl(['ca', '-config', 'openssl.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-revoke', `${n}.pem`, '-crl_reason', 'keyCompromise']);
  ssl(['ca', '-config', 'openssl.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-gencrl', '-out', 'ca.pem.crl']);
  ssl(['ca', '-config', 'openssl.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-gencrl', '-crl_lastupdate', '20210101000000Z', '-crl_nextupdate', '20210108000000Z', '-out', 'stale.pem.crl']);
  // DER on the wire, as CAs publish them
  for (const c of ['empty', 'ca', 'stale']) ssl(['crl', '-in', `${c}.pem.crl`, '-outform', 'DER', '-out', `${c}.crl`]);
  const file = Object.fromEntries(LEAVES.map((n) => [n, join(dir, `${n}.pem`)])) as Record<RevLeaf, string>;
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    file,
    base,
    hits,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
