/**
 * PostgreSQL stopped under load across two nodes (issue 19; docs/scale-out.md
 * "When a store is down"): two gateway nodes (the built daemon) on one
 * PostgreSQL and one s3rver, sessions sending through both. Once a quarter
 * of the run is acknowledged the database is stopped at once (open
 * connections break); the nodes answer 451 (nothing is queued without its
 * rows) and the clients retry each refused message, as an MTA does; once
 * both nodes have refused some, the database is started again on the same
 * port and data. Then:
 *   - every message either node answered 250 for is delivered, none lost
 *     (a few delivered twice at most: an attempt whose record the outage
 *     broke is made again, or a message whose accepting COMMIT's answer
 *     the outage lost: answered 451, sent again, accepted twice);
 *   - every refused message was answered with a 4xx (never 5xx: the client
 *     keeps it), and each was accepted later;
 *   - neither node exited, and the audit chain and the archive verify.
 * Counts only: no timing is asserted (the clients pause a moment after a
 * refusal so the outage is not a busy loop).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyArchive } from '../../src/archive/verify.js';
import { verifyAuditChain } from '../../src/audit/log.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import type { RunningGateway } from '../helpers/gateway.js';
import type { MxServer } from '../helpers/mx-server.js';
import type { SharedStores } from '../helpers/shared-stores.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { deliveriesOf, startTwoNodes, type TwoNodes } from '../helpers/two-nodes.js';
import { until } from '../helpers/wait.js';

const TOTAL = 600;
const CLIENTS_PER_NODE = 3;
/** Refusals each node must have answered before the database comes back. */
const REFUSALS_PER_NODE = 3;

let cluster: TwoNodes;
let shared: SharedStores;
let mx: MxServer;
let nodes: RunningGateway[];

const message = (run: string, n: number): string => `From: alice@example.com\r\nTo: bob@example.net\r\nSubject: outage ${n}\r\nMessage-ID: <${run}-${n}@example.com>\r\n\r\nThe staff picnic is on Friday in the park.\r\n`;

const deliveries = (run: string): Map<number, number> => deliveriesOf(mx, run);

/** The queue ids (Sealgate's Received header) of the run's messages the MX received. */
function acceptedIds(run: string): Set<string> {
  const ids = new Set<string>();
  for (const m of mx.received) {
    const text = m.body.toString('latin1');
    if (!text.includes(`<${run}-`)) continue;
    const id = /\(Sealgate\) with \S+ id ([^;\s]+);/.exec(text)?.[1];
    if (!id) throw new Error('a delivered message without Sealgate\'s Received header');
    ids.add(id);
  }
  return ids;
}

interface Tally {
  readonly acked: Set<number>;
  /** Replies other than 250 by node: their codes. */
  readonly refusals: number[][];
}

/** One client of one node: takes messages from `queue` (a refused one goes back) until all are acknowledged. */
async function client(gw: RunningGateway, node: number, run: string, queue: number[], tally: Tally, onAck: () => void): Promise<void> {
  let c: RawSmtp | undefined;
  while (tally.acked.size < TOTAL) {
    const n = queue.shift();
    if (n === undefined) {
      await sleep(50); // another client's message may come back refused
      continue;
    }
    try {
      if (!c) {
        c = (await RawSmtp.connect(gw.port)).client;
        await c.command('EHLO load.test');
      }
      const refused = async (code: number): Promise<void> => {
        tally.refusals[node]?.push(code);
        queue.push(n);
        await c?.command('RSET');
        await sleep(100);
      };
      const mail = await c.command('MAIL FROM:<alice@example.com>');
      if (mail.code !== 250) {
        await refused(mail.code);
        continue;
      }
      const rcpt = await c.command('RCPT TO:<bob@example.net>');
      if (rcpt.code !== 250) {
        await refused(rcpt.code);
        continue;
      }
      const reply = await c.data(dataPayload(message(run, n)));
      if (reply.code === 250 && queueIdOf(reply)) {
        tally.acked.add(n);
        onAck();
      } else await refused(reply.code);
    } catch {
      // the session broke (a 421, or the connection closed): the message was not acknowledged, it goes back
      queue.push(n);
      c?.destroy();
      c = undefined;
      await sleep(100);
    }
  }
  c?.destroy();
}

beforeAll(async () => {
  cluster = await startTwoNodes({
    sink: { ip: '127.0.0.132' },
    domains: ['example.net'],
    objectsPrefix: 'outage/',
    extra: (_first, stores) => ({
      log: { level: 'info', pretty: false },
      store: stores.store({ heartbeat: '2s' }),
      delivery: { retry: { backoff: ['1s'] }, leaseTime: '10s' },
    }),
  });
  ({ shared, mx, nodes } = cluster);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('PostgreSQL stopped under load across two nodes', () => {
  it(`${TOTAL} messages through both nodes, the database stopped and started again in the middle: every acknowledged message delivered, refusals only 4xx, both nodes up, audit and archive verify`, async () => {
    const run = `outage-${randomUUID().slice(0, 8)}`;
    const queue = Array.from({ length: TOTAL }, (_, i) => i);
    const tally: Tally = { acked: new Set(), refusals: [[], []] };
    let outage: Promise<void> | undefined;
    const onAck = (): void => {
      if (tally.acked.size >= TOTAL / 4 && !outage) outage = shared.pg.kill();
    };
    // the database comes back once each node has refused a few messages
    const restart = (async () => {
      await until('the database stopped', () => outage !== undefined, { timeoutMs: 300_000 });
      await outage;
      await until(`each node refused ${REFUSALS_PER_NODE} messages`, () => tally.refusals.every((r) => r.length >= REFUSALS_PER_NODE), { timeoutMs: 120_000, context: () => cluster.context() });
      await shared.pg.start();
    })();
    await Promise.all(nodes.flatMap((gw, i) => Array.from({ length: CLIENTS_PER_NODE }, () => client(gw, i, run, queue, tally, onAck))));
    await restart;

    expect(tally.acked.size).toBe(TOTAL);
    // every refusal said "try again": the client kept each message and it was accepted later
    expect(tally.refusals.flat().every((code) => code >= 400 && code < 500)).toBe(true);
    expect(tally.refusals.flat().length).toBeGreaterThanOrEqual(2 * REFUSALS_PER_NODE);
    const undelivered = (): number[] => {
      const got = deliveries(run);
      return [...tally.acked].filter((n) => !got.has(n));
    };
    await until('every acknowledged message delivered', () => undelivered().length === 0, { timeoutMs: 300_000, context: () => `${undelivered().length} not delivered; ${cluster.context()}` });
    const duplicates = [...deliveries(run).values()].reduce((n, c) => n + c - 1, 0);
    const acceptedTwice = acceptedIds(run).size - TOTAL;
    console.log(`database outage: ${TOTAL} acknowledged, ${tally.refusals.map((r) => r.length).join(' + ')} refusals, ${duplicates} duplicates (${acceptedTwice} of them accepted twice), 0 lost`);
    // a duplicate is either an attempt the MX answered 250 whose record the outage broke (at most the attempts in progress
    // to the domain when the database stopped, delivery.perDomainConcurrency (5) on each node), or a message accepted
    // twice: its accepting COMMIT reached PostgreSQL as it stopped, so its node, not knowing whether it committed, answered
    // 451 and the client sent it again (at most the sessions sending at that moment, CLIENTS_PER_NODE on each node)
    expect(acceptedTwice).toBeGreaterThanOrEqual(0);
    expect(acceptedTwice).toBeLessThanOrEqual(2 * CLIENTS_PER_NODE);
    expect(duplicates - acceptedTwice).toBeLessThanOrEqual(10);
    expect(nodes.map((gw) => [gw.proc.exitCode, gw.proc.signalCode])).toEqual([
      [null, null],
      [null, null],
    ]);

    const db = await PostgresDatabase.open({ url: shared.pg.url, password: shared.pg.password, poolSize: 2 });
    try {
      await until('the queue empty', async () => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages'))?.n === 0, { timeoutMs: 120_000, context: () => cluster.context() });
      expect((await verifyAuditChain(db)).ok).toBe(true);
      // one archive entry per accepted message, a message accepted twice (above) has two: counted by the queue ids the MX received
      expect(await verifyArchive(db, { now: Date.now() })).toMatchObject({ ok: true, messages: acceptedIds(run).size });
    } finally {
      await db.close();
    }
  }, 900_000);
});
