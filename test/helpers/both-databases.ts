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
  /**
   * A further, separate connection to that same database (SQLite: another
   * connection to the file, as a second process has; PostgreSQL: another
   * pool, as a second node has), for tests with several writers. Closed in
   * afterAll.
   */
  connect(kind: Dialect): Promise<SqlDatabase>;
  /**
   * A new, empty, migrated database of that kind (SQLite: another file;
   * PostgreSQL: another database on the same server), for tests that alter
   * or empty what they are given. Closed in afterAll.
   */
  fresh(kind: Dialect): Promise<SqlDatabase>;
}

export function bothDatabases(): BothDatabases {
  let dir: string | undefined;
  let server: TestPostgres | undefined;
  let sqlitePath: string | undefined;
  const open = new Map<Dialect, SqlDatabase>();
  const extra: SqlDatabase[] = [];
  let files = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealgate-both-'));
    sqlitePath = join(dir, 'sealgate.db');
    const sqlite = await Database.open(sqlitePath);
    await migrate(sqlite);
    open.set('sqlite', sqlite);
    server = await startPostgres();
    const pg = await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 8 });
    await migratePostgres(pg);
    open.set('postgres', pg);
  });
  afterAll(async () => {
    for (const db of extra.splice(0)) await db.close();
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
    async connect(kind) {
      if (!sqlitePath || !server) throw new Error('bothDatabases() opens the databases in beforeAll');
      const db = kind === 'sqlite' ? await Database.open(sqlitePath) : await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 8 });
      extra.push(db);
      return db;
    },
    async fresh(kind) {
      if (!dir || !server) throw new Error('bothDatabases() opens the databases in beforeAll');
      if (kind === 'sqlite') {
        const db = await Database.open(join(dir, `fresh-${++files}.db`));
        extra.push(db);
        await migrate(db);
        return db;
      }
      const db = await PostgresDatabase.open({ url: await server.createDatabase(), password: server.password, poolSize: 2 });
      extra.push(db);
      await migratePostgres(db);
      return db;
    },
  };
}
