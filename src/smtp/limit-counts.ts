/**
 * Sliding-window counts in the database (table `ingress_counts`, migration
 * 32), shared by every node on it: the ingress rate limits and the burst
 * holds' first contacts (docs/rate-limits.md). A window is kept as 60 buckets
 * (a minute window: 1 s buckets; an hour: 1 min buckets), so a count covers
 * the last 59-60 sixtieths of the window: exact enough for a limit, and a key
 * costs at most 60 rows per window whatever the traffic.
 *
 * The same statements on SQLite and PostgreSQL: a sum over the key's buckets
 * still in the window, and an `INSERT … ON CONFLICT DO UPDATE` that adds to
 * the current bucket, so two nodes counting the same key at once both count.
 * Keys are given already hashed (limit-keys.ts): no address is stored.
 */
import type { SqlQueryable } from '../db/sql-database.js';

export const BUCKETS_PER_WINDOW = 60;

/** One counted thing and the window it is counted over. */
export interface WindowKey {
  readonly key: string;
  readonly windowMs: number;
}

export interface WindowAdd extends WindowKey {
  /** How much to add (> 0). */
  readonly n: number;
}

/** Pure: the bucket `now` falls in, the oldest bucket the window still covers, and when the bucket leaves every window. */
export function bucketAt(windowMs: number, now: number): { bucket: number; oldest: number; expiresAt: number } {
  const bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS_PER_WINDOW));
  const bucket = Math.floor(now / bucketMs);
  return { bucket, oldest: bucket - BUCKETS_PER_WINDOW + 1, expiresAt: (bucket + BUCKETS_PER_WINDOW) * bucketMs };
}

/** Most keys one statement reads (two parameters each). */
const KEYS_PER_READ = 200;

/** The sum within each key's window at `now` (0 for a key never counted), in the order given. */
export async function windowSums(q: SqlQueryable, keys: readonly WindowKey[], now: number): Promise<number[]> {
  const sums = new Map<string, number>();
  for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
    const part = keys.slice(i, i + KEYS_PER_READ);
    const rows = await q.all<{ key: string; n: number | string }>(
      `SELECT key, SUM(n) AS n FROM ingress_counts WHERE ${part.map(() => '(key = ? AND bucket >= ?)').join(' OR ')} GROUP BY key`,
      part.flatMap((k) => [k.key, bucketAt(k.windowMs, now).oldest]),
    );
    for (const r of rows) sums.set(r.key, Number(r.n));
  }
  return keys.map((k) => sums.get(k.key) ?? 0);
}

/**
 * Adds to each key's current bucket. Rows are written in key order, so two
 * transactions counting overlapping keys lock them in the same order.
 */
export async function addToWindows(tx: SqlQueryable, adds: readonly WindowAdd[], now: number): Promise<void> {
  const merged = new Map<string, WindowAdd>();
  for (const a of adds) {
    if (!(a.n > 0)) continue;
    const seen = merged.get(a.key);
    merged.set(a.key, seen ? { ...seen, n: seen.n + a.n } : a);
  }
  for (const a of [...merged.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))) {
    const { bucket, expiresAt } = bucketAt(a.windowMs, now);
    await tx.run(
      `INSERT INTO ingress_counts (key, bucket, n, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key, bucket) DO UPDATE SET n = ingress_counts.n + excluded.n`,
      [a.key, bucket, a.n, expiresAt],
    );
  }
}

/** Removes the buckets no window reaches any more; returns how many. */
export async function sweepCounts(tx: SqlQueryable, now: number): Promise<number> {
  return (await tx.run('DELETE FROM ingress_counts WHERE expires_at <= ?', [now])).changes;
}
