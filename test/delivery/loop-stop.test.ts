/**
 * delivery.loopStopHeader: mail delivered into the organisation's own
 * domains carries the header with its secret; mail to anyone else does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopStopStamp, ownDomainPatterns, stampBytes, withStamp } from '../../src/delivery/loop-stop.js';
import { validateConfig } from '../../src/config/load.js';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

const SECRET = 'c2f1e0d3b4a5968778695a4b3c2d1e0f';
const setting = { name: 'X-Gateway-Processed', secret: SECRET };

describe('loop-stop stamp (pure)', () => {
  const own = ownDomainPatterns([{ senderDomains: ['Example.com', '*.clinic.example'] }, { senderDomains: ['*'] }, {}]);
  it('own domains: the connectors\' patterns, lower-cased, without "*"', () => {
    expect(own).toEqual(['example.com', '*.clinic.example']);
  });
  it.each<[string, boolean]>([
    ['example.com', true],
    ['EXAMPLE.COM', true],
    ['north.clinic.example', true],
    ['clinic.example', false],
    ['partner.example', false],
  ])('%s stamped: %s', (domain, stamped) => {
    expect(loopStopStamp(domain, own, setting) !== undefined).toBe(stamped);
  });
  it('off when not configured; the policy\'s own rewrite is kept beside it', () => {
    expect(loopStopStamp('example.com', own, null)).toBeUndefined();
    expect(withStamp({ stripSubjectTag: true, addHeaders: { 'X-A': '1' } }, { name: 'X-B', value: '2' })).toEqual({ stripSubjectTag: true, addHeaders: { 'X-A': '1', 'X-B': '2' } });
    expect(withStamp(undefined, undefined)).toBeUndefined();
    expect(stampBytes({ name: 'X-B', value: '22' })).toBe('X-B: 22\r\n'.length);
  });
  it('config: a name starting with X- and a secret of 16+ printable characters', () => {
    const base = { smtp: { listeners: [{ name: 'r', host: '127.0.0.1', port: 0, tls: 'none' }] }, connectors: [{ name: 'c', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'] }] };
    expect(validateConfig({ ...base, delivery: { loopStopHeader: setting } }, 't').delivery.loopStopHeader).toEqual(setting);
    expect(() => validateConfig({ ...base, delivery: { loopStopHeader: { name: 'Subject', secret: SECRET } } }, 't')).toThrow(/delivery\.loopStopHeader\.name/);
    expect(() => validateConfig({ ...base, delivery: { loopStopHeader: { name: 'X-G', secret: 'short' } } }, 't')).toThrow(/delivery\.loopStopHeader\.secret/);
  });
});

describe('loop-stop stamp on delivered mail', () => {
  let setup: TestSetup;
  let gw: RunningGateway;
  let relay: MxServer;
  let zone: DnsZone;

  beforeAll(async () => {
    setup = await setupGateway();
    const cert = await issueCertificate(setup.pki.ca, { commonName: 'relay.test', dnsNames: ['relay.test'], usage: 'server' });
    relay = await startMxServer({ ip: '127.0.0.15', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
    zone = await startDnsZone([{ name: 'relay.test', type: 'A', address: '127.0.0.15' }]);
    await setup.writeConfig({
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: { dns: { servers: [zone.server] }, delivery: { enabled: true, defaultRequirement: 'may', smarthost: { host: 'relay.test', port: relay.port }, loopStopHeader: setting } },
    });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await relay?.close();
    await zone?.close();
    await setup?.cleanup();
  });

  it('stamps the copy for the own domain only', async () => {
    await sendMessage(gw.port, 'alice@example.com', ['bob@example.com', 'carol@partner.test'], 'From: alice@example.com\r\nSubject: loop\r\n\r\nloop-stop-body\r\n');
    await until('both delivered', () => (relay.received.filter((m) => m.body.includes('loop-stop-body')).length === 2 ? true : undefined), { timeoutMs: 60_000 });
    const byRecipient = new Map(relay.received.map((m) => [m.to.map((t) => t.address).join(','), m.body.toString('latin1')]));
    expect(byRecipient.get('bob@example.com')).toMatch(new RegExp(`^X-Gateway-Processed: ${SECRET}\\r\\n`, 'm'));
    expect(byRecipient.get('carol@partner.test')).not.toContain('X-Gateway-Processed');
    expect(byRecipient.get('carol@partner.test')).not.toContain(SECRET);
  });
});
