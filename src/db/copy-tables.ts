/**
 * Copying every table of a single node's SQLite database into PostgreSQL,
 * resumable, and hashing both sides the same way (`sealgate migrate`,
 * docs/scale-out.md "Moving a single node to the shared stores").
 *
 * - Tables are found in SQLite's catalogue and copied parents first (their
 *   foreign keys), each in primary-key order, in batches read with keyset
 *   pagination (`WHERE (pk) > (last) ORDER BY pk LIMIT n`).
 * - Each batch is inserted in one PostgreSQL transaction together with the
 *   table's progress row in `sealgate_migration` (the last key copied, the
 *   rows so far): a run that stops anywhere leaves either the whole batch and
 *   its progress or neither, and the next run continues after the recorded
 *   key. An interrupted copy resumed is therefore the same rows as one that
 *   never stopped.
 * - The content hash of a table is SHA-256 over its rows in primary-key order,
 *   each in a canonical form (canonicalRow) computed in this process from
 *   what each driver returns: SQLite INTEGER and PostgreSQL BIGINT as numbers,
 *   BLOB and BYTEA as bytes, TEXT as text. PostgreSQL orders text keys with
 *   COLLATE "C" (byte order of UTF-8), which is SQLite's BINARY order.
 */
import { createHash } from 'node:crypto';
import type { SqlQueryable, SqlValue } from './sql-database.js';

/** The progress table, in the target database only; kept after the copy as its record. */
export const PROGRESS_TABLE = 'sealgate_migration';

/** Tables of the target that are not copied from the source (PostgreSQL's own bookkeeping). */
export const TARGET_ONLY_TABLES: readonly string[] = ['schema_version', PROGRESS_TABLE];

/** PostgreSQL takes at most 65535 parameters per statement; stay well under. */
const MAX_PARAMS = 30_000;

export interface TableInfo {
  readonly name: string;
  /** In the source's column order. */
  readonly columns: readonly string[];
  /** The primary key's columns, in key order. */
  readonly primaryKey: readonly string[];
  /** Tables this one's foreign keys reference. */
  readonly references: readonly string[];
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** Pure: a catalogue name as a quoted identifier; anything but a plain lower-case name is refused. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`unexpected table or column name ${JSON.stringify(name.slice(0, 64))}`);
  return `"${name}"`;
}

/** Pure: the tables parents first (a table after every table it references), by name among equals. */
export function copyOrder(tables: readonly TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const out: TableInfo[] = [];
  const visiting = new Set<string>();
  const visit = (t: TableInfo): void => {
    if (done.has(t.name)) return;
    if (visiting.has(t.name)) throw new Error(`foreign keys form a cycle through table ${t.name}`);
    visiting.add(t.name);
    for (const r of [...t.references].sort()) {
      const parent = byName.get(r);
      if (parent && parent.name !== t.name) visit(parent);
    }
    visiting.delete(t.name);
    done.add(t.name);
    out.push(t);
  };
  for (const t of [...tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) visit(t);
  return out;
}

/**
 * Pure: one row in the canonical form both sides are hashed in: a JSON array
 * of tagged values (N null, i integer, f other number, s text, b bytes as
 * hex), one line. The same row read from SQLite and from PostgreSQL gives the
 * same line exactly when every value is the same.
 */
export function canonicalRow(values: readonly unknown[]): string {
  const tagged = values.map((v): string => {
    if (v === null || v === undefined) return 'N';
    if (typeof v === 'bigint') return `i${v.toString()}`;
    if (typeof v === 'number') return Number.isInteger(v) ? `i${v}` : `f${v}`;
    if (typeof v === 'string') return `s${v}`;
    if (Buffer.isBuffer(v)) return `b${v.toString('hex')}`;
    if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('hex')}`;
    throw new Error(`unexpected value of type ${typeof v} in a row`);
  });
  return `${JSON.stringify(tagged)}\n`;
}

/** Pure: rows per batch for a table of `columns` columns (at most `wanted`, within the parameter limit). */
export function batchRows(wanted: number, columns: number): number {
  return Math.max(1, Math.min(wanted, Math.floor(MAX_PARAMS / Math.max(1, columns))));
}

/**
 * Pure: a page of `table` in key order after `after` (none: from the start).
 * `textKeys`: key columns to compare and order with COLLATE "C" (PostgreSQL's
 * text keys; SQLite's BINARY order needs nothing).
 */
export function pageSql(table: TableInfo, after: readonly SqlValue[] | undefined, limit: number, textKeys: ReadonlySet<string> = new Set()): { sql: string; params: SqlValue[] } {
  const key = table.primaryKey.map((c) => (textKeys.has(c) ? `${ident(c)} COLLATE "C"` : ident(c)));
  const cols = table.columns.map(ident).join(', ');
  const where = after === undefined ? '' : ` WHERE (${key.join(', ')}) > (${key.map(() => '?').join(', ')})`;
  return { sql: `SELECT ${cols} FROM ${ident(table.name)}${where} ORDER BY ${key.join(', ')} LIMIT ?`, params: [...(after ?? []), limit] };
}

/** The tables of a SQLite database with their columns, keys and references (its own catalogue). */
export async function sqliteTables(db: SqlQueryable): Promise<TableInfo[]> {
  const names = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  const out: TableInfo[] = [];
  for (const { name } of names) {
    const cols = await db.all<{ name: string; pk: number }>(`PRAGMA table_info(${ident(name)})`);
    const fks = await db.all<{ table: string }>(`PRAGMA foreign_key_list(${ident(name)})`);
    const primaryKey = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    if (primaryKey.length === 0) throw new Error(`table ${name} has no primary key: it cannot be copied in key order`);
    out.push({ name, columns: cols.map((c) => c.name), primaryKey, references: [...new Set(fks.map((f) => f.table))] });
  }
  return out;
}

/** A PostgreSQL table's columns and their types (information_schema). */
export async function postgresColumns(db: SqlQueryable): Promise<Map<string, Map<string, string>>> {
  const rows = await db.all<{ table_name: string; column_name: string; data_type: string }>(
    'SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position',
  );
  const out = new Map<string, Map<string, string>>();
  for (const r of rows) {
    const t = out.get(r.table_name) ?? new Map<string, string>();
    t.set(r.column_name, r.data_type);
    out.set(r.table_name, t);
  }
  return out;
}

/** Pure: what differs between the source's tables and the target's (empty: the same tables and columns). */
export function schemaDifferences(source: readonly TableInfo[], target: ReadonlyMap<string, ReadonlyMap<string, string>>): string[] {
  const problems: string[] = [];
  const names = new Set(source.map((t) => t.name));
  for (const t of source) {
    const cols = target.get(t.name);
    if (!cols) {
      problems.push(`table ${t.name} is missing`);
      continue;
    }
    const missing = t.columns.filter((c) => !cols.has(c));
    const extra = [...cols.keys()].filter((c) => !t.columns.includes(c));
    if (missing.length > 0) problems.push(`table ${t.name} lacks column(s) ${missing.join(', ')}`);
    if (extra.length > 0) problems.push(`table ${t.name} has extra column(s) ${extra.join(', ')}`);
  }
  for (const name of target.keys()) if (!names.has(name) && !TARGET_ONLY_TABLES.includes(name)) problems.push(`table ${name} is not in the source`);
  return problems;
}

/** The text key columns of a PostgreSQL table (ordered with COLLATE "C"). */
export function textKeysOf(table: TableInfo, columns: ReadonlyMap<string, string> | undefined): Set<string> {
  return new Set(table.primaryKey.filter((c) => columns?.get(c) === 'text'));
}

export interface Progress {
  readonly table: string;
  readonly lastKey: SqlValue[] | undefined;
  readonly rows: number;
  readonly done: boolean;
  readonly source: string;
}

const PROGRESS_DDL = `CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (
  table_name  TEXT PRIMARY KEY,
  last_key    TEXT,             -- JSON array: the primary key of the last row copied (NULL: none yet)
  rows_copied BIGINT NOT NULL,
  done        BIGINT NOT NULL,  -- 1 once the whole table is copied
  source      TEXT NOT NULL,    -- the SQLite file copied from
  updated_at  BIGINT NOT NULL   -- ms since epoch
)`;

/** Pure: a stored key back to values (text and numbers; no table has a BLOB key). */
export function parseKey(text: string | null): SqlValue[] | undefined {
  if (text === null) return undefined;
  const v: unknown = JSON.parse(text);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' || typeof x === 'number' || x === null)) throw new Error(`${PROGRESS_TABLE}: an unreadable last_key`);
  return v as SqlValue[];
}

/** The progress recorded in the target, by table (creates the table the first time). */
export async function readProgress(target: SqlQueryable): Promise<Map<string, Progress>> {
  await target.exec(PROGRESS_DDL);
  const rows = await target.all<{ table_name: string; last_key: string | null; rows_copied: number; done: number; source: string }>(
    `SELECT table_name, last_key, rows_copied, done, source FROM ${PROGRESS_TABLE}`,
  );
  return new Map(rows.map((r) => [r.table_name, { table: r.table_name, lastKey: parseKey(r.last_key), rows: r.rows_copied, done: r.done === 1, source: r.source }]));
}

export interface CopyTableOptions {
  readonly batchRows: number;
  /** The source's identity recorded with the progress (its file path). */
  readonly source: string;
  readonly now: () => number;
  /** After each batch is committed (tests stop a copy here; the CLI reports progress). */
  readonly afterBatch?: (table: string, rowsSoFar: number) => void | Promise<void>;
}

type TargetDb = SqlQueryable & { transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> };

/** Copies one table from where its progress stands to its end; resolves with the rows it holds in the target. */
export async function copyTable(source: SqlQueryable, target: TargetDb, table: TableInfo, progress: Progress | undefined, options: CopyTableOptions): Promise<number> {
  if (progress?.done) return progress.rows;
  if (progress === undefined) {
    const existing = await target.get<{ n: number }>(`SELECT count(*) AS n FROM ${ident(table.name)}`);
    if ((existing?.n ?? 0) > 0) throw new Error(`the target's table ${table.name} already holds ${existing?.n} rows that no earlier migration copied: migrate into an empty database`);
  }
  const limit = batchRows(options.batchRows, table.columns.length);
  let after = progress?.lastKey;
  let rows = progress?.rows ?? 0;
  const keyIndex = table.primaryKey.map((c) => table.columns.indexOf(c));
  const insertHead = `INSERT INTO ${ident(table.name)} (${table.columns.map(ident).join(', ')}) VALUES `;
  const rowMarks = `(${table.columns.map(() => '?').join(', ')})`;
  for (;;) {
    const page = pageSql(table, after, limit);
    const batch = await source.all<Record<string, SqlValue>>(page.sql, page.params);
    const last = batch[batch.length - 1];
    const lastKey = last === undefined ? after : keyIndex.map((i) => last[table.columns[i] as string] as SqlValue);
    const finished = batch.length < limit;
    const count = rows + batch.length;
    await target.transaction(async (tx) => {
      if (batch.length > 0) {
        const params: SqlValue[] = [];
        for (const row of batch) for (const c of table.columns) params.push(row[c] ?? null);
        await tx.run(insertHead + batch.map(() => rowMarks).join(', '), params);
      }
      await tx.run(
        `INSERT INTO ${PROGRESS_TABLE} (table_name, last_key, rows_copied, done, source, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (table_name) DO UPDATE SET last_key = excluded.last_key, rows_copied = excluded.rows_copied, done = excluded.done, updated_at = excluded.updated_at`,
        [table.name, lastKey === undefined ? null : JSON.stringify(lastKey), count, finished ? 1 : 0, options.source, options.now()],
      );
    });
    rows = count;
    after = lastKey;
    await options.afterBatch?.(table.name, rows);
    if (finished) return rows;
  }
}

export interface TableDigest {
  readonly rows: number;
  readonly sha256: string;
}

/** Row count and content hash of a table, read in key order in pages (either engine). */
export async function digestTable(db: SqlQueryable, table: TableInfo, textKeys: ReadonlySet<string>, pageRows = 1000): Promise<TableDigest> {
  const hash = createHash('sha256');
  const limit = batchRows(pageRows, table.columns.length);
  const keyIndex = table.primaryKey.map((c) => table.columns.indexOf(c));
  let after: SqlValue[] | undefined;
  let rows = 0;
  for (;;) {
    const page = pageSql(table, after, limit, textKeys);
    const batch = await db.all<Record<string, unknown>>(page.sql, page.params);
    for (const row of batch) hash.update(canonicalRow(table.columns.map((c) => row[c])));
    rows += batch.length;
    const last = batch[batch.length - 1];
    if (last !== undefined) after = keyIndex.map((i) => last[table.columns[i] as string] as SqlValue);
    if (batch.length < limit) return { rows, sha256: hash.digest('hex') };
  }
}

/** `SELECT count(*)` of a table. */
export async function countRows(db: SqlQueryable, table: string): Promise<number> {
  return (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${ident(table)}`))?.n ?? 0;
}
