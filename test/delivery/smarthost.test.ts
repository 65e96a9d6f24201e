/**
 * Smarthost mode: every message goes to one next hop over verified TLS with
 * AUTH, whatever the recipient domain; no MX lookup is made.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';

let setup: TestSetup;
let gw: RunningGateway;
let relay: MxServer;
let zone: DnsZone;

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'relay.test', dnsNames: ['relay.test'], usage: 'server' });
  relay = await startMxServer({ ip: '127.0.0.12', port: 0, tls: { key: cert.keyPem, cert: cert.certPem }, auth: { user: 'gw', pass: 's3cret-relay' } });
  // the zone knows only the relay: recipient domains have no MX at all
  zone = await startDnsZone([{ name: 'relay.test', type: 'A', address: '127.0.0.12' }]);
  const passwordFile = join(setup.dir, 'relay.password');
  await writeFile(passwordFile, 's3cret-relay\n', { mode: 0o600 });
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, defaultRequirement: 'may', smarthost: { host: 'relay.test', port: relay.port, user: 'gw', passwordFile } },
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

describe('smarthost', () => {
  it('relays mail for any domain through the smarthost with AUTH over verified TLS', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<alice@example.com>');
    await client.command('RCPT TO:<x@nowhere-one.test>');
    await client.command('RCPT TO:<y@nowhere-two.test>');
    const reply = await client.data(dataPayload('From: alice@example.com\r\nSubject: via relay\r\n\r\nbody-smarthost\r\n'));
    await client.quit();
    expect(queueIdOf(reply)).toBeDefined();
    const deadline = Date.now() + 60_000;
    while (relay.received.filter((m) => m.body.includes('body-smarthost')).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const got = relay.received.filter((m) => m.body.includes('body-smarthost'));
    expect(got.flatMap((m) => m.to.map((t) => t.address)).sort()).toEqual(['x@nowhere-one.test', 'y@nowhere-two.test']);
    for (const m of got) expect(m).toMatchObject({ secure: true, user: 'gw' });
    // no MX lookups for the recipient domains
    expect(zone.queries.filter((q) => q.startsWith('MX '))).toEqual([]);
    expect(gw.stdout).not.toContain('s3cret-relay');
  });
});
