/**
 * The last discovery lookup per address and source (table key_lookups,
 * migration 14). Portable SQL (SQLite and PostgreSQL): the row is replaced by
 * one INSERT … ON CONFLICT DO UPDATE, which stays correct when two nodes
 * record a lookup of the same address at once (a DELETE + INSERT would let
 * both inserts run and one fail on the key). A lookup within its TTL is
 * answered from here and the directory, without the network.
 */
import type { SqlDatabase } from '../db/sql-database.js';
import type { SourceOutcome } from './source-fetch.js';

/** `insecure` (DNS only): the answer was not DNSSEC-authenticated, so not used. */
export type LookupOutcome = SourceOutcome;

export interface LookupRow {
  readonly address: string;
  readonly source: string;
  readonly checkedAt: number;
  readonly outcome: LookupOutcome;
  readonly method: string | null;
  readonly detail: string | null;
}

export interface LookupCache {
  get(address: string, source: string): Promise<LookupRow | undefined>;
  put(row: LookupRow): Promise<void>;
}

export class SqlLookupCache implements LookupCache {
  constructor(private readonly db: SqlDatabase) {}

  async get(address: string, source: string): Promise<LookupRow | undefined> {
    const r = await this.db.get<{ checked_at: number; outcome: string; method: string | null; detail: string | null }>('SELECT checked_at, outcome, method, detail FROM key_lookups WHERE address = ? AND source = ?', [address, source]);
    return r ? { address, source, checkedAt: Number(r.checked_at), outcome: r.outcome as LookupOutcome, method: r.method, detail: r.detail } : undefined;
  }

  put(row: LookupRow): Promise<void> {
    return this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO key_lookups (address, source, checked_at, outcome, method, detail) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (address, source) DO UPDATE SET checked_at = excluded.checked_at, outcome = excluded.outcome, method = excluded.method, detail = excluded.detail`,
        [row.address, row.source, row.checkedAt, row.outcome, row.method, row.detail],
      );
    });
  }
}

/** Still fresh at `now`: a found key for `positiveMs`, anything else for `negativeMs`. */
export function cacheFresh(row: LookupRow | undefined, now: number, ttl: { positiveMs: number; negativeMs: number }): boolean {
  if (!row) return false;
  return now - row.checkedAt < (row.outcome === 'found' ? ttl.positiveMs : ttl.negativeMs);
}
