/**
 * delivery.clientCertificate: the gateway presents its TLS client
 * certificate when the receiving server asks (what an Exchange Online
 * inbound connector bound to TlsSenderCertificateName checks); unreadable
 * files and a key that is not the certificate's are config errors naming the
 * path.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientCertificate } from '../../src/delivery/client-certificate.js';
import { generateCa, issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

describe('loadClientCertificate', () => {
  let pair: { certPem: string; keyPem: string };
  let other: { certPem: string; keyPem: string };
  beforeAll(async () => {
    const ca = await generateCa({ commonName: 'Client Cert Test CA' });
    pair = await issueCertificate(ca, { commonName: 'gw.example.org', dnsNames: ['gw.example.org'], usage: 'client' });
    other = await issueCertificate(ca, { commonName: 'other.example.org', dnsNames: ['other.example.org'], usage: 'client' });
  });
  const files = (m: Record<string, string>) => (p: string): string => {
    const hit = Object.entries(m).find(([k]) => p.endsWith(k));
    if (!hit) throw new Error('ENOENT');
    return hit[1];
  };
  it('none configured: nothing presented', () => {
    expect(loadClientCertificate(null)).toBeUndefined();
  });
  it('a matching pair is loaded', () => {
    expect(loadClientCertificate({ certFile: 'c.pem', keyFile: 'k.pem' }, files({ 'c.pem': pair.certPem, 'k.pem': pair.keyPem }))).toEqual({ cert: pair.certPem, key: pair.keyPem });
  });
  it.each<[string, Record<string, string>, RegExp]>([
    ['missing certificate', {}, /^delivery\.clientCertificate\.certFile: c\.pem cannot be read/],
    ['missing key', { 'c.pem': 'x' }, /^delivery\.clientCertificate\.keyFile: k\.pem cannot be read/],
    ['another certificate\'s key', { 'c.pem': 'C', 'k.pem': 'K' }, /is not the private key of the certificate in c\.pem/],
  ])('%s', (_name, m, message) => {
    const contents = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v === 'C' ? pair.certPem : v === 'K' ? other.keyPem : v]));
    expect(() => loadClientCertificate({ certFile: 'c.pem', keyFile: 'k.pem' }, files(contents))).toThrow(message);
  });
});

describe('the gateway presents its client certificate when delivering', () => {
  let setup: TestSetup;
  let gw: RunningGateway;
  let relay: MxServer;
  let zone: DnsZone;

  beforeAll(async () => {
    setup = await setupGateway();
    const server = await issueCertificate(setup.pki.ca, { commonName: 'relay.test', dnsNames: ['relay.test'], usage: 'server' });
    relay = await startMxServer({ ip: '127.0.0.16', port: 0, tls: { key: server.keyPem, cert: server.certPem }, requestClientCert: true });
    zone = await startDnsZone([{ name: 'relay.test', type: 'A', address: '127.0.0.16' }]);
    const client = await issueCertificate(setup.pki.ca, { commonName: 'gw.test', dnsNames: ['gw.test'], usage: 'client' });
    await writeFile(join(setup.dir, 'client.crt'), client.certPem);
    await writeFile(join(setup.dir, 'client.key'), client.keyPem, { mode: 0o600 });
    await setup.writeConfig({
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: {
        dns: { servers: [zone.server] },
        delivery: { enabled: true, defaultRequirement: 'verify', smarthost: { host: 'relay.test', port: relay.port }, clientCertificate: { certFile: join(setup.dir, 'client.crt'), keyFile: join(setup.dir, 'client.key') } },
      },
    });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await relay?.close();
    await zone?.close();
    await setup?.cleanup();
  });

  it('the receiving server sees the certificate named like the gateway', async () => {
    await sendMessage(gw.port, 'alice@example.com', ['bob@partner.test'], 'From: alice@example.com\r\nSubject: cert\r\n\r\nclient-cert-body\r\n');
    const got = await until('delivered', () => relay.received.find((m) => m.body.includes('client-cert-body')), { timeoutMs: 60_000 });
    expect(got.secure).toBe(true);
    expect(got.clientCertCn).toBe('gw.test');
  });
});
