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
 *   holder committed. `lockName` is a transaction-scoped advisory lock on a
 *   name, for a decision that has no row of its own to lock (a count).
 *
 * Lock order: take these before appending an audit event (the chain lock,
 * src/audit/log.ts), never after, and several rows in one fixed order.
 */
import { createHash } from 'node:crypto';
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

/** Pure: a name's 32-bit advisory key (the first 4 bytes of its SHA-256, signed). */
export function nameKey(name: string): number {
  return createHash('sha256').update(name, 'utf8').digest().readInt32BE(0);
}

/**
 * Makes `tx` (an open write transaction) the only one holding `name` in
 * lock space `space` until it ends: PostgreSQL's two-key
 * `pg_advisory_xact_lock(space, hash(name))` (a key space apart from the
 * one-key locks of the audit chain and the migrations). Two names with the
 * same hash only wait for each other, never more. Nothing on SQLite.
 */
export async function lockName(tx: SqlQueryable, space: number, name: string): Promise<void> {
  if (!Number.isInteger(space) || space < -0x80000000 || space > 0x7fffffff) throw new RangeError('lock space must be a 32-bit integer');
  if (tx.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(CAST(? AS integer), CAST(? AS integer)) AS locked', [space, nameKey(name)]);
}
