/**
 * Plain INSERTs held for a group commit's COMMIT (DeferredWrites, SQLite's
 * group commit in database.ts): rows for a few tables, handed over by the
 * group's transactions one after another and written just before COMMIT,
 * each table in multi-row INSERTs — one statement a table for the whole
 * group instead of one a table for each transaction.
 *
 * Only for rows nothing reads before the group commits: a transaction of
 * the same group does not see them (they are not in the table yet). A
 * failing transaction's rows are taken back (`rollbackTo`); a failing
 * flush fails the whole group, as a failing COMMIT does.
 */
import type { DeferredWrites, SqlValue } from './database.js';
import type { SqlQueryable } from './sql-database.js';

/** A table the rows go to: its name, the columns each row gives values for, and the most rows an INSERT takes. */
export interface RowsTable {
  readonly name: string;
  readonly columns: readonly string[];
  readonly perStatement: number;
}

/** Inserts `rows` (each a list of values for `columns`) into `table` with multi-row INSERTs of at most `perStatement` rows. */
export async function insertRowsChunked(tx: SqlQueryable, table: RowsTable, rows: readonly SqlValue[][]): Promise<void> {
  const one = `(${table.columns.map(() => '?').join(', ')})`;
  for (let at = 0; at < rows.length; at += table.perStatement) {
    const part = rows.slice(at, at + table.perStatement);
    await tx.run(`INSERT INTO ${table.name} (${table.columns.join(', ')}) VALUES ${part.map(() => one).join(', ')}`, part.flat());
  }
}

/**
 * Rows for `tables`, kept in the order they were added and written at the
 * COMMIT table by table in the order the tables are listed (a table whose
 * rows reference another's comes after it).
 */
export class RowsAtCommit implements DeferredWrites {
  private readonly held: { readonly table: RowsTable; readonly row: SqlValue[] }[] = [];

  constructor(private readonly tables: readonly RowsTable[]) {}

  add(table: RowsTable, rows: readonly SqlValue[][]): void {
    if (!this.tables.includes(table)) throw new Error(`rows at commit: table ${table.name} is not one of this writer's`);
    for (const row of rows) this.held.push({ table, row });
  }

  mark(): number {
    return this.held.length;
  }

  rollbackTo(mark: number): void {
    this.held.length = mark;
  }

  async flush(tx: SqlQueryable): Promise<void> {
    for (const table of this.tables) {
      const rows = this.held.filter((h) => h.table === table).map((h) => h.row);
      if (rows.length > 0) await insertRowsChunked(tx, table, rows);
    }
  }
}
