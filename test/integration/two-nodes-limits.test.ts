/**
 * delivery.perDomainConcurrency and delivery.perDomainRate across nodes
 * (src/delivery/shared-limits.ts): two gateway nodes (the built daemon) on
 * one PostgreSQL and one s3rver, a loopback MX that holds each DATA reply a
 * moment so attempts overlap. With a limit of 2 attempts at once and 6
 * messages per hour for the domain, ten messages sent through both nodes:
 * the MX never sees more than 2 messages being sent at once, and exactly 6
 * are delivered while the other 4 wait in the queue — the limits count
 * both nodes' attempts (each node alone would allow 2 and 6 of its own).
 * Counts only: no timing is asserted.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/db/postgres.js';
import type { RunningGateway } from '../helpers/gateway.js';
import type { MxServer } from '../helpers/mx-server.js';
import type { SharedStores } from '../helpers/shared-stores.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { startTwoNodes, type TwoNodes } from '../helpers/two-nodes.js';
import { until } from '../helpers/wait.js';

const MESSAGES = 10;
const RATE = 6;
const CONCURRENCY = 2;

let cluster: TwoNodes;
let shared: SharedStores;
let mx: MxServer;
let nodes: RunningGateway[];

beforeAll(async () => {
  cluster = await startTwoNodes({
    sink: { ip: '127.0.0.129', dataDelayMs: 400 },
    domains: ['example.net'],
    objectsPrefix: 'limits/',
    extra: () => ({ delivery: { perDomainConcurrency: CONCURRENCY, perDomainRate: { messages: RATE, per: '1h' } } }),
  });
  ({ shared, mx, nodes } = cluster);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('delivery limits across two nodes', () => {
  it(`at most ${CONCURRENCY} attempts at once and ${RATE} messages per period to one domain, over both nodes`, async () => {
    const run = randomUUID().slice(0, 8);
    for (let i = 0; i < MESSAGES; i++) {
      const gw = nodes[i % 2] as RunningGateway;
      const id = await sendMessage(gw.port, 'alice@example.com', ['bob@example.net'], `From: alice@example.com\r\nTo: bob@example.net\r\nSubject: limits ${run} ${i}\r\n\r\nbody ${i}\r\n`);
      expect(id).not.toBe('');
    }
    const context = (): string => cluster.context();
    await until(`${RATE} delivered`, () => mx.received.length >= RATE, { timeoutMs: 120_000, context });
    // then each node scans the queue three more times: the other four stay queued (the domain has no token left)
    const marks = nodes.map((gw) => gw.logLines().length);
    await until('three more queue scans on each node', () => nodes.every((gw, i) => gw.logLines().slice(marks[i]).filter((l) => l.event === 'DELIVERY_TICK').length >= 3), { timeoutMs: 60_000, context });
    expect(mx.received).toHaveLength(RATE);
    expect(mx.maxConcurrentData).toBeLessThanOrEqual(CONCURRENCY);
    const db = await PostgresDatabase.open({ url: shared.pg.url, password: shared.pg.password, poolSize: 1 });
    try {
      expect(await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM recipients WHERE state = 'queued'")).toEqual({ n: MESSAGES - RATE });
      const bucket = await db.get<{ tokens_micro: number }>('SELECT tokens_micro FROM delivery_rate_buckets WHERE domain = ?', ['example.net']);
      expect(Number(bucket?.tokens_micro)).toBeLessThan(1_000_000);
    } finally {
      await db.close();
    }
  });
});
