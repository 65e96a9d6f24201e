/**
 * The store side of delivery limits across nodes (src/delivery/shared-limits.ts)
 * on both databases: other nodes' attempts in progress per domain (a
 * message's recipients at one domain counted once, this node's own left
 * out), the rate buckets stored and read back, and the claim lock, which on
 * PostgreSQL makes a second claim wait until the first has committed.
 */
import { describe, expect, it } from 'vitest';
import { insertQueuedMessage, internalMessage } from '../../src/queue/store.js';
import { loadBuckets, lockClaims, othersInFlight, saveBuckets } from '../../src/delivery/shared-limits.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = Date.UTC(2026, 11, 6, 12);

describe.each(DIALECTS)('shared delivery limits on %s', (kind) => {
  it("counts other nodes' attempts in progress per domain, a message's recipients at a domain once", async () => {
    const db = await dbs.fresh(kind);
    await db.transaction(async (tx) => {
      const queue = (id: string, to: string[]) => insertQueuedMessage(tx, internalMessage({ id, createdAt: T, size: 1, spoolKeyId: 'k', helo: 'h', requirement: 'may', recipients: to }));
      await queue('M1', ['a@x.test', 'b@x.test', 'c@y.test']);
      await queue('M2', ['d@x.test']);
      await queue('M3', ['e@x.test']);
      await queue('M4', ['f@z.test']);
      const fly = (id: string, node: string) => tx.run("UPDATE recipients SET state = 'in-flight', lease_node = ?, lease_until = ? WHERE message_id = ?", [node, T + 60_000, id]);
      await fly('M1', 'other/1/aa');
      await fly('M2', 'third/2/bb');
      await fly('M3', 'me/3/cc');
    });
    expect(Object.fromEntries(await othersInFlight(db, 'me/3/cc'))).toEqual({ 'x.test': 2, 'y.test': 1 });
  });

  it('stores the rate buckets and reads them back (in millionths of a token)', async () => {
    const db = await dbs.fresh(kind);
    await db.transaction((tx) => saveBuckets(tx, new Map([['x.test', { tokens: 2.5, at: T }], ['y.test', { tokens: 0, at: T + 1 }]])));
    await db.transaction((tx) => saveBuckets(tx, new Map([['x.test', { tokens: 1.25, at: T + 2 }]])));
    const read = await db.transaction((tx) => loadBuckets(tx, ['x.test', 'y.test', 'z.test']));
    expect(Object.fromEntries(read)).toEqual({ 'x.test': { tokens: 1.25, at: T + 2 }, 'y.test': { tokens: 0, at: T + 1 } });
  });
});

describe('the claim lock on postgres', () => {
  it('a claim waits for another node’s claim to commit (the claim lock)', async () => {
    const [a, b] = [dbs.get('postgres'), await dbs.connect('postgres')];
    const order: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let locked: () => void = () => undefined;
    const firstLocked = new Promise<void>((r) => (locked = r));
    const first = a.transaction(async (tx) => {
      await lockClaims(tx);
      locked();
      order.push('first claims');
      await held;
      order.push('first commits');
    });
    await firstLocked;
    const second = b.transaction(async (tx) => {
      await lockClaims(tx);
      order.push('second claims');
    });
    // the second waits however long the first holds the lock
    await new Promise((r) => setTimeout(r, 200));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first claims', 'first commits', 'second claims']);
  });
});
