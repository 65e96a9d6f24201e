/**
 * RowsAtCommit on SQLite's group commit: rows handed over by the group's
 * transactions go in just before its COMMIT, one multi-row INSERT a table,
 * parents before the rows that reference them; a failing transaction's rows
 * are taken back with it; nothing is written for a group that fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Database, deferredWriter, type Queryable } from '../../src/db/database.js';
import { insertRowsChunked, RowsAtCommit, type RowsTable } from '../../src/db/rows-at-commit.js';

let dir: string;
let db: Database;

const PARENT: RowsTable = { name: 'parent', columns: ['id', 'label'], perStatement: 3 };
const CHILD: RowsTable = { name: 'child', columns: ['parent_id', 'n'], perStatement: 2 };
const OTHER: RowsTable = { name: 'other', columns: ['v'], perStatement: 10 };

/** The group's writer, as a store makes it (listed child-last: the foreign key needs the parent first). */
const held = (tx: Queryable): RowsAtCommit => deferredWriter(tx.deferred as NonNullable<Queryable['deferred']>, 'test-rows', () => new RowsAtCommit([PARENT, CHILD]));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-rows-'));
  db = await Database.open(join(dir, 't.db'));
  await db.exec(`CREATE TABLE parent (id TEXT PRIMARY KEY, label TEXT NOT NULL);
    CREATE TABLE child (parent_id TEXT NOT NULL REFERENCES parent(id), n INTEGER NOT NULL);
    CREATE TABLE other (v TEXT)`);
});

beforeEach(async () => {
  await db.exec('DELETE FROM child; DELETE FROM parent; DELETE FROM other');
});

afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const parents = async (): Promise<string[]> => (await db.all<{ id: string }>('SELECT id FROM parent ORDER BY id')).map((r) => r.id);
const children = async (): Promise<string[]> => (await db.all<{ parent_id: string; n: number }>('SELECT parent_id, n FROM child ORDER BY parent_id, n')).map((r) => `${r.parent_id}.${r.n}`);

describe('RowsAtCommit in a group commit', () => {
  it('writes every transaction’s rows with the COMMIT, parents first, and each caller hears after it', async () => {
    const seenInside: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        db.transaction(async (tx) => {
          const rows = held(tx);
          // children handed over before their parent: the flush still writes the parent table first
          rows.add(CHILD, [[`p${i}`, 1], [`p${i}`, 2]]);
          rows.add(PARENT, [[`p${i}`, `label ${i}`]]);
          // not in the table yet, for this transaction or a later one of the group
          seenInside.push(Number((await tx.get<{ n: number }>('SELECT count(*) AS n FROM parent'))?.n));
        }),
      ),
    );
    expect(seenInside.every((n) => n === 0)).toBe(true);
    expect(await parents()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(await children()).toHaveLength(14);
  });

  it('takes back the rows of a transaction that fails, and of one only when it fails', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        db.transaction(async (tx) => {
          held(tx).add(PARENT, [[`q${i}`, 'x']]);
          held(tx).add(CHILD, [[`q${i}`, i]]);
          if (i === 2 || i === 4) throw new Error(`fail ${i}`);
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await parents()).toEqual(['q0', 'q1', 'q3', 'q5']);
    expect(await children()).toEqual(['q0.0', 'q1.1', 'q3.3', 'q5.5']);
  });

  it('a flush that fails (here a duplicate key) fails the whole group, and nothing of it is written', async () => {
    await db.transaction((tx) => tx.run('INSERT INTO parent (id, label) VALUES (?, ?)', ['dup', 'first']));
    const results = await Promise.allSettled([
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO other (v) VALUES (?)', ['written now']);
        held(tx).add(PARENT, [['r1', 'x']]);
      }),
      db.transaction(async (tx) => {
        held(tx).add(PARENT, [['dup', 'again']]);
      }),
    ]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(await parents()).toEqual(['dup']);
    expect(await db.all('SELECT v FROM other')).toEqual([]);
  });

  it('refuses a table it was not made for', async () => {
    await expect(db.transaction(async (tx) => held(tx).add(OTHER, [['v']]))).rejects.toThrow(/table other is not one of this writer's/);
  });
});

describe('insertRowsChunked', () => {
  it.each([
    { rows: 0, statements: 0 },
    { rows: 1, statements: 1 },
    { rows: 3, statements: 1 },
    { rows: 4, statements: 2 },
    { rows: 10, statements: 4 },
  ])('$rows rows at 3 a statement: $statements INSERTs, every row written', async ({ rows, statements }) => {
    const texts: string[] = [];
    const counting = { dialect: 'sqlite' as const, run: (sql: string, params?: unknown) => (texts.push(sql), db.run(sql, params as never)), get: db.get.bind(db), all: db.all.bind(db), exec: db.exec.bind(db) };
    await insertRowsChunked(counting, PARENT, Array.from({ length: rows }, (_, i) => [`c${String(i).padStart(2, '0')}`, 'x']));
    expect(texts).toHaveLength(statements);
    expect(await parents()).toEqual(Array.from({ length: rows }, (_, i) => `c${String(i).padStart(2, '0')}`));
  });
});
