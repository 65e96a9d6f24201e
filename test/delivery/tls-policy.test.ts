/**
 * tls.policies: a per-domain requirement raises what a recipient needs. Two
 * domains share one cleartext-only MX; with defaultRequirement "may" the
 * open domain gets its mail, the domain listed as "verify" does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';

let setup: TestSetup;
let gw: RunningGateway;
let mx: MxServer;
let zone: DnsZone;

beforeAll(async () => {
  mx = await startMxServer({ ip: '127.0.0.40', port: 0 });
  zone = await startDnsZone([
    { name: 'open.test', type: 'MX', exchange: 'mx.shared.test', priority: 10 },
    { name: 'strict.test', type: 'MX', exchange: 'mx.shared.test', priority: 10 },
    { name: 'mx.shared.test', type: 'A', address: '127.0.0.40' },
  ]);
  setup = await setupGateway({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1m'] } },
      tls: { trustedCaFiles: [], policies: { 'strict.test': 'verify' } },
    },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('tls.policies', () => {
  it('holds back mail for a verify domain from a cleartext MX, delivers the opportunistic one', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<alice@example.com>');
    await client.command('RCPT TO:<a@open.test>');
    await client.command('RCPT TO:<b@strict.test>');
    const id = queueIdOf(await client.data(dataPayload('Subject: policy\r\n\r\nbody-policy\r\n')));
    await client.quit();
    const deadline = Date.now() + 60_000;
    let lines = gw.logLines().filter((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id);
    while (lines.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      lines = gw.logLines().filter((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id);
    }
    expect(lines.map((l) => `${String(l.domain)} ${String(l.outcome)}`).sort()).toEqual(['open.test delivered', 'strict.test deferred']);
    expect(mx.received.flatMap((m) => m.to.map((t) => t.address))).toEqual(['a@open.test']);
  });
});
