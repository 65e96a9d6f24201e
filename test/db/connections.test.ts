/**
 * A Database's two connections and its prepared statements: reads outside a
 * transaction see every committed transaction (also through a statement
 * already used before the commit, get or all), never a transaction still
 * open; statements inside a transaction see its own writes; a statement that
 * failed is prepared again; the reader refuses writes; a read-only database,
 * an in-memory one and a singleConnection one work on one connection.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database, runsToItsEnd } from '../../src/db/database.js';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-conn-'));
  db = await Database.open(join(dir, 't.db'));
  await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
});

afterEach(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

const COUNT = 'SELECT count(*) AS n FROM t';
const ROWS = 'SELECT k FROM t ORDER BY k';
const FIRST = 'SELECT k FROM t ORDER BY k LIMIT 1';

describe('Database connections and prepared statements', () => {
  it.each([
    { name: 'get of an aggregate', read: async () => (await db.get<{ n: number }>(COUNT))?.n },
    { name: 'all of every row', read: async () => (await db.all<{ k: number }>(ROWS)).length },
    { name: 'get that stops at its first of several rows', read: async () => ((await db.get<{ k: number }>(FIRST)) ? (await db.all<{ k: number }>(ROWS)).length : 0) },
  ])('$name: a statement used before a commit sees the commit', async ({ read }) => {
    for (let i = 1; i <= 5; i++) {
      await db.transaction((tx) => tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'x']));
      expect(await read()).toBe(i);
    }
    await db.run('INSERT INTO t (k, v) VALUES (?, ?)', [100, 'outside a transaction']);
    expect(await read()).toBe(6);
  });

  it('inside a transaction its own writes are seen; outside, not before the commit', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let seenInside: number | undefined;
    const tx = db.transaction(async (t) => {
      await t.run('INSERT INTO t (k, v) VALUES (1, ?)', ['open']);
      seenInside = (await t.get<{ n: number }>(COUNT))?.n;
      await held;
    });
    while (seenInside === undefined) await new Promise((r) => setTimeout(r, 5));
    expect(seenInside).toBe(1);
    expect((await db.get<{ n: number }>(COUNT))?.n).toBe(0);
    release();
    await tx;
    expect((await db.get<{ n: number }>(COUNT))?.n).toBe(1);
  });

  it('a statement that failed (a constraint, a missing table) is prepared again and works once the cause is gone', async () => {
    await db.run('INSERT INTO t (k, v) VALUES (?, ?)', [1, 'a']);
    await expect(db.run('INSERT INTO t (k, v) VALUES (?, ?)', [1, 'again'])).rejects.toThrow(/UNIQUE/);
    await db.run('INSERT INTO t (k, v) VALUES (?, ?)', [2, 'b']);
    await expect(db.get('SELECT n FROM later')).rejects.toThrow(/no such table/);
    await db.exec('CREATE TABLE later (n INTEGER)');
    await db.run('INSERT INTO later (n) VALUES (7)');
    expect(await db.get('SELECT n FROM later')).toEqual({ n: 7 });
    expect((await db.all(ROWS)).map((r) => r.k)).toEqual([1, 2]);
  });

  it("a trigger's table renamed away and back by another connection: this connection's statement through the trigger works again (its stale schema is reloaded)", async () => {
    await db.exec("CREATE TABLE target (n INTEGER); CREATE VIEW via AS SELECT NULL AS n; CREATE TRIGGER via_insert INSTEAD OF INSERT ON via BEGIN INSERT INTO target (n) VALUES (NEW.n); END;");
    await db.run('INSERT INTO via (n) VALUES (1)');
    const other = await Database.open(join(dir, 't.db'));
    try {
      // legacy_alter_table: the trigger keeps naming the table that is now missing, as a broken schema would
      await other.exec('PRAGMA legacy_alter_table = ON');
      await other.run('ALTER TABLE target RENAME TO target_away');
      await expect(db.run('INSERT INTO via (n) VALUES (2)')).rejects.toThrow(/no such table/);
      await other.run('ALTER TABLE target_away RENAME TO target');
    } finally {
      await other.close();
    }
    await db.run('INSERT INTO via (n) VALUES (3)');
    expect((await db.all<{ n: number }>('SELECT n FROM target ORDER BY n')).map((r) => r.n)).toEqual([1, 3]);
  });

  it('reads outside a transaction cannot write; run and exec do', async () => {
    await expect(db.get("INSERT INTO t (k, v) VALUES (9, 'via a read') RETURNING k")).rejects.toThrow(/readonly|query_only|attempt to write/i);
    expect((await db.get<{ n: number }>(COUNT))?.n).toBe(0);
  });

  it.each([
    { name: 'in memory', open: () => Database.open(':memory:') },
    { name: 'singleConnection', open: () => Database.open(join(dir, 's.db'), { singleConnection: true }) },
  ])('$name: one connection, so the journal mode can change and reads see writes', async ({ open }) => {
    const one = await open();
    try {
      await one.exec('CREATE TABLE u (k INTEGER)');
      await one.transaction((tx) => tx.run('INSERT INTO u (k) VALUES (1)'));
      expect(await one.get('SELECT count(*) AS n FROM u')).toEqual({ n: 1 });
      await one.exec('PRAGMA journal_mode=DELETE');
    } finally {
      await one.close();
    }
  });

  it('many statements over the cache bound still answer right', async () => {
    await db.transaction(async (tx) => {
      for (let i = 1; i <= 300; i++) await tx.run(`INSERT INTO t (k, v) VALUES (${i}, 'v')`);
    });
    for (let i = 1; i <= 300; i++) expect(await db.get<{ k: number }>(`SELECT k FROM t WHERE k = ${i}`)).toEqual({ k: i });
  });

  it('callers using one SQL text at once each get their own row (a statement serves one caller at a time)', async () => {
    await db.transaction(async (tx) => {
      for (let k = 1; k <= 40; k++) await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [k, `v${k}`]);
    });
    const keys = Array.from({ length: 40 }, (_, i) => i + 1);
    // the same text at once, twice over: the second round takes the statements the first gave back
    for (let round = 0; round < 2; round++) {
      const rows = await Promise.all(keys.map((k) => db.get<{ v: string }>('SELECT v FROM t WHERE k = ?', [k])));
      expect(rows.map((r) => r?.v)).toEqual(keys.map((k) => `v${k}`));
      const lists = await Promise.all(keys.map((k) => db.all<{ k: number }>('SELECT k FROM t WHERE k <= ? ORDER BY k', [k])));
      expect(lists.map((l) => l.length)).toEqual(keys);
    }
  });

  it('close waits for the statements in use and leaves the file closed', async () => {
    await db.run('INSERT INTO t (k, v) VALUES (1, ?)', ['x']);
    const reads = Array.from({ length: 20 }, () => db.get<{ n: number }>(COUNT));
    const closed = db.close();
    expect((await Promise.all(reads)).map((r) => r?.n)).toEqual(Array(20).fill(1));
    await closed;
    await expect(db.get(COUNT)).rejects.toThrow(/closed/);
    db = await Database.open(join(dir, 't.db'));
  });

  it.each([
    { sql: 'INSERT INTO t (k, v) VALUES (?, ?)', done: true },
    { sql: '  update t SET v = ? WHERE k = ?', done: true },
    { sql: 'DELETE FROM t WHERE k = ?', done: true },
    { sql: 'REPLACE INTO t (k, v) VALUES (1, 2)', done: true },
    { sql: 'INSERT INTO t (k, v) VALUES (?, ?) RETURNING k', done: false },
    { sql: 'SELECT k FROM t', done: false },
    { sql: 'PRAGMA wal_checkpoint', done: false },
    { sql: 'WITH x AS (SELECT 1) INSERT INTO t SELECT 1, 2 FROM x', done: false },
    { sql: 'INSERTED_VIEW', done: false },
  ])('runsToItsEnd($sql) is $done (a run that may stop at a row is reset after it)', ({ sql, done }) => {
    expect(runsToItsEnd(sql)).toBe(done);
  });

  it('a read-only connection: a read that ran to its end keeps no snapshot for the next read (a commit elsewhere is seen)', async () => {
    const ro = await Database.open(join(dir, 't.db'), { readOnly: true });
    try {
      for (let i = 1; i <= 3; i++) {
        expect((await ro.all<{ k: number }>(ROWS)).length).toBe(i - 1);
        await db.transaction((tx) => tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'x']));
        expect((await ro.get<{ n: number }>(COUNT))?.n).toBe(i);
      }
    } finally {
      await ro.close();
    }
  });
});
