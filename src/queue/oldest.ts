/**
 * When the oldest message still waiting was accepted: one with a recipient
 * to deliver (queued, in flight or deferred) and one with a held recipient.
 * One aggregate query each, portable SQL; read by the metrics scrape and the
 * alert monitor.
 */
import type { SqlQueryable } from '../db/sql-database.js';

export interface OldestWaiting {
  /** created_at (ms) of the oldest message with a recipient still to deliver; undefined: none. */
  readonly active: number | undefined;
  /** created_at (ms) of the oldest message with a held recipient; undefined: none. */
  readonly held: number | undefined;
}

/**
 * Each kind's condition is `m.id IN (one subquery)`, evaluated once from the state index, never an EXISTS per
 * message: SQLite ran that EXISTS as a search of every recipient in the state for each message (3.6 s with
 * 100 000 queued and 8 500 held; about 0.15 s this way).
 */
export const OLDEST_WAITING_SQL = `SELECT 'active' AS kind, min(m.created_at) AS oldest FROM messages m
      WHERE m.id IN (SELECT r.message_id FROM recipients r WHERE r.state IN ('queued', 'in-flight', 'deferred'))
     UNION ALL
     SELECT 'held' AS kind, min(m.created_at) AS oldest FROM messages m
      WHERE m.id IN (SELECT r.message_id FROM recipients r WHERE r.state = 'held')`;

export async function oldestWaiting(db: SqlQueryable): Promise<OldestWaiting> {
  const rows = await db.all<{ kind: string; oldest: number | null }>(OLDEST_WAITING_SQL);
  const of = (kind: string): number | undefined => rows.find((r) => r.kind === kind)?.oldest ?? undefined;
  return { active: of('active'), held: of('held') };
}
