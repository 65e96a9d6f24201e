/**
 * While every MX of a domain is down the daemon waits (no busy loop: queue
 * scans and DNS lookups stay proportional to the recorded attempts), and it
 * catches up once the MX is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';

const MESSAGES = 6;
let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let mx: MxServer | undefined;
let port: number;

beforeAll(async () => {
  // find a free port on the MX address, then leave it closed: the MX is "down"
  const probe = await startMxServer({ ip: '127.0.0.14', port: 0 });
  port = probe.port;
  await probe.close();
  zone = await startDnsZone([
    { name: 'outage.test', type: 'MX', exchange: 'mx.outage.test', priority: 10 },
    { name: 'mx.outage.test', type: 'A', address: '127.0.0.14' },
  ]);
  setup = await setupGateway({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: { dns: { servers: [zone.server] }, delivery: { enabled: true, port, defaultRequirement: 'may', retry: { backoff: ['2s'] }, deadHostTime: '1s' } },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

const attempts = () => withDb(setup.dataDir, async (db) => (await db.get<{ n: number | null }>('SELECT sum(attempts) AS n FROM recipients'))?.n ?? 0);

describe('outage', () => {
  it('idles while the MX is down and catches up when it returns', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    for (let i = 0; i < MESSAGES; i++) {
      await client.command('MAIL FROM:<alice@example.com>');
      await client.command(`RCPT TO:<u${i}@outage.test>`);
      expect(queueIdOf(await client.data(dataPayload(`Subject: o ${i}\r\n\r\noutage ${i}\r\n`)))).toBeDefined();
    }
    await client.quit();
    // let every message be tried at least twice
    const deadline = Date.now() + 60_000;
    while ((await attempts()) < MESSAGES * 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const tried = await attempts();
    expect(tried).toBeGreaterThanOrEqual(MESSAGES * 2);
    const ticks = gw.logLines().filter((l) => l.event === 'DELIVERY_TICK').length;
    const mxLookups = zone.queries.filter((q) => q === 'MX outage.test').length;
    console.log(`outage: ${tried} attempts, ${mxLookups} MX lookups, ${ticks} queue scans`);
    // one lookup per attempt at most, and a bounded number of scans per attempt: no busy loop
    expect(mxLookups).toBeLessThanOrEqual(tried);
    expect(ticks).toBeLessThanOrEqual(tried * 3 + 20);

    // the MX comes back; an operator nudges the queue (or the next retry comes)
    mx = await startMxServer({ ip: '127.0.0.14', port });
    await runCli(['-c', setup.configPath, 'queue', 'retry', '--all']);
    const back = Date.now() + 60_000;
    while ((mx.received.length < MESSAGES) && Date.now() < back) await new Promise((r) => setTimeout(r, 100));
    expect(mx.received).toHaveLength(MESSAGES);
  });
});
