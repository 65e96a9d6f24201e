/**
 * Per-domain concurrency and connection reuse, observed at a real receiving
 * server: never more sessions at once than delivery.perDomainConcurrency, and
 * far fewer connections than messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';

const MESSAGES = 24;
const PER_DOMAIN = 3;

let setup: TestSetup;
let gw: RunningGateway;
let mx: MxServer;
let zone: DnsZone;

beforeAll(async () => {
  mx = await startMxServer({ ip: '127.0.0.13', port: 0, dataDelayMs: 150 });
  zone = await startDnsZone([
    { name: 'slow.test', type: 'MX', exchange: 'mx.slow.test', priority: 10 },
    { name: 'mx.slow.test', type: 'A', address: '127.0.0.13' },
  ]);
  setup = await setupGateway({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: { dns: { servers: [zone.server] }, delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', concurrency: 20, perDomainConcurrency: PER_DOMAIN } },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('delivery concurrency', () => {
  it(`keeps at most ${PER_DOMAIN} sessions to one domain and reuses connections`, async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    for (let i = 0; i < MESSAGES; i++) {
      await client.command('MAIL FROM:<alice@example.com>');
      await client.command(`RCPT TO:<user${i}@slow.test>`);
      expect(queueIdOf(await client.data(dataPayload(`From: alice@example.com\r\nSubject: c ${i}\r\n\r\nconcurrency ${i}\r\n`)))).toBeDefined();
    }
    await client.quit();
    const deadline = Date.now() + 90_000;
    while (mx.received.length < MESSAGES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(mx.received).toHaveLength(MESSAGES);
    expect(mx.maxConcurrent).toBeLessThanOrEqual(PER_DOMAIN);
    expect(mx.connections).toBeLessThan(MESSAGES / 2);
    console.log(`concurrency: ${MESSAGES} messages over ${mx.connections} connections, at most ${mx.maxConcurrent} at once`);
  });
});
