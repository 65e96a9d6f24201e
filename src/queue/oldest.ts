/**
 * When the oldest message still waiting was accepted: one with a recipient
 * to deliver (queued, in flight or deferred) and one with a held recipient.
 * One aggregate query each, portable SQL; read by the metrics scrape and the
 * alert monitor.
 */
import type { Queryable } from '../db/database.js';

export interface OldestWaiting {
  /** created_at (ms) of the oldest message with a recipient still to deliver; undefined: none. */
  readonly active: number | undefined;
  /** created_at (ms) of the oldest message with a held recipient; undefined: none. */
  readonly held: number | undefined;
}

export async function oldestWaiting(db: Queryable): Promise<OldestWaiting> {
  const rows = await db.all<{ kind: string; oldest: number | null }>(
    `SELECT 'active' AS kind, min(m.created_at) AS oldest FROM messages m
      WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('queued', 'in-flight', 'deferred'))
     UNION ALL
     SELECT 'held' AS kind, min(m.created_at) AS oldest FROM messages m
      WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = 'held')`,
  );
  const of = (kind: string): number | undefined => rows.find((r) => r.kind === kind)?.oldest ?? undefined;
  return { active: of('active'), held: of('held') };
}
