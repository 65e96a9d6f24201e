/**
 * Nodes and one-at-a-time job leases on both databases
 * (test/helpers/both-databases.ts), with several writers — other
 * connections to the SQLite file (other processes), other pools on the
 * PostgreSQL database (other nodes):
 *   - a node registers, beats, stops; `listNodes` says live, stale or
 *     stopped and counts the recipients it holds in flight; rows of nodes
 *     gone for a week are removed by the next node that starts;
 *   - of nodes asking for one job's lease at once exactly one holds it; the
 *     holder renews it; another takes it only once it ran out, or at once
 *     after the holder gave it back.
 */
import { describe, expect, it } from 'vitest';
import { holdJobLease, jobLeases, releaseJobLeases } from '../../src/cluster/job-lease.js';
import { heartbeat, listNodes, markStopped, NODE_ROW_KEEP_MS, registerNode } from '../../src/cluster/nodes.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { insertQueuedMessage, internalMessage } from '../../src/queue/store.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = Date.UTC(2026, 11, 6, 12);
const BEAT = 10_000;

/** A message with `recipients` recipients claimed by `node` (in flight under its lease). */
async function inFlight(db: SqlDatabase, id: string, node: string, recipients: number): Promise<void> {
  await db.transaction(async (tx) => {
    const addresses = Array.from({ length: recipients }, (_, i) => `r${i}@example.net`);
    await insertQueuedMessage(tx, internalMessage({ id, createdAt: T, size: 10, spoolKeyId: 'k1', helo: 'gw.example.org', requirement: 'may', recipients: addresses }));
    await tx.run("UPDATE recipients SET state = 'in-flight', lease_node = ?, lease_until = ? WHERE message_id = ?", [node, T + 300_000, id]);
  });
}

describe.each(DIALECTS)('nodes and job leases on %s', (kind) => {
  it('a node registers, beats and stops; stale after three missed beats; its claimed recipients counted', async () => {
    const db = await dbs.fresh(kind);
    await registerNode(db, { id: 'gw1/1/aa', hostname: 'gw1', address: '127.0.0.1:2525', version: '1.0.0' }, T);
    await registerNode(db, { id: 'gw2/2/bb', hostname: 'gw2', address: '127.0.0.2:2525', version: '1.0.1' }, T);
    await inFlight(db, 'M1', 'gw2/2/bb', 3);
    expect(await heartbeat(db, 'gw1/1/aa', T + 40_000)).toBe(true);
    const at = await listNodes(db, T + 40_000, BEAT);
    expect(at.map((n) => [n.id, n.state, n.claimed, n.version, n.address])).toEqual([
      ['gw1/1/aa', 'live', 0, '1.0.0', '127.0.0.1:2525'],
      ['gw2/2/bb', 'stale', 3, '1.0.1', '127.0.0.2:2525'],
    ]);
    await markStopped(db, 'gw1/1/aa', T + 50_000);
    expect((await listNodes(db, T + 50_000, BEAT)).map((n) => [n.id, n.state, n.stoppedAt])).toEqual([
      ['gw2/2/bb', 'stale', null],
      ['gw1/1/aa', 'stopped', T + 50_000],
    ]);
    // a beat for a row removed by hand says so (the node registers again)
    expect(await heartbeat(db, 'gw9/9/zz', T)).toBe(false);
    // a week later the next node to start removes the rows of nodes gone since
    await registerNode(db, { id: 'gw3/3/cc', hostname: 'gw3', address: '', version: '1.0.2' }, T + 50_000 + NODE_ROW_KEEP_MS + 1);
    expect((await listNodes(db, T + 50_000 + NODE_ROW_KEEP_MS + 1, BEAT)).map((n) => n.id)).toEqual(['gw3/3/cc']);
  });

  it('of nodes asking at once for one job, one holds it; renewed by its holder; taken over only once it ran out', async () => {
    const [a, b, c, d] = [dbs.get(kind), await dbs.connect(kind), await dbs.connect(kind), await dbs.connect(kind)];
    await a.run("DELETE FROM node_jobs WHERE name LIKE 'test-%'");
    const won = await Promise.all([a, b, c, d].map((p, i) => holdJobLease(p, 'test-alerts', `node-${i}`, T, 30_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const holder = `node-${won.indexOf(true)}`;
    const other = holder === 'node-0' ? 'node-1' : 'node-0';
    // the holder renews; another node is refused while the lease runs
    expect(await holdJobLease(a, 'test-alerts', holder, T + 20_000, 30_000)).toBe(true);
    expect(await holdJobLease(b, 'test-alerts', other, T + 49_000, 30_000)).toBe(false);
    // past the renewed lease (T + 50 s) another node takes it
    expect(await holdJobLease(b, 'test-alerts', other, T + 50_001, 30_000)).toBe(true);
    expect(await holdJobLease(a, 'test-alerts', holder, T + 50_002, 30_000)).toBe(false);
    expect((await jobLeases(a)).filter((j) => j.name === 'test-alerts')).toEqual([{ name: 'test-alerts', node: other, leaseUntil: T + 80_001 }]);
    // given back at a clean stop: taken at once
    await releaseJobLeases(b, other);
    expect(await holdJobLease(a, 'test-alerts', holder, T + 50_003, 30_000)).toBe(true);
  });
});
