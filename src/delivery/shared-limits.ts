/**
 * Delivery limits that hold across nodes (several nodes on one PostgreSQL,
 * docs/scale-out.md "Delivery claims"): `delivery.perDomainConcurrency`
 * and `delivery.perDomainRate` count every node's attempts, not each
 * node's own.
 *
 *   - Claims are taken one node at a time: a claim transaction first takes
 *     a transaction-scoped advisory lock (DELIVERY_CLAIM_LOCK), so what it
 *     counts is not changed by another node's claim before it commits. A
 *     claim is a few statements; nodes wait milliseconds for each other.
 *   - Attempts in progress per domain: this node's own (in memory, as on
 *     SQLite) plus the other nodes' in-flight recipients under their lease,
 *     a message's recipients at one domain counted once.
 *   - The rate buckets live in `delivery_rate_buckets` (migration 30): read
 *     for the domains a claim considers, taken from in memory with the same
 *     token bucket (rate-limit.ts), written back in the claim's
 *     transaction. Tokens are kept in millionths.
 *
 * On SQLite one node owns the file: none of this runs (the engine keeps its
 * counts and buckets in memory).
 */
import type { SqlQueryable } from '../db/sql-database.js';
import type { Bucket } from './rate-limit.js';

/** The advisory lock key of claims (a fixed number of our own; the audit chain and migrations have theirs). */
export const DELIVERY_CLAIM_LOCK = 0x5ea1c1a1;

const MICRO = 1_000_000;

/** Makes `tx` the only claim in progress on any node until it ends (PostgreSQL; nothing on SQLite). */
export async function lockClaims(tx: SqlQueryable): Promise<void> {
  if (tx.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?) AS locked', [DELIVERY_CLAIM_LOCK]);
}

/** Other nodes' attempts in progress per domain: their in-flight recipients, a message's recipients at one domain counted once. */
export async function othersInFlight(tx: SqlQueryable, node: string): Promise<Map<string, number>> {
  const rows = await tx.all<{ domain: string; jobs: number }>(
    "SELECT domain, COUNT(DISTINCT message_id) AS jobs FROM recipients WHERE state = 'in-flight' AND lease_node IS NOT NULL AND lease_node <> ? GROUP BY domain",
    [node],
  );
  return new Map(rows.map((r) => [r.domain, Number(r.jobs)]));
}

/** The stored buckets of `domains` (domains without a row have none yet: a full bucket). */
export async function loadBuckets(tx: SqlQueryable, domains: readonly string[]): Promise<Map<string, Bucket>> {
  const out = new Map<string, Bucket>();
  for (let at = 0; at < domains.length; at += 500) {
    const part = domains.slice(at, at + 500);
    const rows = await tx.all<{ domain: string; tokens_micro: number; at: number }>(
      `SELECT domain, tokens_micro, at FROM delivery_rate_buckets WHERE domain IN (${part.map(() => '?').join(', ')})`,
      part,
    );
    for (const r of rows) out.set(r.domain, { tokens: Number(r.tokens_micro) / MICRO, at: Number(r.at) });
  }
  return out;
}

/** Writes `buckets` back (one statement per 200 domains). */
export async function saveBuckets(tx: SqlQueryable, buckets: ReadonlyMap<string, Bucket>): Promise<void> {
  const entries = [...buckets];
  for (let at = 0; at < entries.length; at += 200) {
    const part = entries.slice(at, at + 200);
    await tx.run(
      `INSERT INTO delivery_rate_buckets (domain, tokens_micro, at) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}
       ON CONFLICT (domain) DO UPDATE SET tokens_micro = excluded.tokens_micro, at = excluded.at`,
      part.flatMap(([domain, b]) => [domain, Math.max(0, Math.floor(b.tokens * MICRO)), b.at]),
    );
  }
}
