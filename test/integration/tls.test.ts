/**
 * The listeners' TLS on the real daemon: implicit TLS from the first byte,
 * the protocol floor (TLS 1.2 and 1.3 work, a TLS 1.1 client is refused at the
 * handshake) and a certificate swapped on SIGHUP while a session stays open.
 */
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { setupGateway, startGateway, type LogLine, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { readSpooled, withDb } from '../helpers/spool-reader.js';

/** What a TLS 1.1-only client offers (SECLEVEL=0: OpenSSL 3 would not even offer 1.1 otherwise). */
const TLS11_ONLY: ConnectionOptions = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false };

let setup: TestSetup;
let gw: RunningGateway;
let trust: { ca: string; servername: string };

beforeAll(async () => {
  setup = await setupGateway();
  const files = { host: '127.0.0.1', port: 0, certFile: join(setup.dir, 'certs', 'server.crt'), keyFile: join(setup.dir, 'certs', 'server.key') };
  await setup.writeConfig({
    listeners: [
      { name: 'relay', tls: 'starttls', ...files },
      { name: 'smtps', tls: 'implicit', ...files },
    ],
  });
  gw = await startGateway(setup.configPath);
  trust = { ca: setup.pki.ca.certPem, servername: 'localhost' };
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

function port(name: string): number {
  const p = gw.ports.get(name);
  if (p === undefined) throw new Error(`no listener ${name}`);
  return p;
}

async function implicitSession(options: ConnectionOptions = {}): Promise<RawSmtp> {
  const { client, greeting } = await RawSmtp.connect(port('smtps'), { tls: { ...trust, ...options } });
  expect(greeting.text).toMatch(/^220 gw\.test ESMTP/);
  return client;
}

async function starttlsSession(options: ConnectionOptions = {}): Promise<RawSmtp> {
  const { client, greeting } = await RawSmtp.connect(port('relay'));
  expect(greeting.code).toBe(220);
  await client.command('EHLO client.test');
  expect((await client.starttls({ ...trust, ...options })).code).toBe(220);
  return client;
}

async function queueOne(c: RawSmtp): Promise<string> {
  expect((await c.command('EHLO client.test')).code).toBe(250);
  expect((await c.command('MAIL FROM:<alice@example.com>')).text).toBe('250 2.1.0 Accepted');
  expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
  const reply = await c.data(dataPayload('Subject: tls test\r\n\r\nbody\r\n'));
  expect(reply.text).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
  return queueIdOf(reply)!;
}

async function tlsVersionOf(id: string): Promise<unknown> {
  return withDb(setup.dataDir, async (db) => (await db.get<{ tls_version: string }>('SELECT tls_version FROM messages WHERE id = ?', [id]))?.tls_version);
}

/** A TLS handshake that must fail: resolves with the client-side error code. */
function failedHandshake(open: () => TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = open();
    s.once('secureConnect', () => {
      s.destroy();
      reject(new Error(`handshake succeeded with ${String(s.getProtocol())}`));
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('implicit TLS listener', () => {
  it('speaks TLS from the first byte and queues over it', async () => {
    const c = await implicitSession();
    const ehlo = (await c.command('EHLO client.test')).lines.join('\n');
    expect(ehlo).not.toContain('STARTTLS');
    expect(ehlo).toContain('REQUIRETLS');
    const id = await queueOne(c);
    await c.quit();
    expect(await tlsVersionOf(id)).toBe('TLSv1.3');
    const spooled = (await readSpooled(setup.dataDir, setup.masterKeyFile, id)).toString('latin1');
    expect(spooled).toMatch(/^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.3 with cipher [A-Z0-9_]+\)\r\n\tby gw\.test \(Sealgate\) with ESMTPS id /);
  });

  it('sends no SMTP greeting to a cleartext client', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      let data = '';
      const s = netConnect({ host: '127.0.0.1', port: port('smtps') }, () => s.write('EHLO client.test\r\n'));
      s.on('data', (d: Buffer) => (data += d.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => resolve(data));
      setTimeout(() => reject(new Error('connection still open')), 30_000).unref();
    });
    expect(received).not.toMatch(/^220 /m);
  });

  it('accepts TLS 1.2 and TLS 1.3 clients', async () => {
    for (const [options, version] of [[{ maxVersion: 'TLSv1.2' }, 'TLSv1.2'], [{ minVersion: 'TLSv1.3' }, 'TLSv1.3']] as const) {
      const implicit = await implicitSession(options);
      expect(implicit.tlsSocket?.getProtocol()).toBe(version);
      expect(await tlsVersionOf(await queueOne(implicit))).toBe(version);
      await implicit.quit();

      const upgraded = await starttlsSession(options);
      expect(upgraded.tlsSocket?.getProtocol()).toBe(version);
      expect(await tlsVersionOf(await queueOne(upgraded))).toBe(version);
      await upgraded.quit();
    }
  });

  it('refuses a TLS 1.1 client at the handshake, on both listeners', async () => {
    // control: the same client does get TLS 1.1 from a server that still allows it
    const key = setup.pki.server.keyPem;
    const cert = setup.pki.server.certPem;
    const legacy = createTlsServer({ key, cert, minVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
    try {
      const legacyPort = (legacy.address() as { port: number }).port;
      const version = await new Promise<string | null>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: legacyPort, ...TLS11_ONLY }, () => {
          resolve(s.getProtocol());
          s.destroy();
        });
        s.once('error', reject);
      });
      expect(version).toBe('TLSv1.1');
    } finally {
      legacy.close();
    }

    expect(await failedHandshake(() => tlsConnect({ host: '127.0.0.1', port: port('smtps'), ...TLS11_ONLY }))).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');

    const { client } = await RawSmtp.connect(port('relay'));
    await client.command('EHLO client.test');
    await expect(client.starttls(TLS11_ONLY)).rejects.toMatchObject({ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    client.destroy();

    // the listeners keep serving, and a refused client is not a server error in the log
    const after = await implicitSession();
    await after.quit();
    const refusals = async (): Promise<LogLine[]> => {
      for (let i = 0; ; i++) {
        const found = gw.logLines().filter((l) => l.event === 'LISTENER_ERROR' && (l.err as { code?: string } | undefined)?.code === 'ERR_SSL_UNSUPPORTED_PROTOCOL');
        if (new Set(found.map((l) => l.listener)).size === 2 || i === 100) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const logged = await refusals();
    expect([...new Set(logged.map((l) => l.listener))].sort()).toEqual(['relay', 'smtps']);
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
  });
});

describe('certificate reload on SIGHUP', () => {
  it('serves the new certificate to new sessions and keeps an open session usable', async () => {
    const open = await starttlsSession();
    const oldFingerprint = open.tlsSocket?.getPeerCertificate().fingerprint256;
    expect(oldFingerprint).toBe(new X509Certificate(setup.pki.server.certPem).fingerprint256);

    const next = await issueCertificate(setup.pki.ca, { commonName: 'gw-reloaded.test', dnsNames: ['localhost', 'gw-reloaded.test'], usage: 'server' });
    const nextFingerprint = new X509Certificate(next.certPem).fingerprint256;
    expect(nextFingerprint).not.toBe(oldFingerprint);
    await writeFile(join(setup.dir, 'certs', 'server.crt'), next.certPem + setup.pki.ca.certPem);
    await writeFile(join(setup.dir, 'certs', 'server.key'), next.keyPem, { mode: 0o600 });

    const from = gw.logLines().length;
    gw.signal('SIGHUP');
    const reloaded = await gw.waitForEvent('CONFIG_RELOADED', 30_000, from);
    expect(reloaded.restartNeeded).toEqual([]);

    const upgraded = await starttlsSession();
    expect(upgraded.tlsSocket?.getPeerCertificate().fingerprint256).toBe(nextFingerprint);
    expect(upgraded.tlsSocket?.getPeerCertificate().subject.CN).toBe('gw-reloaded.test');
    await queueOne(upgraded);
    await upgraded.quit();

    const implicit = await implicitSession();
    expect(implicit.tlsSocket?.getPeerCertificate().fingerprint256).toBe(nextFingerprint);
    await implicit.quit();

    // the session opened before the reload goes on, on its old certificate
    expect(open.isClosed).toBe(false);
    expect(open.tlsSocket?.getPeerCertificate().fingerprint256).toBe(oldFingerprint);
    await queueOne(open);
    await open.quit();
  });
});
