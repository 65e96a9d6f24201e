/**
 * The ingress rate limits and burst holds across nodes (docs/rate-limits.md,
 * src/smtp/limit-counts.ts): two gateway nodes (the built daemon) on one
 * PostgreSQL and one s3rver, with top-level limits of 6 messages an hour per
 * sender and bursts over 3 new external recipients held.
 *   - Messages from one sender through both nodes in turn: the 7th, on
 *     either node, is answered 451 4.7.1 naming the limit (each node alone
 *     would allow 6 of its own); after one node restarts, it still refuses
 *     the sender (the counts are in the database, not in its memory).
 *   - Two new recipients through one node, then two more through the other:
 *     the second message is held as a burst (4 new within the window).
 *   - The database holds keyed hashes, never the addresses.
 * Counts only: no timing is asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { auditEvents, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawSmtp, sendMessage } from '../helpers/smtp-client.js';
import { startTwoNodes, type TwoNodes } from '../helpers/two-nodes.js';

const PER_HOUR = 6;

let cluster: TwoNodes;
let nodes: RunningGateway[];

beforeAll(async () => {
  cluster = await startTwoNodes({
    sink: { ip: '127.0.0.131' },
    domains: ['example.net'],
    objectsPrefix: 'ingress-limits/',
    extra: () => ({ limits: { action: 'defer', perSender: { messagesPerHour: PER_HOUR }, burst: { newRecipients: 3, within: '1h' } } }),
  });
  ({ nodes } = cluster);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

const body = (n: number): string => `From: someone\r\nTo: someone\r\nSubject: limits ${n}\r\n\r\nhello ${n}\r\n`;

async function mailFrom(gw: RunningGateway, sender: string): Promise<{ code: number; text: string }> {
  const { client } = await RawSmtp.connect(gw.port);
  try {
    await client.command('EHLO client.test');
    return await client.command(`MAIL FROM:<${sender}>`);
  } finally {
    await client.quit();
  }
}

describe('ingress limits across two nodes', () => {
  it(`a sender limited to ${PER_HOUR} messages an hour gets 451 4.7.1 on either node after ${PER_HOUR} through both, also after a node restarts`, async () => {
    for (let i = 0; i < PER_HOUR; i++) expect(await sendMessage((nodes[i % 2] as RunningGateway).port, 'alice@example.com', ['bob@example.net'], body(i))).toMatch(/^[0-9A-Z]{20}$/);
    for (const gw of nodes) {
      const refused = await mailFrom(gw, 'alice@example.com');
      expect(refused.code).toBe(451);
      expect(refused.text).toContain(`4.7.1 sender over its limit of ${PER_HOUR} messages per hour on connector loopback; try again later`);
    }
    expect((await mailFrom(nodes[0] as RunningGateway, 'bob@example.com')).code).toBe(250);

    // the first node restarts: what it counted is still there
    await (nodes[0] as RunningGateway).stop();
    const restarted = await startGateway((cluster.setups[0]).configPath);
    nodes[0] = restarted;
    await restarted.waitForEvent('DAEMON_READY', 60_000);
    expect((await mailFrom(restarted, 'alice@example.com')).code).toBe(451);

    const events = (await auditEvents(cluster.setups[1].configPath)).filter((e) => e.type === 'ingress:rate_limited' && e.data.stage === 'mail');
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.every((e) => e.data.limit === 'perSender.messagesPerHour' && e.data.count === PER_HOUR)).toBe(true);
  });

  it('new external recipients add up across the nodes: the message that passes 3 within the window is held', async () => {
    const first = await sendMessage((nodes[0] as RunningGateway).port, 'carol@example.com', ['n1@example.net', 'n2@example.net'], body(100));
    const second = await sendMessage((nodes[1] as RunningGateway).port, 'carol@example.com', ['n3@example.net', 'n4@example.net'], body(101));
    const holds = (await auditEvents(cluster.setups[0].configPath)).filter((e) => e.type === 'ingress:rate_limited' && e.data.action === 'hold');
    expect(holds.map((e) => e.data)).toEqual([expect.objectContaining({ queueId: second, limit: 'burst.newRecipients', max: 3, count: 2, senderDomain: 'example.com' })]);
    expect(holds.some((e) => e.data.queueId === first)).toBe(false);

    const db = await PostgresDatabase.open({ url: cluster.shared.pg.url, password: cluster.shared.pg.password, poolSize: 1 });
    try {
      const rows = [...(await db.all('SELECT pair AS k FROM ingress_contacts')), ...(await db.all('SELECT key AS k FROM ingress_counts'))];
      expect(rows.length).toBeGreaterThan(0);
      expect(JSON.stringify(rows)).not.toMatch(/alice|carol|example/);
    } finally {
      await db.close();
    }
  });
});
