/**
 * Burst detection: one sender suddenly mailing many external recipients it
 * has not mailed before. A recipient is new to a sender when no accepted
 * message from that sender (on that connector) went to it within `remember`;
 * more than `newRecipients` new ones within `within` is a burst, and the
 * ingress holds the message and raises an alert.
 *
 * Kept in the database, so every node and a restart see the same history:
 * when a sender last wrote to a recipient in `ingress_contacts` (one row per
 * pair, its key a keyed hash of connector, sender and recipient: no address
 * is stored), and the first contacts as a sliding-window count
 * (limit-counts.ts) over `within`. `sweepContacts` forgets pairs older than
 * the longest `remember` and keeps at most `maxTrackedKeys` (the least
 * recently seen go first: a forgotten pair counts as new again, which errs
 * towards holding).
 */
import type { ConnectorLimits } from '../config/schema.js';
import type { SqlQueryable } from '../db/sql-database.js';
import { addToWindows, windowSums, type WindowKey } from './limit-counts.js';
import type { CountKeyHash } from './sender-limits.js';

export type BurstLimits = NonNullable<ConnectorLimits['burst']>;

export interface BurstAssessment {
  /** External recipients (lower case, once each) new to this sender. */
  readonly fresh: readonly string[];
  /** New recipients within the window, this message's included. */
  readonly count: number;
  readonly burst: boolean;
}

/** An assessment and what to write once the message is accepted. */
export interface AssessedBurst extends BurstAssessment {
  /** The pair keys of every external recipient (sorted): each is known from now on. */
  readonly pairs: readonly string[];
  /** The sender's first-contact count. */
  readonly firsts: WindowKey;
}

/** Most pairs one statement reads or writes. */
const PAIRS_PER_STATEMENT = 200;

export class BurstDetector {
  constructor(private readonly hash: CountKeyHash) {}

  /** Whether a message to `external` recipients would be a burst; changes nothing. */
  async assess(q: SqlQueryable, connector: string, limits: BurstLimits, sender: string, external: readonly string[], now: number): Promise<AssessedBurst> {
    const s = sender.toLowerCase();
    const keyed = [...new Set(external.map((r) => r.toLowerCase()))].map((r) => ({ r, pair: this.hash(`pair\u0000${connector}\u0000${s}\u0000${r}`) }));
    const lastSent = new Map<string, number>();
    for (let i = 0; i < keyed.length; i += PAIRS_PER_STATEMENT) {
      const part = keyed.slice(i, i + PAIRS_PER_STATEMENT);
      const rows = await q.all<{ pair: string; last_sent: number | string }>(`SELECT pair, last_sent FROM ingress_contacts WHERE pair IN (${part.map(() => '?').join(', ')})`, part.map((k) => k.pair));
      for (const row of rows) lastSent.set(row.pair, Number(row.last_sent));
    }
    const fresh = keyed.filter((k) => {
      const seen = lastSent.get(k.pair);
      return seen === undefined || now - seen >= limits.remember;
    });
    const firsts: WindowKey = { key: this.hash(`first\u0000${limits.within}\u0000${connector}\u0000${s}`), windowMs: limits.within };
    const [recent = 0] = await windowSums(q, [firsts], now);
    const count = recent + fresh.length;
    return { fresh: fresh.map((k) => k.r), count, burst: fresh.length > 0 && count > limits.newRecipients, pairs: keyed.map((k) => k.pair).sort(), firsts };
  }

  /** Remembers an accepted message (in its transaction): every external recipient is known now; the fresh ones count as first contacts. */
  async record(tx: SqlQueryable, assessed: AssessedBurst, now: number): Promise<void> {
    for (let i = 0; i < assessed.pairs.length; i += PAIRS_PER_STATEMENT) {
      const part = assessed.pairs.slice(i, i + PAIRS_PER_STATEMENT);
      await tx.run(
        `INSERT INTO ingress_contacts (pair, last_sent) VALUES ${part.map(() => '(?, ?)').join(', ')}
         ON CONFLICT (pair) DO UPDATE SET last_sent = excluded.last_sent`,
        part.flatMap((p) => [p, now]),
      );
    }
    await addToWindows(tx, [{ ...assessed.firsts, n: assessed.fresh.length }], now);
  }
}

/**
 * Forgets the pairs last seen `rememberMs` ago or more, then all but the
 * `keep` most recently seen; returns how many went.
 */
export async function sweepContacts(tx: SqlQueryable, now: number, rememberMs: number, keep: number): Promise<number> {
  const old = await tx.run('DELETE FROM ingress_contacts WHERE last_sent <= ?', [now - rememberMs]);
  // beyond `keep` rows: the subquery names the keep-th newest time (NULL, deleting nothing, when there are fewer)
  const over = await tx.run('DELETE FROM ingress_contacts WHERE last_sent < (SELECT last_sent FROM ingress_contacts ORDER BY last_sent DESC LIMIT 1 OFFSET ?)', [Math.max(0, keep - 1)]);
  return old.changes + over.changes;
}
