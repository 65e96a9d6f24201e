/**
 * A message archived with its verdict is claimed for delivery in that same
 * transaction (DeliveryEngine.claimWithVerdict) while capacity is free: at
 * a light load it reaches the receiving server with no claim pass of the
 * engine's having taken it. With no capacity free (delivery.concurrency 1,
 * a slow receiving server, a burst), the engine's own passes claim the rest,
 * and the limit holds: never more than one message received at once.
 * Observed through a real daemon, SMTP sessions and its log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway;
let mx: MxServer;
let zone: DnsZone;

async function start(concurrency: number, dataDelayMs: number): Promise<void> {
  mx = await startMxServer({ ip: '127.0.0.13', port: 0, dataDelayMs });
  zone = await startDnsZone([
    { name: 'claim.test', type: 'MX', exchange: 'mx.claim.test', priority: 10 },
    { name: 'mx.claim.test', type: 'A', address: '127.0.0.13' },
  ]);
  setup = await setupGateway({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: { dns: { servers: [zone.server] }, delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', concurrency, perDomainConcurrency: concurrency } },
  });
  gw = await startGateway(setup.configPath);
}

afterEach(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

async function send(client: RawSmtp, i: number): Promise<string> {
  await client.command('MAIL FROM:<alice@example.com>');
  await client.command(`RCPT TO:<user${i}@claim.test>`);
  const id = queueIdOf(await client.data(dataPayload(`From: alice@example.com\r\nTo: user${i}@claim.test\r\nSubject: claim ${i}\r\n\r\nclaimed with the verdict ${i}\r\n`)));
  if (!id) throw new Error('not accepted');
  return id;
}

async function receivedAll(n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (mx.received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(mx.received).toHaveLength(n);
}

/** Recipients the engine's own claim passes took (DELIVERY_TICK's count). */
const claimedByPasses = (): number => gw.logLines().filter((l) => l.event === 'DELIVERY_TICK').reduce((n, l) => n + Number(l.claimed ?? 0), 0);

describe('a delivery claim made with the verdict', () => {
  it('at a light load, messages are archived and claimed in their verdict’s transaction: no claim pass takes them', async () => {
    await start(20, 0);
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await send(client, i));
      await receivedAll(i + 1);
    }
    await client.quit();
    // the receiving server has the last message before the daemon has recorded its attempt: wait for the record's log line
    const delivered = (id: string): boolean => gw.logLines().some((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id && l.outcome === 'delivered');
    await until('every attempt recorded as delivered', () => ids.every(delivered));
    const lines = gw.logLines();
    const archivedWith = (id: string): unknown => lines.find((l) => l.event === 'MESSAGE_ARCHIVED' && l.queueId === id)?.with;
    for (const id of ids) {
      expect(['verdict', 'stage'], id).toContain(archivedWith(id));
    }
    // a message archived with its verdict was claimed in that transaction; one whose content was not stored in time
    // (a loaded machine) was archived by the stage and taken by a claim pass, as before: one job each
    const byStage = ids.filter((id) => archivedWith(id) === 'stage').length;
    expect(claimedByPasses()).toBe(byStage);
    console.log(`claim with the verdict: ${ids.length - byStage} of ${ids.length} messages archived and claimed with their verdict`);
  });

  it('with no capacity free, the engine’s passes claim the rest, and delivery.concurrency still holds', async () => {
    await start(1, 500);
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    for (let i = 0; i < 4; i++) await send(client, i);
    await client.quit();
    await receivedAll(4);
    expect(mx.maxConcurrentData).toBe(1);
    // the first may go with its verdict; the others found the one job slot taken and waited for a pass
    expect(claimedByPasses()).toBeGreaterThanOrEqual(1);
  });
});
