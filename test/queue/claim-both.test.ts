/**
 * The delivery claim with leases (src/queue/claim.ts) on both databases:
 * two nodes (two connections to the SQLite file; two pools on PostgreSQL,
 * as two gateway nodes have) claim one queue at once and never get the same
 * recipient; a lease that ran out is taken over by the other node, a
 * renewed one is not; and the record step of a node whose lease was taken
 * over writes nothing. Clocks are passed in (`now`), so nothing here waits
 * for a lease to run out.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import {
  markInFlight,
  recordOutcome,
  releaseHeld,
  renewLeases,
  selectDue,
  takeOverLeases,
  type ClaimedRecipient,
} from '../../src/queue/claim.js';
import { insertQueuedMessage, type QueuedMessage } from '../../src/queue/store.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();

const T0 = 1_800_000_000_000;
const LEASE = 60_000;

const qid = (n: number): string => `CLAIM${String(n).padStart(15, '0')}`;

function message(n: number, recipients: number): QueuedMessage {
  return {
    id: qid(n), createdAt: T0 - 1000, sender: 'sender@example.org', size: 100, spoolKeyId: 'k', listener: 'relay', connector: 'loopback', clientIp: '127.0.0.1', helo: 'client.test',
    tlsVersion: undefined, authUser: undefined, bodyType: '7BIT', smtputf8: false, requireTls: false, dsnRet: undefined, dsnEnvid: undefined,
    bareLineEndings: 0, recipients: Array.from({ length: recipients }, (_, i) => ({ address: `r${i}@d${n % 7}.test` })), requirement: 'may',
  };
}

/** `messages` messages of `per` recipients, due; every third message's recipients deferred (retries), the rest queued. */
async function queue(db: SqlDatabase, messages: number, per: number): Promise<number> {
  await db.transaction(async (tx) => {
    await tx.run('DELETE FROM recipients');
    await tx.run('DELETE FROM messages');
    for (let n = 0; n < messages; n++) await insertQueuedMessage(tx, message(n, per));
    await tx.run(`UPDATE recipients SET state = 'deferred', attempts = 1 WHERE substr(message_id, 20, 1) IN ('0', '3', '6', '9')`);
  });
  return messages * per;
}

/** One claim as the engine makes it: one SELECT for both states, interleaved, marked in flight under the lease, one transaction. */
function claim(db: SqlDatabase, node: string, now: number, limit: number): Promise<ClaimedRecipient[]> {
  return db.transaction(async (tx) => {
    const rows = await selectDue(tx, now, limit, true);
    await markInFlight(tx, rows, { node, until: now + LEASE });
    return rows;
  });
}

/** Claims until nothing is left, several claims of this node at once. */
async function claimAll(db: SqlDatabase, node: string, parallel: number, limit: number): Promise<string[]> {
  const got: string[] = [];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (;;) {
        const rows = await claim(db, node, T0, limit);
        if (rows.length === 0) return;
        got.push(...rows.map((r) => `${r.message_id}/${r.seq}`));
      }
    }),
  );
  return got;
}

interface Row {
  message_id: string;
  seq: number;
  state: string;
  attempts: number;
  next_attempt: number;
  lease_node: string | null;
  lease_until: number | null;
  last_error: string | null;
}

const rows = (db: SqlDatabase): Promise<Row[]> => db.all<Row>('SELECT message_id, seq, state, attempts, next_attempt, lease_node, lease_until, last_error FROM recipients ORDER BY message_id, seq');

const outcome = (state: string, at: number) => ({ state, nextAttempt: at, at, code: 250, enhanced: '2.0.0', mx: 'mx.test', error: 'ok', finishedAt: at, delayWarned: 0, dsnSent: 0 });

describe.each(DIALECTS)('delivery claims on %s', (kind) => {
  let a: SqlDatabase;
  let b: SqlDatabase;
  beforeEach(async () => {
    a = dbs.get(kind);
    b = await dbs.connect(kind);
  });

  it('two nodes claiming at once get disjoint sets, and every due recipient is claimed once', async () => {
    const total = await queue(a, 60, 3);
    const [gotA, gotB] = await Promise.all([claimAll(a, 'node-a', 1, 8), claimAll(b, 'node-b', 1, 8)]);
    const all = [...gotA, ...gotB];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(total);
    const after = await rows(a);
    expect(after.every((r) => r.state === 'in-flight' && r.lease_until === T0 + LEASE)).toBe(true);
    // each row carries the lease of the node that got it
    const owner = new Map(after.map((r) => [`${r.message_id}/${r.seq}`, r.lease_node]));
    expect(gotA.every((k) => owner.get(k) === 'node-a')).toBe(true);
    expect(gotB.every((k) => owner.get(k) === 'node-b')).toBe(true);
  });

  it('a claim takes fresh and retried recipients alike, and nothing that is not due', async () => {
    await queue(a, 6, 2);
    await a.run('UPDATE recipients SET next_attempt = ? WHERE message_id = ?', [T0 + 1, qid(1)]);
    const got = await claim(a, 'node-a', T0, 50);
    expect(got.map((r) => r.message_id)).not.toContain(qid(1));
    expect(new Set(got.map((r) => r.message_id)).size).toBe(5);
    // interleaved: a retry (message 0, 3) comes second, not after every fresh one
    expect(got[1]?.message_id).toBe(qid(0));
    expect((await rows(a)).filter((r) => r.message_id === qid(1)).map((r) => r.state)).toEqual(['queued', 'queued']);
  });

  it.each<{ name: string; message: number; setup: string | undefined; want: number }>([
    { name: 'a fresh message: its two recipients', message: 1, setup: undefined, want: 2 },
    { name: 'a retried message (deferred, due): its two recipients', message: 0, setup: undefined, want: 2 },
    { name: 'a message not due yet: none', message: 2, setup: 'UPDATE recipients SET next_attempt = next_attempt + 1000000 WHERE message_id = ?', want: 0 },
    { name: 'a message one of whose recipients is in flight already: the other', message: 4, setup: "UPDATE recipients SET state = 'in-flight' WHERE message_id = ? AND seq = 1", want: 1 },
    { name: 'a message not archived yet: none', message: 5, setup: 'UPDATE messages SET archived = 0 WHERE id = ?', want: 0 },
  ])('a claim of one message (selectDue with its id) takes its due recipients only: $name', async ({ message, setup, want }) => {
    await queue(a, 6, 2);
    if (setup) await a.run(setup, [qid(message)]);
    const got = await a.transaction((tx) => selectDue(tx, T0, 50, true, qid(message)));
    expect(got.map((r) => r.message_id)).toEqual(Array.from({ length: want }, () => qid(message)));
  });

  it.each<{ name: string; setup: string | undefined; params: string[] }>([
    { name: 'as queued', setup: undefined, params: [] },
    { name: 'with a rewrite, a route, DSN fields and REQUIRETLS', setup: `UPDATE messages SET rewrite = ?, route = ?, dsn_ret = 'HDRS', dsn_envid = 'env-1', requiretls = 1, body_type = '8BITMIME' WHERE id = ?`, params: ['{"addHeaders":{"X-A":"1"}}', '127.0.0.9:2525'] },
  ])('each claimed recipient carries its message as the messages row holds it ($name)', async ({ setup, params }) => {
    await queue(a, 3, 2);
    if (setup) await a.run(setup, [...params, qid(2)]);
    const got = await a.transaction((tx) => selectDue(tx, T0, 50, true));
    expect(got).toHaveLength(6);
    for (const r of got) {
      const row = await a.get<Record<string, unknown>>('SELECT id, created_at, sender, size, body_type, requiretls, dsn_ret, dsn_envid, rewrite, connector, route FROM messages WHERE id = ?', [r.message_id]);
      expect(r.message).toEqual({ ...row, created_at: Number(row?.created_at), size: Number(row?.size), requiretls: Number(row?.requiretls) });
    }
    expect(got.find((r) => r.message_id === qid(2))?.message).toMatchObject({ rewrite: setup ? params[0] : null, route: setup ? params[1] : null });
  });

  it('an expired lease is taken over by the other node; a renewed one is not', async () => {
    await queue(a, 4, 2);
    const claimed = await claim(a, 'node-a', T0, 50);
    expect(claimed).toHaveLength(8);
    // node b's sweep before the lease ends: nothing
    expect(await b.transaction((tx) => takeOverLeases(tx, { now: T0 + LEASE - 1, expiredBefore: T0 + LEASE - 1, node: 'node-b', own: false }))).toEqual([]);
    // node a renews the rows of its attempts under way (one statement): their lease now ends later; another node's renewal changes nothing
    expect(await b.transaction((tx) => renewLeases(tx, { node: 'node-b', until: T0 + 9 * LEASE }, claimed))).toBe(0);
    expect(await a.transaction((tx) => renewLeases(tx, { node: 'node-a', until: T0 + 3 * LEASE }, claimed))).toBe(8);
    expect(await b.transaction((tx) => takeOverLeases(tx, { now: T0 + 2 * LEASE, expiredBefore: T0 + 2 * LEASE, node: 'node-b', own: false }))).toEqual([]);
    expect(await a.transaction((tx) => takeOverLeases(tx, { now: T0 + 2 * LEASE, expiredBefore: T0 + 2 * LEASE, node: 'node-a', own: false }))).toEqual([]);
    // past the renewed lease (node a died): node b takes them over, due at once, the attempt not counted
    const at = T0 + 3 * LEASE + 1;
    const taken = await b.transaction((tx) => takeOverLeases(tx, { now: at, expiredBefore: at, node: 'node-b', own: false }));
    expect(taken.map((r) => `${r.message_id}/${r.seq}`).sort()).toEqual(claimed.map((r) => `${r.message_id}/${r.seq}`).sort());
    const after = await rows(a);
    expect(after.every((r) => r.state === 'deferred' && r.next_attempt === at && r.lease_node === null && r.lease_until === null)).toBe(true);
    expect(after.filter((r) => r.message_id === qid(0)).map((r) => r.attempts)).toEqual([1, 1]);
    expect(after.filter((r) => r.message_id === qid(1)).map((r) => r.attempts)).toEqual([0, 0]);
    // and node b claims them
    expect(await claim(b, 'node-b', at, 50)).toHaveLength(8);
  });

  it('a row a node left in flight without a job (its outcome not recorded) is not renewed, and its own sweep takes it back once its lease ran out', async () => {
    await queue(a, 2, 1);
    const claimed = await claim(a, 'node-a', T0, 50);
    expect(claimed).toHaveLength(2);
    const [running, orphan] = claimed as [ClaimedRecipient, ClaimedRecipient];
    // only the job still running is renewed
    expect(await a.transaction((tx) => renewLeases(tx, { node: 'node-a', until: T0 + 3 * LEASE }, [running]))).toBe(1);
    const at = T0 + LEASE + 1;
    const back = await a.transaction((tx) => takeOverLeases(tx, { now: at, expiredBefore: at, node: 'node-a', own: false }));
    expect(back).toEqual([{ message_id: orphan.message_id, seq: orphan.seq }]);
    const after = await rows(a);
    expect(after.find((r) => r.message_id === orphan.message_id)).toMatchObject({ state: 'deferred', next_attempt: at, lease_node: null });
    expect(after.find((r) => r.message_id === running.message_id)).toMatchObject({ state: 'in-flight', lease_node: 'node-a', lease_until: T0 + 3 * LEASE });
  });

  it('start-up takes back its own rows and rows without a lease, but not another node\'s live lease', async () => {
    // five messages of one recipient: 0 and 3 deferred, 1, 2 and 4 queued; a claim takes up to `limit` of each state
    await queue(a, 5, 1);
    expect(await claim(a, 'node-a', T0, 1)).toHaveLength(2);
    expect(await claim(b, 'node-b', T0, 1)).toHaveLength(2);
    // a row left in flight by a sealgate older than leases
    await a.run(`UPDATE recipients SET state = 'in-flight', lease_node = NULL, lease_until = NULL WHERE state <> 'in-flight'`);
    const back = await a.transaction((tx) => takeOverLeases(tx, { now: T0 + 1, expiredBefore: T0 + 1, node: 'node-a', own: true }));
    expect(back.map((r) => r.message_id).sort()).toEqual([qid(0), qid(1), qid(4)]);
    const left = (await rows(a)).filter((r) => r.state === 'in-flight');
    expect(left.map((r) => r.lease_node)).toEqual(['node-b', 'node-b']);
    // a SQLite file at start: every lease has run out (no other node can hold one)
    expect(await a.transaction((tx) => takeOverLeases(tx, { now: T0 + 2, expiredBefore: Infinity, node: 'node-a', own: true }))).toHaveLength(2);
    expect((await rows(a)).every((r) => r.state === 'deferred' && r.lease_node === null)).toBe(true);
  });

  it('the record step of a node that lost its lease changes nothing; the new owner\'s does', async () => {
    await queue(a, 1, 2);
    await claim(a, 'node-a', T0, 50);
    const at = T0 + LEASE + 1;
    await b.transaction((tx) => takeOverLeases(tx, { now: at, expiredBefore: at, node: 'node-b', own: false }));
    const reclaimed = await claim(b, 'node-b', at, 50);
    expect(reclaimed).toHaveLength(2);
    const before = await rows(a);
    // node a wakes up and records what it found: nothing is written
    const [first, second] = reclaimed as [ClaimedRecipient, ClaimedRecipient];
    expect(await a.transaction((tx) => recordOutcome(tx, first, 'node-a', outcome('delivered', at + 5)))).toBe(false);
    await a.transaction((tx) => releaseHeld(tx, [first, second], 'node-a', at + 9));
    expect(await rows(a)).toEqual(before);
    // node b records: delivered, the attempt counted (the message was deferred once before), the lease ended
    expect(await b.transaction((tx) => recordOutcome(tx, first, 'node-b', outcome('delivered', at + 7)))).toBe(true);
    const after = (await rows(a)).find((r) => r.seq === first.seq);
    expect(after).toMatchObject({ state: 'delivered', attempts: 2, lease_node: null, lease_until: null, last_error: 'ok' });
    // a second record of the same row (a final state, no lease) changes nothing either
    expect(await b.transaction((tx) => recordOutcome(tx, first, 'node-b', outcome('bounced', at + 8)))).toBe(false);
    // node b releases what it still holds (an unexpected error): deferred, not counted
    await b.transaction((tx) => releaseHeld(tx, [second], 'node-b', at + 60_000));
    expect((await rows(a)).find((r) => r.seq === second.seq)).toMatchObject({ state: 'deferred', attempts: 1, next_attempt: at + 60_000, lease_node: null });
  });
});

describe('delivery claims on postgres, under contention', () => {
  it('two pools with several claims in flight each (FOR UPDATE SKIP LOCKED) never claim a row twice', async () => {
    const a = dbs.get('postgres');
    const b = await dbs.connect('postgres');
    for (let round = 0; round < 3; round++) {
      const total = await queue(a, 150, 2);
      const [gotA, gotB] = await Promise.all([claimAll(a, 'node-a', 4, 5), claimAll(b, 'node-b', 4, 5)]);
      const all = [...gotA, ...gotB];
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe(total);
      // both nodes got work: the claims ran side by side, not one node after the other
      expect(gotA.length).toBeGreaterThan(0);
      expect(gotB.length).toBeGreaterThan(0);
    }
  });
});
