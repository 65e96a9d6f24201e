/**
 * A store's tests on both databases: a migrated SQLite file and a migrated
 * PostgreSQL database (a private server, test/helpers/postgres.ts) for one
 * test file. The pattern for a store made portable (docs/scale-out.md):
 *
 *   const dbs = bothDatabases();          // registers beforeAll / afterAll
 *   describe.each(DIALECTS)('%s', (kind) => {
 *     it('…', async () => { const db = dbs.get(kind); … });
 *   });
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Database } from '../../src/db/database.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { migrate } from '../../src/db/schema.js';
import { migratePostgres } from '../../src/db/schema-postgres.js';
import type { Dialect, SqlDatabase } from '../../src/db/sql-database.js';
import { startPostgres, type TestPostgres } from './postgres.js';

export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

export interface BothDatabases {
  /** The migrated database of that kind (after beforeAll). */
  get(kind: Dialect): SqlDatabase;
}

export function bothDatabases(): BothDatabases {
  let dir: string | undefined;
  let server: TestPostgres | undefined;
  const open = new Map<Dialect, SqlDatabase>();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealgate-both-'));
    const sqlite = await Database.open(join(dir, 'sealgate.db'));
    await migrate(sqlite);
    open.set('sqlite', sqlite);
    server = await startPostgres();
    const pg = await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 8 });
    await migratePostgres(pg);
    open.set('postgres', pg);
  });
  afterAll(async () => {
    for (const db of open.values()) await db.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get(kind) {
      const db = open.get(kind);
      if (!db) throw new Error(`no ${kind} database: bothDatabases() opens them in beforeAll`);
      return db;
    },
  };
}
