/**
 * The audit chain on both databases (test/helpers/both-databases.ts): the
 * same appends, reads and checks on SQLite and on PostgreSQL, and several
 * writers — two connections to the SQLite file (two processes), two pools on
 * the PostgreSQL database (two nodes) — appending at once into one chain
 * that `verifyAuditChain` (sealgate audit verify) checks end to end. The
 * SQLite-only details (the head memo, tampering recipes, the sqlite3 shell)
 * are in log.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/events.js';
import { appendAudit, appendAuditAtCommit, appendAuditEvent, appendAuditEvents, AUDIT_CHAIN_LOCK, tailAudit, verifyAuditChain } from '../../src/audit/log.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T0 = Date.UTC(2026, 0, 1);

const added = (user: string): AuditEvent<'users:added'> => ({ type: 'users:added', data: { user } });

async function count(db: SqlDatabase, sql: string): Promise<number> {
  return (await db.get<{ n: number }>(sql))?.n ?? -1;
}

describe.each(DIALECTS)('audit chain on %s', (kind) => {
  const db = () => dbs.get(kind);

  // the tests share the file's database: each continues the chain the ones before it left (the log is never emptied:
  // a SQLite connection remembers the head it appended, as it may, since nothing but the chain's own appends writes it)
  let base = 0;
  beforeEach(async () => {
    const before = await verifyAuditChain(db());
    expect(before.ok).toBe(true);
    base = before.count;
    await db().run('DELETE FROM users');
  });
  const seqs = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

  it('a transaction hands the store its dialect', async () => {
    expect(await db().transaction(async (tx) => tx.dialect)).toBe(kind);
  });

  it('appends events that verify, reads the tail, and checks from a verified point on', async () => {
    const results = [];
    for (let i = 1; i <= 12; i++) results.push(await appendAudit(db(), added(`u${i}`), T0 + i));
    expect(results.map((r) => r.seq)).toEqual(seqs(base + 1, 12));
    const last = results[11]?.hash ?? '';
    for (const pageSize of [1, 5, 12, 13]) expect(await verifyAuditChain(db(), { pageSize })).toEqual({ ok: true, count: base + 12, lastHash: last });
    expect(await verifyAuditChain(db(), { from: { seq: base + 5, hash: results[4]?.hash ?? '' } })).toEqual({ ok: true, count: base + 12, lastHash: last });
    expect((await tailAudit(db(), 3)).map((e) => e.data)).toEqual([{ user: 'u10' }, { user: 'u11' }, { user: 'u12' }]);
    expect((await tailAudit(db(), 2, base + 4)).map((e) => e.seq)).toEqual([base + 5, base + 6]);
    expect(await tailAudit(db(), 2)).toMatchObject([{ seq: base + 11, ts: T0 + 11, type: 'users:added', hash: results[10]?.hash }, { seq: base + 12 }]);
  });

  it('finds an edited event', async () => {
    for (let i = 1; i <= 5; i++) await appendAudit(db(), added(`u${i}`), T0 + i);
    const at = base + 3;
    await db().run('UPDATE audit_log SET data = ? WHERE seq = ?', ['{"user":"mallory"}', at]);
    expect(await verifyAuditChain(db())).toEqual({ ok: false, count: at - 1, brokenAt: at, reason: 'hash_mismatch' });
    // put back, for the tests after this one
    await db().run('UPDATE audit_log SET data = ? WHERE seq = ?', ['{"user":"u3"}', at]);
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true, count: base + 5 });
  });

  it('appends a batch with the rest of its transaction, and a rollback leaves neither; the chain continues', async () => {
    const batch = Array.from({ length: 450 }, (_, i) => added(`b${i}`)); // more than one INSERT statement's rows
    const out = await db().transaction(async (tx) => {
      await tx.run('INSERT INTO users (name, hash, created_at) VALUES (?, ?, ?)', ['ann', 'x', T0]);
      return appendAuditEvents(tx, batch, T0);
    });
    expect(out.map((r) => r.seq)).toEqual(seqs(base + 1, 450));
    await expect(
      db().transaction(async (tx) => {
        await tx.run('INSERT INTO users (name, hash, created_at) VALUES (?, ?, ?)', ['bob', 'x', T0]);
        await appendAuditEvent(tx, added('bob'), T0 + 1);
        throw new Error('the rest of the work failed');
      }),
    ).rejects.toThrow('the rest of the work failed');
    expect(await count(db(), 'SELECT count(*) AS n FROM audit_log')).toBe(base + 450);
    expect(await count(db(), "SELECT count(*) AS n FROM users WHERE name = 'bob'")).toBe(0);
    expect(await appendAudit(db(), added('cid'), T0 + 2)).toMatchObject({ seq: base + 451 });
    expect(await verifyAuditChain(db(), { pageSize: 100 })).toMatchObject({ ok: true, count: base + 451 });
  });

  it('events appended at commit keep their order and their own times (on PostgreSQL after the transaction\'s other appends); a rollback leaves none', async () => {
    await db().transaction(async (tx) => {
      await appendAuditAtCommit(tx, added('late-1'), T0 + 7);
      await appendAuditEvent(tx, added('now'), T0 + 5);
      await appendAuditAtCommit(tx, added('late-2'), T0 + 6);
    });
    // PostgreSQL appends them with the COMMIT; SQLite's group commit inserts every event before its COMMIT, in call order
    const order = kind === 'postgres' ? ['now', 'late-1', 'late-2'] : ['late-1', 'now', 'late-2'];
    const times: Record<string, number> = { now: T0 + 5, 'late-1': T0 + 7, 'late-2': T0 + 6 };
    expect((await tailAudit(db(), 3)).map((e) => [e.seq, e.ts, (e.data as { user?: string }).user])).toEqual(order.map((user, i) => [base + 1 + i, times[user], user]));
    await expect(
      db().transaction(async (tx) => {
        await appendAuditAtCommit(tx, added('never'), T0 + 8);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    // an invalid event is refused when it is given, not at the commit
    await expect(db().transaction((tx) => appendAuditAtCommit(tx, { type: 'users:added', data: {} } as unknown as AuditEvent, T0 + 9))).rejects.toThrow(TypeError);
    expect((await tailAudit(db(), 1))[0]?.seq).toBe(base + 3);
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true, count: base + 3 });
  });

  it('two writers appending at commit, hundreds of transactions at once, make one whole chain', async () => {
    const other = await dbs.connect(kind);
    const PER_WRITER = 200;
    const writer = async (conn: SqlDatabase, prefix: string): Promise<void> => {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < PER_WRITER) {
          const i = next++;
          await conn.transaction(async (tx) => {
            await tx.run('INSERT INTO users (name, hash, created_at) VALUES (?, ?, ?)', [`${prefix}${i}`, 'x', T0]);
            await appendAuditAtCommit(tx, added(`${prefix}${i}`), T0 + i);
            if (i % 10 === 0) await appendAuditAtCommit(tx, added(`${prefix}${i}.1`), T0 + i);
          });
        }
      };
      await Promise.all(Array.from({ length: 6 }, lane));
    };
    await Promise.all([writer(db(), 'a'), writer(other, 'b')]);
    const total = 2 * (PER_WRITER + PER_WRITER / 10);
    expect(await verifyAuditChain(other, { pageSize: 97 })).toMatchObject({ ok: true, count: base + total });
    expect(await count(db(), 'SELECT count(*) AS n FROM users')).toBe(2 * PER_WRITER);
  });

  it('two writers (two processes or two nodes) appending hundreds of events at once make one whole chain', async () => {
    const other = await dbs.connect(kind);
    const PER_WRITER = 300;
    const IN_FLIGHT = 6;
    // each writer keeps IN_FLIGHT transactions going; each writes a user row and its event, every tenth a batch of three events
    const writer = async (conn: SqlDatabase, prefix: string): Promise<number[]> => {
      const seqs: number[] = [];
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < PER_WRITER) {
          const i = next++;
          const name = `${prefix}${i}`;
          const events = i % 10 === 0 ? [added(name), added(`${name}.1`), added(`${name}.2`)] : [added(name)];
          const out = await conn.transaction(async (tx) => {
            await tx.run('INSERT INTO users (name, hash, created_at) VALUES (?, ?, ?)', [name, 'x', T0]);
            return appendAuditEvents(tx, events, T0 + i);
          });
          // a batch's events are consecutive
          out.forEach((r, k) => expect(r.seq).toBe((out[0]?.seq ?? 0) + k));
          seqs.push(...out.map((r) => r.seq));
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      return seqs;
    };
    const [a, b] = await Promise.all([writer(db(), 'a'), writer(other, 'b')]);
    const perWriter = PER_WRITER + 2 * (PER_WRITER / 10);
    expect(a).toHaveLength(perWriter);
    expect(b).toHaveLength(perWriter);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(seqs(base + 1, 2 * perWriter));
    // the chain checked end to end, from each writer's side
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true, count: base + 2 * perWriter });
    expect(await verifyAuditChain(other, { pageSize: 97 })).toMatchObject({ ok: true, count: base + 2 * perWriter });
    expect(await count(db(), 'SELECT count(*) AS n FROM users')).toBe(2 * PER_WRITER);
  });

  // defined for one kind only (not a skipped test on the other)
  if (kind === 'postgres') {
    it('an append waits for the chain lock of another node\'s open transaction, then chains after its committed event', async () => {
      const other = await dbs.connect(kind);
      await appendAudit(db(), added('first'), T0);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const slow = other.transaction(async (tx) => {
        const r = await appendAuditEvent(tx, added('slow'), T0 + 1);
        entered();
        await held;
        return r;
      });
      await inside;
      const fast = appendAudit(db(), added('fast'), T0 + 2);
      // the second append is queued on the chain lock (PostgreSQL's own view of who waits), not failed
      const waiting = async (): Promise<number> =>
        count(db(), `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = ${AUDIT_CHAIN_LOCK}`);
      for (let tries = 0; (await waiting()) === 0; tries++) {
        if (tries > 500) throw new Error('the second append never waited for the chain lock');
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(await count(db(), 'SELECT count(*) AS n FROM audit_log')).toBe(base + 1);
      release();
      expect(await slow).toMatchObject({ seq: base + 2 });
      expect(await fast).toMatchObject({ seq: base + 3 });
      expect((await tailAudit(db(), 3)).map((e) => e.data)).toEqual([{ user: 'first' }, { user: 'slow' }, { user: 'fast' }]);
      expect(await verifyAuditChain(db())).toMatchObject({ ok: true, count: base + 3 });
    });
  }
});
