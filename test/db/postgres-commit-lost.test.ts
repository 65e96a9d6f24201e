/**
 * A COMMIT whose answer is lost (src/db/postgres.ts, `maybeCommitted` in
 * src/db/sql-database.ts): a real PostgreSQL behind a proxy that passes the
 * COMMIT on and cuts the connection before its answer comes back
 * (test/helpers/commit-cutter.ts). The transaction rejects with an error that
 * says it may have committed, and it did; a COMMIT the server itself refuses
 * (a deferred constraint) says it did not, and it did not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { CommitOutcomeUnknown, maybeCommitted } from '../../src/db/sql-database.js';
import { startCommitCutter, type CommitCutter } from '../helpers/commit-cutter.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { until } from '../helpers/wait.js';

let server: TestPostgres;
let cutter: CommitCutter;
let direct: PostgresDatabase;
let proxied: PostgresDatabase;

beforeAll(async () => {
  server = await startPostgres();
  cutter = await startCommitCutter({ host: '127.0.0.1', port: server.port });
  direct = await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 2 });
  const url = new URL(server.url);
  url.port = String(cutter.port);
  proxied = await PostgresDatabase.open({ url: url.toString(), password: server.password, poolSize: 2 });
  await direct.exec(`
    CREATE TABLE lost (k TEXT PRIMARY KEY);
    CREATE TABLE deferred (k TEXT, CONSTRAINT deferred_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED);
  `);
}, 60_000);

afterAll(async () => {
  await proxied?.close();
  await direct?.close();
  await cutter?.close();
  await server?.stop();
});

const count = async (table: string, k: string): Promise<number> => (await direct.get<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE k = ?`, [k]))?.n ?? -1;

describe('a COMMIT whose answer is lost', () => {
  it('rejects with CommitOutcomeUnknown (maybeCommitted), and the writes are in', async () => {
    const cut = cutter.cutNextCommit('COMMIT');
    const err = await proxied.transaction(async (tx) => {
      await tx.run('INSERT INTO lost (k) VALUES (?)', ['one']);
    }).then(() => undefined, (e: unknown) => e);
    await cut;
    expect(err).toBeInstanceOf(CommitOutcomeUnknown);
    expect(maybeCommitted(err)).toBe(true);
    // wrapped, as a caller rethrows it
    expect(maybeCommitted(new Error('queue commit failed', { cause: err }))).toBe(true);
    await until('the row committed', async () => (await count('lost', 'one')) === 1, { timeoutMs: 10_000 });
    // the pool recovers: the next transaction works on a new connection
    await proxied.transaction(async (tx) => {
      await tx.run('INSERT INTO lost (k) VALUES (?)', ['two']);
    });
    expect(await count('lost', 'two')).toBe(1);
  });

  it('a COMMIT the server refuses is not maybeCommitted, and nothing is in', async () => {
    await direct.run('INSERT INTO deferred (k) VALUES (?)', ['dup']);
    const err = await proxied.transaction(async (tx) => {
      await tx.run('INSERT INTO deferred (k) VALUES (?)', ['dup']);
      await tx.run('INSERT INTO lost (k) VALUES (?)', ['three']);
    }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe('23505');
    expect(maybeCommitted(err)).toBe(false);
    expect(await count('deferred', 'dup')).toBe(1);
    expect(await count('lost', 'three')).toBe(0);
  });

  it('an error inside the work is not maybeCommitted', async () => {
    const err = await proxied.transaction(async (tx) => {
      await tx.run('INSERT INTO lost (k) VALUES (?)', ['four']);
      throw new Error('the work failed');
    }).then(() => undefined, (e: unknown) => e);
    expect(maybeCommitted(err)).toBe(false);
    expect(await count('lost', 'four')).toBe(0);
  });
});
