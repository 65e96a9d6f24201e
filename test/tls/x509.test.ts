/**
 * X.509 generation checked against real OpenSSL (`openssl verify`,
 * `openssl x509 -ext`) and real Node TLS handshakes on loopback.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../src/tls/dev-certs.js';
import { generateCa, issueCertificate, parseIpAddress, type KeyType, type Pem } from '../../src/tls/x509.js';

const OPENSSL = '/usr/bin/openssl';
const run = promisify(execFile);

interface RunResult {
  ok: boolean;
  out: string;
}

/** Runs openssl; never throws on a non-zero exit, returns stdout+stderr. */
async function openssl(args: string[]): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(OPENSSL, args);
    return { ok: true, out: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

let dir: string;
let fileCounter = 0;

async function writeTemp(name: string, data: string): Promise<string> {
  const path = join(dir, `${fileCounter++}-${name}`);
  await writeFile(path, data);
  return path;
}

async function verify(ca: Pem, leaf: Pem, extra: string[] = []): Promise<RunResult> {
  const caFile = await writeTemp('ca.pem', ca.certPem);
  const leafFile = await writeTemp('leaf.pem', leaf.certPem);
  return openssl(['verify', ...extra, '-CAfile', caFile, leafFile]);
}

async function showExt(pem: string, exts: string): Promise<string> {
  const file = await writeTemp('cert.pem', pem);
  const res = await openssl(['x509', '-in', file, '-noout', '-ext', exts]);
  expect(res.ok, res.out).toBe(true);
  return res.out;
}

function countCerts(pem: string): number {
  return pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
}

const cas = new Map<KeyType, Pem>();
const KEY_TYPES: KeyType[] = ['ec-p256', 'rsa-2048'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-x509-'));
  for (const keyType of KEY_TYPES) {
    cas.set(keyType, await generateCa({ commonName: `Sealgate Test CA ${keyType}`, keyType }));
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function caFor(keyType: KeyType): Pem {
  const ca = cas.get(keyType);
  if (!ca) throw new Error(`no CA for ${keyType}`);
  return ca;
}

describe('generateCa', () => {
  it.each(KEY_TYPES)('%s CA has critical CA:TRUE, keyCertSign+cRLSign and a subject key id', async (keyType) => {
    const ca = caFor(keyType);
    const out = await showExt(ca.certPem, 'basicConstraints,keyUsage,subjectKeyIdentifier');
    expect(out).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(out).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign\s/);
    expect(out).toMatch(/Subject Key Identifier:\s+([0-9A-F]{2}:){19}[0-9A-F]{2}/);
    const caFile = await writeTemp('ca.pem', ca.certPem);
    expect((await openssl(['verify', '-CAfile', caFile, caFile])).ok).toBe(true);
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPrivateKey(ca.keyPem).asymmetricKeyType).toBe(keyType === 'rsa-2048' ? 'rsa' : 'ec');
    expect(new X509Certificate(ca.certPem).checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
  });
});

describe('issueCertificate', () => {
  const cases = KEY_TYPES.flatMap((keyType) =>
    (['server', 'client', 'both'] as const).map((usage) => ({ keyType, usage })),
  );

  it.each(cases)('$keyType $usage certificate verifies with openssl', async ({ keyType, usage }) => {
    const ca = caFor(keyType);
    const leaf = await issueCertificate(ca, {
      commonName: `${usage}.sealgate.test`,
      dnsNames: [`${usage}.sealgate.test`],
      usage,
      keyType,
    });
    const res = await verify(ca, leaf);
    expect(res.ok, res.out).toBe(true);
    expect(res.out).toMatch(/: OK\s*$/);

    // The EKU is honoured: the purpose checks pass exactly for the requested usage.
    const asServer = await verify(ca, leaf, ['-purpose', 'sslserver']);
    const asClient = await verify(ca, leaf, ['-purpose', 'sslclient']);
    expect(asServer.ok, asServer.out).toBe(usage !== 'client');
    expect(asClient.ok, asClient.out).toBe(usage !== 'server');

    const text = await openssl(['x509', '-in', await writeTemp('leaf.pem', leaf.certPem), '-noout', '-text']);
    expect(text.out).toContain(keyType === 'rsa-2048' ? 'sha256WithRSAEncryption' : 'ecdsa-with-SHA256');
    expect(new X509Certificate(leaf.certPem).checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
  });

  it.each([
    ['ec-p256', 'rsa-2048'],
    ['rsa-2048', 'ec-p256'],
  ] as const)('%s CA issues a verifiable %s leaf', async (caType, leafType) => {
    const ca = caFor(caType);
    const leaf = await issueCertificate(ca, { commonName: 'mixed', dnsNames: ['mixed.test'], usage: 'server', keyType: leafType });
    const res = await verify(ca, leaf);
    expect(res.ok, res.out).toBe(true);
    expect(createPrivateKey(leaf.keyPem).asymmetricKeyType).toBe(leafType === 'rsa-2048' ? 'rsa' : 'ec');
  });

  it('shows the expected names, IPs, EKUs and basic constraints', async () => {
    const leaf = await issueCertificate(caFor('ec-p256'), {
      commonName: 'mx.sealgate.test',
      dnsNames: ['mx.sealgate.test', 'localhost'],
      ipAddresses: ['127.0.0.1', '::1', '2001:db8::192.0.2.1', 'fe80::1:2'],
      usage: 'both',
    });
    const out = await showExt(leaf.certPem, 'subjectAltName,extendedKeyUsage,basicConstraints');
    expect(out).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(out).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(out).toContain('DNS:mx.sealgate.test');
    expect(out).toContain('DNS:localhost');
    expect(out).toContain('IP Address:127.0.0.1');
    expect(out).toContain('IP Address:0:0:0:0:0:0:0:1');
    expect(out).toContain('IP Address:2001:DB8:0:0:0:0:C000:201');
    expect(out).toContain('IP Address:FE80:0:0:0:0:0:1:2');
  });

  it.each([
    ['server', 'TLS Web Server Authentication', 'TLS Web Client Authentication'],
    ['client', 'TLS Web Client Authentication', 'TLS Web Server Authentication'],
  ] as const)('%s usage has only its own EKU', async (usage, present, absent) => {
    const leaf = await issueCertificate(caFor('ec-p256'), { commonName: 'x', usage });
    const out = await showExt(leaf.certPem, 'extendedKeyUsage,subjectAltName');
    expect(out).toContain(present);
    expect(out).not.toContain(absent);
    // No names given: no (empty, invalid) subjectAltName extension at all.
    expect(out).not.toContain('Subject Alternative Name');
  });

  it.each([
    ['ec-p256', /Key Usage: critical\s+Digital Signature\s*$/m],
    ['rsa-2048', /Key Usage: critical\s+Digital Signature, Key Encipherment\s*$/m],
  ] as const)('%s leaf key usage', async (keyType, expected) => {
    const leaf = await issueCertificate(caFor(keyType), { commonName: 'ku', usage: 'server', keyType });
    expect(await showExt(leaf.certPem, 'keyUsage')).toMatch(expected);
  });

  it('links authorityKeyIdentifier to the CA subjectKeyIdentifier', async () => {
    const ca = caFor('rsa-2048');
    const leaf = await issueCertificate(ca, { commonName: 'aki', usage: 'client' });
    const hex = /(?:[0-9A-F]{2}:){19}[0-9A-F]{2}/;
    const ski = (await showExt(ca.certPem, 'subjectKeyIdentifier')).match(hex)?.[0];
    const aki = (await showExt(leaf.certPem, 'authorityKeyIdentifier')).match(hex)?.[0];
    expect(ski).toBeDefined();
    expect(aki).toBe(ski);
  });

  it('uses a random positive 16-byte serial and notBefore one hour back', async () => {
    const ca = caFor('ec-p256');
    const a = new X509Certificate((await issueCertificate(ca, { commonName: 'a', usage: 'server' })).certPem);
    const b = new X509Certificate((await issueCertificate(ca, { commonName: 'b', usage: 'server' })).certPem);
    for (const cert of [a, b]) {
      expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
      const skew = Date.now() - new Date(cert.validFrom).getTime();
      expect(skew).toBeGreaterThan(59 * 60 * 1000);
      expect(skew).toBeLessThan(61 * 60 * 1000);
      expect(new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime()).toBe(397 * 86_400_000);
    }
    expect(a.serialNumber).not.toBe(b.serialNumber);
  });

  it('encodes dates from 2050 on as GeneralizedTime and still verifies', async () => {
    const ca = caFor('ec-p256');
    const leaf = await issueCertificate(ca, {
      commonName: 'far',
      usage: 'server',
      notBefore: new Date(Date.now() - 86_400_000),
      validityDays: 365 * 40,
    });
    const res = await verify(ca, leaf);
    expect(res.ok, res.out).toBe(true);
    const parsed = await openssl(['asn1parse', '-in', await writeTemp('far.pem', leaf.certPem)]);
    expect(parsed.out).toContain('GENERALIZEDTIME');
  });

  it('rejects an expired certificate', async () => {
    const ca = caFor('ec-p256');
    const leaf = await issueCertificate(ca, {
      commonName: 'expired.sealgate.test',
      dnsNames: ['expired.sealgate.test'],
      usage: 'server',
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      validityDays: 1,
    });
    const res = await verify(ca, leaf);
    expect(res.ok).toBe(false);
    expect(res.out).toMatch(/certificate has expired/);
  });

  it('rejects a leaf signed by another CA', async () => {
    const leaf = await issueCertificate(caFor('ec-p256'), { commonName: 'x', usage: 'server' });
    const res = await verify(caFor('rsa-2048'), leaf);
    expect(res.ok).toBe(false);
  });

  it('refuses bad input', async () => {
    const ca = caFor('ec-p256');
    await expect(issueCertificate(ca, { commonName: 'x', usage: 'server', ipAddresses: ['300.1.1.1'] })).rejects.toThrow(
      /invalid IP address/,
    );
    await expect(issueCertificate(ca, { commonName: 'x', usage: 'server', dnsNames: ['bad name'] })).rejects.toThrow(
      /invalid DNS name/,
    );
    await expect(issueCertificate(ca, { commonName: 'x', usage: 'server', validityDays: 0 })).rejects.toThrow(
      /validityDays/,
    );
    await expect(issueCertificate(ca, { commonName: '', usage: 'server' })).rejects.toThrow(/commonName/);
    // A leaf is not a CA.
    const leaf = await issueCertificate(ca, { commonName: 'leaf', usage: 'server' });
    await expect(issueCertificate(leaf, { commonName: 'x', usage: 'server' })).rejects.toThrow(/not a CA/);
    await expect(issueCertificate({ certPem: ca.certPem, keyPem: 'nope' }, { commonName: 'x', usage: 'server' })).rejects.toThrow(
      /PRIVATE KEY/,
    );
  });

  it.each([
    ['127.0.0.1', [127, 0, 0, 1]],
    ['::1', [...new Array<number>(15).fill(0), 1]],
    ['::', new Array<number>(16).fill(0)],
    ['2001:db8::1', [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1]],
    ['::ffff:192.0.2.1', [...new Array<number>(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]],
    ['1:2:3:4:5:6:7:8', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
  ])('parseIpAddress(%s)', (text, bytes) => {
    expect([...parseIpAddress(text)]).toEqual(bytes);
  });
});

// ---------------------------------------------------------------------------
// Real TLS

interface Listening {
  server: tls.Server;
  port: number;
  /** Handshakes the server failed or refused. */
  clientErrors: Error[];
  close: () => Promise<void>;
}

async function listen(options: tls.TlsOptions, onSecure?: (socket: tls.TLSSocket) => void): Promise<Listening> {
  const server = tls.createServer(options, (socket) => {
    socket.on('error', () => undefined);
    onSecure?.(socket);
    socket.end('hello\n');
  });
  const clientErrors: Error[] = [];
  server.on('tlsClientError', (err) => clientErrors.push(err));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    clientErrors,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface ConnectOutcome {
  authorized: boolean;
  error?: NodeJS.ErrnoException;
  data: string;
}

function connect(options: tls.ConnectionOptions): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    let data = '';
    let authorized = false;
    const socket = tls.connect(options, () => {
      authorized = socket.authorized;
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ authorized, error, data });
    });
    socket.on('close', () => resolve({ authorized, data }));
  });
}

describe('TLS with issued certificates', () => {
  it.each(KEY_TYPES)('%s server certificate verifies by hostname and by IP; wrong name fails', async (keyType) => {
    const ca = caFor(keyType);
    const leaf = await issueCertificate(ca, {
      commonName: 'mx.sealgate.test',
      dnsNames: ['mx.sealgate.test'],
      ipAddresses: ['127.0.0.1', '::1'],
      usage: 'server',
      keyType,
    });
    const srv = await listen({ key: leaf.keyPem, cert: leaf.certPem });
    try {
      const good = await connect({ host: '127.0.0.1', port: srv.port, ca: [ca.certPem], servername: 'mx.sealgate.test' });
      expect(good.error).toBeUndefined();
      expect(good.authorized).toBe(true);
      expect(good.data).toBe('hello\n');

      // No servername: Node checks the IP address against the iPAddress SANs.
      const byIp = await connect({ host: '127.0.0.1', port: srv.port, ca: [ca.certPem] });
      expect(byIp.error).toBeUndefined();
      expect(byIp.authorized).toBe(true);

      const wrong = await connect({ host: '127.0.0.1', port: srv.port, ca: [ca.certPem], servername: 'other.sealgate.test' });
      expect(wrong.error?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(wrong.error?.message).toMatch(/Hostname\/IP does not match certificate's altnames/);

      const untrusted = await connect({ host: '127.0.0.1', port: srv.port, servername: 'mx.sealgate.test' });
      // The server sends only its leaf, so OpenSSL cannot check the leaf's signature.
      expect(untrusted.error?.code).toMatch(/^UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)$/);
    } finally {
      await srv.close();
    }
    // IPv6 SAN through Node's own identity check (no IPv6 loopback needed).
    const legacy = new X509Certificate(leaf.certPem).toLegacyObject();
    expect(tls.checkServerIdentity('::1', legacy)).toBeUndefined();
    expect(tls.checkServerIdentity('::2', legacy)).toBeInstanceOf(Error);
  });

  it('rejects an expired server certificate', async () => {
    const ca = caFor('ec-p256');
    const leaf = await issueCertificate(ca, {
      commonName: 'old',
      dnsNames: ['old.sealgate.test'],
      usage: 'server',
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      validityDays: 1,
    });
    const srv = await listen({ key: leaf.keyPem, cert: leaf.certPem });
    try {
      const res = await connect({ host: '127.0.0.1', port: srv.port, ca: [ca.certPem], servername: 'old.sealgate.test' });
      expect(res.error?.code).toBe('CERT_HAS_EXPIRED');
    } finally {
      await srv.close();
    }
  });

  it.each(KEY_TYPES)('%s client certificate is accepted by a server requiring one', async (keyType) => {
    const ca = caFor(keyType);
    const server = await issueCertificate(ca, { commonName: 'mx', dnsNames: ['mx.sealgate.test'], usage: 'server', keyType });
    const client = await issueCertificate(ca, { commonName: 'relay-client-01', usage: 'client', keyType });
    let peerCn: unknown;
    let peerAuthorized = false;
    const srv = await listen(
      { key: server.keyPem, cert: server.certPem, requestCert: true, rejectUnauthorized: true, ca: [ca.certPem] },
      (socket) => {
        peerAuthorized = socket.authorized;
        peerCn = socket.getPeerCertificate().subject.CN;
      },
    );
    try {
      const res = await connect({
        host: '127.0.0.1',
        port: srv.port,
        ca: [ca.certPem],
        servername: 'mx.sealgate.test',
        key: client.keyPem,
        cert: client.certPem,
      });
      expect(res.error).toBeUndefined();
      expect(res.data).toBe('hello\n');
      expect(peerAuthorized).toBe(true);
      expect(peerCn).toBe('relay-client-01');
    } finally {
      await srv.close();
    }
  });

  it('a server requiring client certificates refuses one from another CA and a server-only one', async () => {
    const ca = caFor('ec-p256');
    const server = await issueCertificate(ca, { commonName: 'mx', dnsNames: ['mx.sealgate.test'], usage: 'server' });
    const foreign = await issueCertificate(caFor('rsa-2048'), { commonName: 'intruder', usage: 'client' });
    const serverOnly = await issueCertificate(ca, { commonName: 'not-a-client', usage: 'server' });
    let reached = 0;
    const srv = await listen(
      { key: server.keyPem, cert: server.certPem, requestCert: true, rejectUnauthorized: true, ca: [ca.certPem] },
      () => reached++,
    );
    try {
      // Control: a proper client certificate gets through this very server.
      const ok = await issueCertificate(ca, { commonName: 'good-client', usage: 'client' });
      const control = await connect({
        host: '127.0.0.1',
        port: srv.port,
        ca: [ca.certPem],
        servername: 'mx.sealgate.test',
        key: ok.keyPem,
        cert: ok.certPem,
      });
      expect(control.data).toBe('hello\n');
      expect(reached).toBe(1);
      expect(srv.clientErrors).toHaveLength(0);

      // With TLS 1.3 the client finishes its side of the handshake before the
      // server has checked the client certificate, so the refusal shows as
      // the server dropping the connection without a byte of data.
      for (const [i, cred] of [foreign, serverOnly].entries()) {
        const res = await connect({
          host: '127.0.0.1',
          port: srv.port,
          ca: [ca.certPem],
          servername: 'mx.sealgate.test',
          key: cred.keyPem,
          cert: cred.certPem,
        });
        expect(res.data).toBe('');
        expect(srv.clientErrors).toHaveLength(i + 1);
      }
      expect(reached).toBe(1);
    } finally {
      await srv.close();
    }
  });
});

// ---------------------------------------------------------------------------
// Development certificates

describe('ensureDevCertificates', () => {
  it('creates CA, chain and key with mode 0600 and leaves them alone afterwards', async () => {
    const base = await mkdtemp(join(dir, 'dev-'));
    const tlsDir = join(base, 'etc', 'tls');
    const certFile = join(tlsDir, 'server.crt');
    const keyFile = join(tlsDir, 'server.key');
    const opts = { certFile, keyFile, hostnames: ['mx.sealgate.test', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] };

    const first = await ensureDevCertificates(opts);
    expect(first).toEqual({ created: true, caCertFile: join(tlsDir, 'dev-ca.crt') });

    const files = [certFile, keyFile, join(tlsDir, 'dev-ca.crt'), join(tlsDir, 'dev-ca.key')];
    for (const file of files) {
      expect(((await stat(file)).mode & 0o777).toString(8), file).toBe('600');
    }
    expect(((await stat(tlsDir)).mode & 0o777).toString(8)).toBe('700');
    expect(((await stat(join(base, 'etc'))).mode & 0o777).toString(8)).toBe('700');
    expect((await readdir(tlsDir)).sort()).toEqual(['dev-ca.crt', 'dev-ca.key', 'server.crt', 'server.key']);

    const chain = await readFile(certFile, 'utf8');
    const caPem = await readFile(first.caCertFile, 'utf8');
    expect(countCerts(chain)).toBe(2);
    expect(chain.endsWith(caPem)).toBe(true);
    expect(new X509Certificate(caPem).subject).toBe('CN=Sealgate Development CA');

    const leaf = new X509Certificate(chain);
    expect(leaf.subject).toBe('CN=mx.sealgate.test');
    expect(leaf.subjectAltName).toBe('DNS:mx.sealgate.test, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(leaf.checkPrivateKey(createPrivateKey(await readFile(keyFile, 'utf8')))).toBe(true);
    const verified = await openssl(['verify', '-purpose', 'sslserver', '-CAfile', first.caCertFile, certFile]);
    expect(verified.ok, verified.out).toBe(true);

    const before = await Promise.all(files.map(async (f) => ({ data: await readFile(f, 'utf8'), mtime: (await stat(f)).mtimeMs })));
    const second = await ensureDevCertificates(opts);
    expect(second).toEqual({ created: false, caCertFile: first.caCertFile });
    const after = await Promise.all(files.map(async (f) => ({ data: await readFile(f, 'utf8'), mtime: (await stat(f)).mtimeMs })));
    expect(after).toEqual(before);

    // The server cert serves a real TLS client trusting only the dev CA.
    const srv = await listen({ key: await readFile(keyFile), cert: chain });
    try {
      const res = await connect({ host: '127.0.0.1', port: srv.port, ca: [caPem], servername: 'localhost' });
      expect(res.error).toBeUndefined();
      expect(res.authorized).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('reissues a missing server key/cert with the existing CA, in a separate caDir', async () => {
    const base = await mkdtemp(join(dir, 'dev-'));
    const caDir = join(base, 'ca');
    const certFile = join(base, 'tls', 'gw.pem');
    const keyFile = join(base, 'keys', 'gw.key');
    const opts = { certFile, keyFile, caDir, hostnames: ['gw.sealgate.test'], ipAddresses: [] };

    const first = await ensureDevCertificates(opts);
    expect(first).toEqual({ created: true, caCertFile: join(caDir, 'dev-ca.crt') });
    const caBefore = await readFile(first.caCertFile, 'utf8');
    const caKeyBefore = await readFile(join(caDir, 'dev-ca.key'), 'utf8');
    const chainBefore = await readFile(certFile, 'utf8');

    await unlink(keyFile);
    const second = await ensureDevCertificates(opts);
    expect(second.created).toBe(true);
    expect(await readFile(first.caCertFile, 'utf8')).toBe(caBefore);
    expect(await readFile(join(caDir, 'dev-ca.key'), 'utf8')).toBe(caKeyBefore);
    const chainAfter = await readFile(certFile, 'utf8');
    expect(chainAfter).not.toBe(chainBefore);
    expect(new X509Certificate(chainAfter).checkPrivateKey(createPrivateKey(await readFile(keyFile, 'utf8')))).toBe(true);
    const verified = await openssl(['verify', '-CAfile', first.caCertFile, certFile]);
    expect(verified.ok, verified.out).toBe(true);
    for (const d of [caDir, join(base, 'tls'), join(base, 'keys')]) {
      expect(((await stat(d)).mode & 0o777).toString(8), d).toBe('700');
      expect((await readdir(d)).some((f) => f.endsWith('.tmp'))).toBe(false);
    }
  });

  it('needs at least one name', async () => {
    const base = await mkdtemp(join(dir, 'dev-'));
    await expect(
      ensureDevCertificates({ certFile: join(base, 'c.pem'), keyFile: join(base, 'k.pem'), hostnames: [], ipAddresses: [] }),
    ).rejects.toThrow(/at least one/);
  });
});
