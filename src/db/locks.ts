/**
 * Locks for a transaction that reads, decides and writes, so that it stays
 * correct when several writers (nodes) run it at once (docs/scale-out.md,
 * "Database"). Portable through the SqlQueryable's `dialect`:
 *
 * - SQLite: a write transaction holds the file's write lock from its
 *   BEGIN IMMEDIATE (Database.transaction): every transaction is alone
 *   already, so there is nothing to add (the clauses are empty).
 * - PostgreSQL (READ COMMITTED): transactions of several nodes run at once;
 *   a row read with `FOR NO KEY UPDATE` (or `FOR UPDATE`) is held until the
 *   transaction ends, and a statement after the lock sees what the previous
 *   holder committed. A decision with no row of its own to lock (a count)
 *   takes an advisory lock on its key instead (`lockKey`, sql-database.ts).
 *
 * Lock order: take these before appending an audit event (the chain lock,
 * src/audit/log.ts), never after, and several rows in one fixed order.
 */
import type { SqlQueryable } from './sql-database.js';

/**
 * Appended to a SELECT that reads rows the transaction will change (not
 * their key): ` FOR NO KEY UPDATE` on PostgreSQL, nothing on SQLite. It
 * does not block inserts of rows that reference the locked one.
 */
export function forNoKeyUpdate(q: SqlQueryable): string {
  return q.dialect === 'postgres' ? ' FOR NO KEY UPDATE' : '';
}

/**
 * Appended to a SELECT of rows to delete in passing (clean-up of what is
 * over): ` FOR UPDATE SKIP LOCKED` on PostgreSQL, so two nodes cleaning up
 * at once each take the rows the other is not deleting instead of waiting
 * (or deadlocking) on them; nothing on SQLite.
 */
export function forUpdateSkipLocked(q: SqlQueryable): string {
  return q.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
}
