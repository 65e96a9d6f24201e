/**
 * Gauges read from the queue at scrape time: recipients by state, the age of
 * the oldest message still to deliver (and of the oldest held one), and held
 * recipients by reason. Each is one aggregate query in portable SQL; labels
 * are states and reason names, never an address or a domain.
 */
import type { SqlQueryable } from '../db/sql-database.js';
import { oldestWaiting } from '../queue/oldest.js';
import type { Metrics } from './registry.js';

/** The reason a held recipient waits, from its decided method (see docs/metrics.md). */
export const HELD_REASON_SQL = `CASE WHEN method = 'quarantine' THEN 'quarantine'
  WHEN method IS NOT NULL AND method NOT IN ('tls-verified', 'tls-opportunistic') THEN 'protection'
  ELSE 'operator' END`;

/** Pure: seconds from `createdAt` (ms) to `now`, never negative (a clock step back). */
export function ageSeconds(createdAt: number, now: number): number {
  return Math.max(0, Math.floor((now - createdAt) / 1000));
}

export function registerQueueGauges(metrics: Metrics, db: SqlQueryable, now: () => number): void {
  metrics.gauge('sealgate_queue_recipients', async () =>
    (await db.all<{ state: string; n: number }>('SELECT state, count(*) AS n FROM recipients GROUP BY state ORDER BY state')).map((r) => ({ labels: { state: r.state }, value: r.n })),
  );
  metrics.gauge('sealgate_queue_oldest_age_seconds', async () => {
    const oldest = await oldestWaiting(db);
    const t = now();
    return (['active', 'held'] as const).flatMap((kind) => {
      const at = oldest[kind];
      return at === undefined ? [] : [{ labels: { kind }, value: ageSeconds(at, t) }];
    });
  });
  metrics.gauge('sealgate_held_recipients', async () =>
    (await db.all<{ reason: string; n: number }>(`SELECT ${HELD_REASON_SQL} AS reason, count(*) AS n FROM recipients WHERE state = 'held' GROUP BY ${HELD_REASON_SQL} ORDER BY reason`)).map((r) => ({
      labels: { reason: r.reason },
      value: r.n,
    })),
  );
}
