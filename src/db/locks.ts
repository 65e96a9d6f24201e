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

/**
 * Appended to a SELECT of rows the transaction will delete, where waiting
 * for another holder is not wanted (an operator's delete): ` FOR UPDATE
 * NOWAIT` on PostgreSQL. A row another transaction holds — a node claiming,
 * delivering or archiving it right now — fails the statement at once with
 * SQLSTATE 55P03 (`isLockNotAvailable`) instead of waiting, so the caller
 * says "busy, try again" and never takes part in a deadlock; nothing on
 * SQLite (the write transaction is alone already).
 */
export function forUpdateNowait(q: SqlQueryable): string {
  return q.dialect === 'postgres' ? ' FOR UPDATE NOWAIT' : '';
}

/** Whether `err` is PostgreSQL's lock_not_available (55P03): a NOWAIT lock found the row held. */
export function isLockNotAvailable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '55P03';
}
