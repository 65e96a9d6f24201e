/**
 * The PostgreSQL schema (src/db/schema-postgres.ts) on a real PostgreSQL:
 * migrations apply once (twice is a no-op, two nodes at once apply them
 * once), and the schema they build is the SQLite schema (src/db/schema.ts)
 * table for table, column for column, key for key and index for index —
 * compared from each engine's own catalogue, so the lists cannot drift.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { SCHEMA_VERSION, migrate } from '../../src/db/schema.js';
import { POSTGRES_MIGRATIONS, migratePostgres, postgresSchemaVersion } from '../../src/db/schema-postgres.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

let server: TestPostgres;
let dir: string;

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'sealgate-schema-'));
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const open = (url: string): Promise<PostgresDatabase> => PostgresDatabase.open({ url, password: server.password, poolSize: 4 });

describe('PostgreSQL migrations', () => {
  it('apply every version once; a second run applies nothing', async () => {
    const db = await open(await server.createDatabase());
    try {
      expect(await postgresSchemaVersion(db)).toBe(0);
      const first = await migratePostgres(db, () => 1_700_000_000_000);
      expect(first).toEqual({ from: 0, to: POSTGRES_MIGRATIONS.length, applied: Array.from({ length: POSTGRES_MIGRATIONS.length }, (_, i) => i + 1) });
      expect(await migratePostgres(db)).toEqual({ from: POSTGRES_MIGRATIONS.length, to: POSTGRES_MIGRATIONS.length, applied: [] });
      expect(await postgresSchemaVersion(db)).toBe(POSTGRES_MIGRATIONS.length);
      const rows = await db.all<{ version: number; applied_at: number }>('SELECT version, applied_at FROM schema_version ORDER BY version');
      expect(rows).toHaveLength(POSTGRES_MIGRATIONS.length);
      expect(rows[0]).toEqual({ version: 1, applied_at: 1_700_000_000_000 });
    } finally {
      await db.close();
    }
  });

  it('two nodes migrating at the same moment: one applies, the other finds nothing pending', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([open(url), open(url)]);
    try {
      const outcomes = await Promise.all([migratePostgres(a), migratePostgres(b)]);
      const appliedCounts = outcomes.map((o) => o.applied.length).sort((x, y) => x - y);
      expect(appliedCounts).toEqual([0, POSTGRES_MIGRATIONS.length]);
      expect(await a.get('SELECT COUNT(*) AS n, COUNT(DISTINCT version) AS d FROM schema_version')).toEqual({ n: POSTGRES_MIGRATIONS.length, d: POSTGRES_MIGRATIONS.length });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

interface Column {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  readonly default: string | null;
}
interface Table {
  readonly columns: readonly Column[];
  readonly primaryKey: readonly string[];
}
interface Index {
  readonly table: string;
  readonly unique: boolean;
  /** Normalised key expressions: lower case, no spaces, e.g. lower(sender),received_at */
  readonly keys: string;
  /** Normalised WHERE of a partial index, '' for none */
  readonly where: string;
}
interface Schema {
  readonly tables: Record<string, Table>;
  readonly indexes: Record<string, Index>;
}

/** The text of the parenthesised group that starts at or after `from`, without its outer parentheses. */
function group(text: string, from: number): { inner: string; end: number } {
  const start = text.indexOf('(', from);
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '(') depth++;
    if (text[i] === ')' && --depth === 0) return { inner: text.slice(start + 1, i), end: i + 1 };
  }
  throw new Error(`unbalanced: ${text}`);
}

const norm = (s: string): string => s.toLowerCase().replace(/[()]/g, '').replace(/\s+/g, ' ').trim();
const normKeys = (s: string): string => s.toLowerCase().replace(/\s+/g, '');
/** SQLite declared types as their PostgreSQL counterparts (the mapping schema-postgres.ts states). */
const SQLITE_TYPE: Record<string, string> = { INTEGER: 'bigint', TEXT: 'text', BLOB: 'bytea' };
/** A default without PostgreSQL's casts: 'may'::text is 'may'. */
const normDefault = (d: string | null): string | null => (d === null ? null : d.replace(/::[a-z ]+$/, ''));

function indexFromSql(table: string, sql: string): Index {
  const on = sql.search(/\sON\s/i);
  const keys = group(sql, on);
  const rest = sql.slice(keys.end);
  const where = /\bWHERE\b(.*)$/is.exec(rest);
  return { table, unique: /^CREATE UNIQUE/i.test(sql), keys: normKeys(keys.inner), where: where ? norm(where[1] ?? '') : '' };
}

async function sqliteSchema(db: Database): Promise<Schema> {
  const tables: Record<string, Table> = {};
  const names = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  for (const { name } of names) {
    const info = await db.all<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>(`PRAGMA table_info(${name})`);
    tables[name] = {
      // a primary-key column is NOT NULL in PostgreSQL; SQLite's legacy leniency there is never used (the code writes every key)
      columns: info.map((c) => ({ name: c.name, type: SQLITE_TYPE[c.type] ?? `unknown ${c.type}`, notNull: c.notnull === 1 || c.pk > 0, default: c.dflt_value })),
      primaryKey: info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
    };
  }
  const indexes: Record<string, Index> = {};
  for (const row of await db.all<{ name: string; tbl_name: string; sql: string }>("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")) {
    indexes[row.name] = indexFromSql(row.tbl_name, row.sql);
  }
  return { tables, indexes };
}

async function postgresSchema(db: PostgresDatabase): Promise<Schema> {
  const tables: Record<string, Table> = {};
  const names = await db.all<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_version' ORDER BY table_name",
  );
  for (const { name } of names) {
    const cols = await db.all<{ name: string; type: string; nullable: string; dflt: string | null }>(
      'SELECT column_name AS name, data_type AS type, is_nullable AS nullable, column_default AS dflt FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position',
      [name],
    );
    const pk = await db.all<{ name: string }>(
      `SELECT kcu.column_name AS name FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
        WHERE tc.table_schema = current_schema() AND tc.table_name = ? AND tc.constraint_type = 'PRIMARY KEY' ORDER BY kcu.ordinal_position`,
      [name],
    );
    tables[name] = {
      columns: cols.map((c) => ({ name: c.name, type: c.type, notNull: c.nullable === 'NO', default: normDefault(c.dflt) })),
      primaryKey: pk.map((c) => c.name),
    };
  }
  const indexes: Record<string, Index> = {};
  // the indexes PostgreSQL makes for primary keys (<table>_pkey) are SQLite's implicit autoindexes: not compared by name
  const rows = await db.all<{ name: string; tbl: string; def: string }>(
    "SELECT indexname AS name, tablename AS tbl, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%\\_pkey' ESCAPE '\\'",
  );
  for (const row of rows) {
    // CREATE [UNIQUE] INDEX name ON public.t USING btree (keys) [WHERE (pred)]
    const using = row.def.indexOf(' USING ');
    const keys = group(row.def, using);
    const where = /\bWHERE\b(.*)$/s.exec(row.def.slice(keys.end));
    indexes[row.name] = { table: row.tbl, unique: /^CREATE UNIQUE/.test(row.def), keys: normKeys(keys.inner), where: where ? norm(where[1] ?? '') : '' };
  }
  return { tables, indexes };
}

describe('schema equivalence', () => {
  it('has the same number of versions in both lists', () => {
    expect(POSTGRES_MIGRATIONS.length).toBe(SCHEMA_VERSION);
  });

  it('builds the same tables, columns, nullability, defaults, primary keys and indexes as SQLite', async () => {
    const sqlite = await Database.open(join(dir, 'schema.db'));
    const pg = await open(await server.createDatabase());
    try {
      await migrate(sqlite);
      await migratePostgres(pg);
      const [a, b] = [await sqliteSchema(sqlite), await postgresSchema(pg)];
      expect(Object.keys(a.tables).length).toBeGreaterThan(20);
      expect(Object.keys(a.indexes).length).toBeGreaterThan(30);
      // the comparison sees the features it claims to: an expression index and a partial one
      expect(a.indexes.archive_messages_sender_lower?.keys).toBe('lower(sender),received_at');
      expect(a.indexes.archive_messages_due?.where).toBe('purged_at is null and hold = 0');
      expect(b.tables).toEqual(a.tables);
      expect(b.indexes).toEqual(a.indexes);
    } finally {
      await sqlite.close();
      await pg.close();
    }
  });
});
