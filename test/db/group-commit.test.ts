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

  it('keyed re-runnable transactions of different keys run side by side; those of one key one after the other', async () => {
    const steps: string[] = [];
    await Promise.all(
      ['a', 'b', 'a', 'c'].map((key, k) =>
        db.transaction(
          async (tx) => {
            steps.push(`start ${k}`);
            await tx.get('SELECT count(*) AS n FROM t');
            steps.push(`end ${k}`);
          },
          { rerunnable: true, key },
        ),
      ),
    );
    // 0 (a) and 1 (b) together (which of their reads comes back first is the thread pool's business); the second a
    // waits for the first, then runs beside c
    const at = (step: string): number => steps.indexOf(step);
    expect(steps).toHaveLength(8);
    expect(Math.max(at('start 0'), at('start 1'))).toBeLessThan(Math.min(at('end 0'), at('end 1')));
    expect(at('start 2')).toBeGreaterThan(at('end 0'));
    expect(Math.max(at('start 2'), at('start 3'))).toBeLessThan(Math.min(at('end 2'), at('end 3')));
  });

  /**
   * Keyed re-runnable transactions in one group: each letter a transaction of that key; `!` after it, it fails (after
   * writing its rows and handing over an audit event); `S` a transaction with a savepoint of its own. Each keeps a count
   * per key (read, then written + 1: the same key must never run beside itself) and inserts a row of its own.
   */
  const keyed: readonly { readonly shape: string; readonly runs: string }[] = [
    { shape: 'abcd', runs: '1111' },
    { shape: 'abab', runs: '1111' },
    { shape: 'aaaa', runs: '1111' },
    { shape: 'ab!c', runs: '302' },
    { shape: 'a!bc', runs: '022' },
    { shape: 'abc!', runs: '330' },
    { shape: 'aSb!c', runs: '1102' },
    { shape: 'ab!ab', runs: '3011' },
    { shape: 'abcdefghij', runs: '1111111111' },
  ];
  it.each(keyed)('a keyed group $shape: outcomes as one at a time, the counts per key exact, runs $runs', async ({ shape, runs }) => {
    const audited = await Database.open(join(dir, `keyed-${Math.random().toString(36).slice(2)}.db`));
    try {
      await migrate(audited);
      await audited.exec('CREATE TABLE g (k INTEGER PRIMARY KEY, key TEXT NOT NULL); CREATE TABLE counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL)');
      const txs = [...shape.matchAll(/([a-zS])(!?)/g)].map((m) => ({ key: m[1] as string, fails: m[2] === '!' }));
      const ran = txs.map(() => 0);
      const results = await Promise.allSettled(
        txs.map(({ key, fails }, k) =>
          audited.transaction(
            async (tx) => {
              const n = (await tx.get<{ n: number }>('SELECT n FROM counts WHERE key = ?', [key]))?.n ?? 0;
              await tx.run('INSERT INTO counts (key, n) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET n = excluded.n', [key, n + 1]);
              await tx.run('INSERT INTO g (k, key) VALUES (?, ?)', [k, key]);
              await appendAuditAtCommit(tx, { type: 'users:added', data: { user: `u${k}` } }, Date.UTC(2026, 0, 1) + k);
              if (fails) throw new Error(`fails ${k}`);
              ran[k] = (ran[k] ?? 0) + 1;
            },
            key === 'S' ? {} : { rerunnable: true, key },
          ),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(txs.map((t) => (t.fails ? 'rejected' : 'fulfilled')));
      expect((await audited.all<{ k: number }>('SELECT k FROM g ORDER BY k')).map((r) => r.k)).toEqual(txs.flatMap((t, k) => (t.fails ? [] : [k])));
      const expected = new Map<string, number>();
      for (const t of txs) if (!t.fails) expected.set(t.key, (expected.get(t.key) ?? 0) + 1);
      expect(await audited.all('SELECT key, n FROM counts ORDER BY key')).toEqual([...expected].sort().map(([key, n]) => ({ key, n })));
      expect(ran.join('')).toBe(runs);
      const users = (await audited.all<{ data: string }>('SELECT data FROM audit_log ORDER BY seq')).map((r) => (JSON.parse(r.data) as { user?: string }).user).filter((u) => u !== undefined);
      expect([...users].sort()).toEqual(txs.flatMap((t, k) => (t.fails ? [] : [`u${k}`])).sort());
      expect((await verifyAuditChain(audited)).ok).toBe(true);
    } finally {
      await audited.close();
    }
  });
});
