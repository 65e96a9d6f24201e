/**
 * Group commit in Database.transaction: transactions requested together
 * share one BEGIN … COMMIT, each in its own savepoint, or, when re-runnable,
 * in a stretch of them under one savepoint (run again when another of the
 * stretch fails). Each one's outcome is its own: a failing one leaves no
 * trace, the others are committed exactly once, and every caller hears only
 * after the commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/events.js';
import { appendAuditAtCommit, verifyAuditChain } from '../../src/audit/log.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';

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

  /**
   * One group per row, in request order: `R` re-runnable, `S` with a savepoint of its own; lower case fails (after
   * writing a row and handing over an audit event). Every transaction inserts its row and an audit event, and returns
   * how many rows it saw before its own.
   */
  const groups: readonly { readonly shape: string; readonly runs: string }[] = [
    { shape: 'RRRR', runs: '1111' },
    { shape: 'RRrR', runs: '2201' },
    { shape: 'rRRR', runs: '0111' },
    { shape: 'RRRr', runs: '2220' },
    { shape: 'RrRr', runs: '3020' },
    { shape: 'SRrR', runs: '1201' },
    { shape: 'RSRr', runs: '1120' },
    { shape: 'RRsR', runs: '1101' },
    { shape: 'SsSR', runs: '1011' },
    { shape: 'rrr', runs: '000' },
    { shape: 'Rr', runs: '20' },
    { shape: 'R', runs: '1' },
    { shape: 'r', runs: '0' },
  ];
  it.each(groups)('a group shaped $shape: the failing ones leave nothing, the others are in once, re-runnable ones run $runs times to a success', async ({ shape, runs }) => {
    const audited = await Database.open(join(dir, `shape-${shape}-${Math.random().toString(36).slice(2)}.db`));
    try {
      await migrate(audited);
      await audited.exec('CREATE TABLE g (k INTEGER PRIMARY KEY)');
      const ran = [...shape].map(() => 0);
      const event = (k: number): AuditEvent<'users:added'> => ({ type: 'users:added', data: { user: `u${k}` } });
      const results = await Promise.allSettled(
        [...shape].map((c, k) =>
          audited.transaction(
            async (tx) => {
              const before = (await tx.get<{ n: number }>('SELECT count(*) AS n FROM g'))?.n;
              await tx.run('INSERT INTO g (k) VALUES (?)', [k]);
              await appendAuditAtCommit(tx, event(k), Date.UTC(2026, 0, 1) + k);
              if (c === c.toLowerCase()) throw new Error(`fails ${k}`);
              ran[k] = (ran[k] ?? 0) + 1;
              return before;
            },
            { rerunnable: c.toUpperCase() === 'R' },
          ),
        ),
      );
      const ok = [...shape].map((c) => c === c.toUpperCase());
      expect(results.map((r) => r.status)).toEqual(ok.map((o) => (o ? 'fulfilled' : 'rejected')));
      // each successful one saw exactly the successful ones requested before it
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : null))).toEqual(ok.map((o, k) => (o ? ok.slice(0, k).filter(Boolean).length : null)));
      expect((await audited.all<{ k: number }>('SELECT k FROM g ORDER BY k')).map((r) => r.k)).toEqual(ok.flatMap((o, k) => (o ? [k] : [])));
      expect(ran.join('')).toBe(runs);
      // one audit event per committed transaction, none of the rolled-back runs, and the chain verifies
      const users = (await audited.all<{ data: string }>('SELECT data FROM audit_log ORDER BY seq')).map((r) => (JSON.parse(r.data) as { user?: string }).user).filter((u) => u !== undefined);
      expect(users).toEqual(ok.flatMap((o, k) => (o ? [`u${k}`] : [])));
      expect((await verifyAuditChain(audited)).ok).toBe(true);
    } finally {
      await audited.close();
    }
  });
});
