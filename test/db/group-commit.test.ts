/**
 * Group commit in Database.transaction: transactions requested together
 * share one BEGIN … COMMIT, each in its own savepoint. Each one's outcome is
 * its own: a failing one leaves no trace, the others are committed, and
 * every caller hears only after the commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';

let dir: string;
let db: Database;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-db-'));
  db = await Database.open(join(dir, 't.db'));
  await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
});

afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('group commit', () => {
  it('commits the transactions that succeed and rolls back only the one that fails', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [i, `v${i}`]);
          if (i === 17) {
            await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [1000 + i, 'half-written']);
            throw new Error('boom');
          }
          return i;
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error).map((e) => e.message)).toEqual(['boom']);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(49);
    const rows = await db.all<{ k: number }>('SELECT k FROM t ORDER BY k');
    expect(rows.map((r) => r.k)).toEqual(Array.from({ length: 50 }, (_, i) => i).filter((i) => i !== 17));
  });

  it('each transaction sees the ones before it, in request order', async () => {
    await db.exec('DELETE FROM t');
    const seen = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        db.transaction(async (tx) => {
          const before = await tx.get<{ n: number }>('SELECT count(*) AS n FROM t');
          await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'x']);
          return before?.n;
        }),
      ),
    );
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a lone transaction that fails leaves nothing, and the next one works', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (k, v) VALUES (500, ?)', ['x']);
        throw new Error('alone');
      }),
    ).rejects.toThrow('alone');
    expect(await db.get('SELECT k FROM t WHERE k = 500')).toBeUndefined();
    expect(await db.transaction(async (tx) => (await tx.run('INSERT INTO t (k, v) VALUES (501, ?)', ['y'])).changes)).toBe(1);
  });

  it('a transaction that violates a constraint fails alone inside a group', async () => {
    const r = await Promise.allSettled([
      db.transaction((tx) => tx.run('INSERT INTO t (k, v) VALUES (600, ?)', ['a'])),
      db.transaction((tx) => tx.run('INSERT INTO t (k, v) VALUES (600, ?)', ['duplicate'])),
      db.transaction((tx) => tx.run('INSERT INTO t (k, v) VALUES (601, ?)', ['b'])),
    ]);
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await db.all('SELECT k, v FROM t WHERE k >= 600 ORDER BY k')).toEqual([{ k: 600, v: 'a' }, { k: 601, v: 'b' }]);
  });
});
