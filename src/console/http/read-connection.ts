/**
 * A read-only connection of its own for the console's long reads (the
 * reports page): one report over a year of a big archive runs for seconds,
 * and on the daemon's one connection it would hold up everything else that
 * connection does (accepting mail, recording deliveries). In WAL mode a
 * second connection reads beside the writer without blocking it.
 */
import { Database } from '../../db/database.js';

/** The file of `db`'s main database, or undefined for an in-memory or temporary one. */
export async function databaseFile(db: Database): Promise<string | undefined> {
  const rows = await db.all<{ name: string; file: string | null }>('PRAGMA database_list');
  const file = rows.find((r) => r.name === 'main')?.file;
  return file ? file : undefined;
}

/** A read-only connection to `db`'s file, or undefined when it has none (the caller then reads through `db`). */
export async function openReadConnection(db: Database): Promise<Database | undefined> {
  const file = await databaseFile(db);
  return file === undefined ? undefined : Database.open(file, { readOnly: true });
}
