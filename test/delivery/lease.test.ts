/**
 * The delivery engine's leases through a real daemon (SQLite) and a loopback
 * MX that holds each DATA reply: while an attempt runs, its recipient is in
 * flight under the daemon's node id and the lease is renewed; when another
 * node takes the recipient over meanwhile (written here as that node's
 * takeover and claim would leave the row), the daemon's record step writes
 * nothing over it; when that other node's lease runs out, the daemon takes
 * the recipient over and delivers it again (the duplicate window of a node
 * that stalls past its lease, docs/scale-out.md "Delivery claims").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';

const OTHER = 'other-node/1/00000000';

let setup: TestSetup;
let zone: DnsZone;
let mx: MxServer;
let gw: RunningGateway;

beforeAll(async () => {
  // every DATA reply held 4 s: the attempt is under way long enough to watch its lease
  mx = await startMxServer({ ip: '127.0.0.16', port: 0, dataDelayMs: 4000 });
  zone = await startDnsZone([
    { name: 'lease.test', type: 'MX', exchange: 'mx.lease.test', priority: 10 },
    { name: 'mx.lease.test', type: 'A', address: '127.0.0.16' },
  ]);
  setup = await setupGateway({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    // the shortest lease: renewed every second
    extra: { dns: { servers: [zone.server] }, delivery: { enabled: true, port: mx.port, defaultRequirement: 'none', leaseTime: '3s', retry: { backoff: ['1s'] } } },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

interface LeaseRow {
  state: string;
  attempts: number;
  lease_node: string | null;
  lease_until: number | null;
}

const row = (id: string): Promise<LeaseRow | undefined> =>
  withDb(setup.dataDir, (db) => db.get<LeaseRow>('SELECT state, attempts, lease_node, lease_until FROM recipients WHERE message_id = ?', [id]));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('delivery leases in the daemon', () => {
  it('renews its lease, records nothing over a row taken over, and takes over a lease that ran out', async () => {
    const node = String((await gw.waitForEvent('DELIVERY_NODE')).node);
    expect(node).toMatch(/^[A-Za-z0-9._-]+\/\d+\/[0-9a-f]{8}$/);

    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<alice@example.com>');
    await client.command('RCPT TO:<bob@lease.test>');
    const id = queueIdOf(await client.data(dataPayload('Subject: lease\r\n\r\nlease test\r\n')));
    await client.quit();
    if (!id) throw new Error('not queued');

    // claimed: in flight under the daemon's node id; then renewed while the MX holds DATA
    const claimed = await until('the claim', async () => {
      const r = await row(id);
      return r?.state === 'in-flight' ? r : undefined;
    });
    expect(claimed.lease_node).toBe(node);
    const first = claimed.lease_until ?? 0;
    await until('a renewal', async () => {
      const r = await row(id);
      return r && (r.lease_until ?? 0) > first ? r : undefined;
    });

    // another node takes the recipient over and claims it (as its takeover and claim leave the row)
    const lost = gw.logLines().length;
    await withDb(setup.dataDir, (db) => db.transaction((tx) => tx.run(`UPDATE recipients SET lease_node = ?, lease_until = ? WHERE message_id = ?`, [OTHER, Date.now() + 3_600_000, id])));
    // the MX answers 250; the daemon's record finds the row is no longer its own and writes nothing
    const line = await gw.waitForEvent('DELIVERY_LEASE_LOST', 30_000, lost);
    expect(line).toMatchObject({ queueId: id, recipients: 1, node });
    expect(mx.received).toHaveLength(1);
    expect(await row(id)).toMatchObject({ state: 'in-flight', attempts: 0, lease_node: OTHER });
    const before = await auditEvents(setup.configPath);
    expect(before.filter((e) => e.type === 'delivery:attempt' && e.data.queueId === id)).toEqual([]);

    // the other node dies: once its lease has run out, the daemon's sweep takes the recipient over and delivers it again
    const taken = gw.logLines().length;
    await withDb(setup.dataDir, (db) => db.transaction((tx) => tx.run(`UPDATE recipients SET lease_until = ? WHERE message_id = ?`, [Date.now() - 1, id])));
    expect(await gw.waitForEvent('DELIVERY_LEASE_TAKEN_OVER', 30_000, taken)).toMatchObject({ recipients: 1, messages: 1, node });
    await until('the second delivery', async () => (mx.received.length === 2 ? true : undefined));
    await until('the message to leave the queue', async () => ((await row(id)) === undefined ? true : undefined));
    const events = await auditEvents(setup.configPath);
    expect(events.filter((e) => e.type === 'delivery:lease_taken_over' && e.data.queueId === id).map((e) => e.data)).toEqual([{ queueId: id, recipients: 1, node }]);
    // one attempt recorded: the daemon's own, after the takeover
    expect(events.filter((e) => e.type === 'delivery:attempt' && e.data.queueId === id).map((e) => e.data.outcome)).toEqual(['delivered']);
  });
});
