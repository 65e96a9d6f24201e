/**
 * Gauges read from the queue at scrape time: recipients by state, the age of
 * the oldest message still to deliver (and of the oldest held one), and held
 * recipients by reason. Each is one aggregate query in portable SQL; labels
 * are states and reason names, never an address or a domain.
 */
import type { Queryable } from '../db/database.js';
import type { Metrics } from './registry.js';

/** The reason a held recipient waits, from its decided method (see docs/metrics.md). */
export const HELD_REASON_SQL = `CASE WHEN method = 'quarantine' THEN 'quarantine'
  WHEN method IS NOT NULL AND method NOT IN ('tls-verified', 'tls-opportunistic') THEN 'protection'
  ELSE 'operator' END`;

/** Pure: seconds from `createdAt` (ms) to `now`, never negative (a clock step back). */
export function ageSeconds(createdAt: number, now: number): number {
  return Math.max(0, Math.floor((now - createdAt) / 1000));
}

export function registerQueueGauges(metrics: Metrics, db: Queryable, now: () => number): void {
  metrics.gauge('sealgate_queue_recipients', async () =>
    (await db.all<{ state: string; n: number }>('SELECT state, count(*) AS n FROM recipients GROUP BY state ORDER BY state')).map((r) => ({ labels: { state: r.state }, value: r.n })),
  );
  metrics.gauge('sealgate_queue_oldest_age_seconds', async () => {
    const rows = await db.all<{ kind: string; oldest: number | null }>(
      `SELECT 'active' AS kind, min(m.created_at) AS oldest FROM messages m
        WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('queued', 'in-flight', 'deferred'))
       UNION ALL
       SELECT 'held' AS kind, min(m.created_at) AS oldest FROM messages m
        WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = 'held')`,
    );
    const t = now();
    return rows.filter((r) => r.oldest !== null).map((r) => ({ labels: { kind: r.kind }, value: ageSeconds(r.oldest ?? t, t) }));
  });
  metrics.gauge('sealgate_held_recipients', async () =>
    (await db.all<{ reason: string; n: number }>(`SELECT ${HELD_REASON_SQL} AS reason, count(*) AS n FROM recipients WHERE state = 'held' GROUP BY ${HELD_REASON_SQL} ORDER BY reason`)).map((r) => ({
      labels: { reason: r.reason },
      value: r.n,
    })),
  );
}
