/**
 * The queue's operator queries stay one pass however long the queue: their
 * SQLite query plans (EXPLAIN QUERY PLAN on a migrated database) evaluate a
 * filter once (LIST SUBQUERY) and never per message (a CORRELATED or EXISTS
 * subquery: with 100 000 queued, `queue list --state held` ran for minutes
 * that way), `queue list` reads messages oldest first from an index
 * instead of sorting the table, and the archive stage's next batch comes
 * from the few messages not archived yet; the delivery leases' renewal and
 * takeover read only the in-flight rows. The plan is the structure, not a
 * timing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { countMessagesQuery, listMessagesQuery } from '../../src/queue/admin.js';
import { OLDEST_WAITING_SQL } from '../../src/queue/oldest.js';
import { NEXT_TO_ARCHIVE_SQL } from '../../src/archive/archiver.js';
import { renewLeasesSql, takeOverSql } from '../../src/queue/claim.js';

let dir: string;
let db: Database;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-plans-'));
  db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
});

afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function plan(sql: string, params: readonly (string | number)[] = []): Promise<string[]> {
  return (await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => r.detail);
}

describe('queue query plans', () => {
  it.each<[string, { sql: string; params: readonly (string | number)[] }]>([
    ['queue list --state held', listMessagesQuery({ state: 'held' })],
    ['queue list --domain', listMessagesQuery({ domain: 'example.net' })],
    ['queue list --state --domain', listMessagesQuery({ state: 'deferred', domain: 'example.net' })],
    ['the count of queue list --state', countMessagesQuery({ state: 'deferred' })],
    ['the oldest waiting message (metrics, alerts)', { sql: OLDEST_WAITING_SQL, params: [] }],
  ])('%s: each filter evaluated once, none per message', async (_name, q) => {
    const lines = await plan(q.sql, q.params);
    expect(lines.some((l) => l.includes('LIST SUBQUERY'))).toBe(true);
    expect(lines.filter((l) => /CORRELATED|EXISTS/.test(l))).toEqual([]);
  });

  it.each<[string, string, readonly (string | number)[]]>([
    ['the takeover of expired leases (sweep)', takeOverSql(false), [1, 1]],
    ['the takeover at start', takeOverSql(true), [1, 1, 'node']],
  ])('%s reads the in-flight rows through recipients_due, not every recipient', async (_name, sql, params) => {
    expect(await plan(sql, params)).toEqual(['SEARCH recipients USING INDEX recipients_due (state=?)']);
  });

  it('the lease renewal reads the in-flight rows through recipients_due, its keys a list evaluated once', async () => {
    const lines = await plan(renewLeasesSql(2), [1, 'node', 'Q1', 1, 'Q2', 2]);
    expect(lines[0]).toBe('SEARCH recipients USING INDEX recipients_due (state=?)');
    expect(lines).toContain('LIST SUBQUERY 2');
    expect(lines.filter((l) => /^SCAN recipients|CORRELATED/.test(l))).toEqual([]);
  });

  it('queue list without a filter walks messages_created, oldest first, without sorting the table', async () => {
    const { sql, params } = listMessagesQuery({});
    const lines = await plan(sql, params);
    expect(lines).toContain('SCAN m USING INDEX messages_created');
    expect(lines).not.toContain('USE TEMP B-TREE FOR ORDER BY');
  });

  it('the archive stage finds its next messages in the partial index of those not archived yet, not among all queued', async () => {
    expect(await plan(NEXT_TO_ARCHIVE_SQL, [64])).toEqual(['SCAN messages USING INDEX messages_unarchived']);
  });
});
