/**
 * SqlDatabase.readSnapshot on both databases (test/helpers/both-databases.ts):
 * inside it, a row committed meanwhile by another connection (a second
 * process; a second node) or by the same database's own transaction is not
 * seen, however many statements later; after it, it is. Writes through the
 * snapshot are refused, a failing `work` rejects with its own error and
 * leaves nothing open, and an in-memory SQLite database runs it too.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import type { Dialect, SqlDatabase, SqlQueryable } from '../../src/db/sql-database.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();

async function count(q: SqlQueryable, table: string): Promise<number> {
  return Number((await q.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))?.n ?? -1);
}

async function table(db: SqlDatabase, kind: Dialect, name: string): Promise<string> {
  const t = `snap_${name}_${kind}`;
  await db.exec(`CREATE TABLE ${t} (n INTEGER NOT NULL)`);
  return t;
}

describe.each(DIALECTS)('%s', (kind) => {
  it('does not see what another connection commits during the snapshot, and sees it after', async () => {
    const db = dbs.get(kind);
    const other = await dbs.connect(kind);
    const t = await table(db, kind, 'other');
    await db.transaction((tx) => tx.run(`INSERT INTO ${t} (n) VALUES (1)`));
    const inside = await db.readSnapshot(async (q) => {
      const before = await count(q, t);
      await other.transaction((tx) => tx.run(`INSERT INTO ${t} (n) VALUES (2)`));
      // the other connection's commit is visible outside the snapshot at once
      const outside = await count(other, t);
      const after = await count(q, t);
      const sum = (await q.get<{ s: number }>(`SELECT sum(n) AS s FROM ${t}`))?.s;
      return { before, outside, after, sum: Number(sum) };
    });
    expect(inside).toEqual({ before: 1, outside: 2, after: 1, sum: 1 });
    expect(await count(db, t)).toBe(2);
    expect(await db.readSnapshot((q) => count(q, t))).toBe(2);
  });

  it("does not see the same database's own transaction committed during it", async () => {
    const db = dbs.get(kind);
    const t = await table(db, kind, 'own');
    const seen = await db.readSnapshot(async (q) => {
      await db.transaction((tx) => tx.run(`INSERT INTO ${t} (n) VALUES (1)`));
      return count(q, t);
    });
    expect(seen).toBe(0);
    expect(await count(db, t)).toBe(1);
  });

  it('refuses a write through the snapshot; the row is not written', async () => {
    const db = dbs.get(kind);
    const t = await table(db, kind, 'write');
    await expect(db.readSnapshot((q) => q.run(`INSERT INTO ${t} (n) VALUES (1)`))).rejects.toThrow(/read-only|readonly/i);
    expect(await count(db, t)).toBe(0);
  });

  it("rejects with work's own error and leaves nothing open: the next snapshot and transaction run", async () => {
    const db = dbs.get(kind);
    const t = await table(db, kind, 'error');
    await expect(
      db.readSnapshot(async (q) => {
        await count(q, t);
        throw new Error('stop here');
      }),
    ).rejects.toThrow('stop here');
    // a statement error inside it too
    await expect(db.readSnapshot((q) => q.get('SELECT * FROM snap_no_such_table'))).rejects.toThrow(/no such table|does not exist/);
    await db.transaction((tx) => tx.run(`INSERT INTO ${t} (n) VALUES (1)`));
    expect(await db.readSnapshot((q) => count(q, t))).toBe(1);
  });
});

describe('sqlite in memory', () => {
  it('runs the snapshot on its one connection, after the transactions asked for before it; writes refused in it only', async () => {
    const db = await Database.open(':memory:');
    try {
      await db.exec('CREATE TABLE t (n INTEGER NOT NULL)');
      const write = db.transaction((tx) => tx.run('INSERT INTO t (n) VALUES (1)'));
      const seen = await db.readSnapshot((q) => count(q, 't'));
      await write;
      expect(seen).toBe(1);
      await expect(db.readSnapshot((q) => q.run('INSERT INTO t (n) VALUES (2)'))).rejects.toThrow(/readonly/i);
      await db.transaction((tx) => tx.run('INSERT INTO t (n) VALUES (3)'));
      expect(await db.all('SELECT n FROM t ORDER BY n')).toEqual([{ n: 1 }, { n: 3 }]);
    } finally {
      await db.close();
    }
  });
});
