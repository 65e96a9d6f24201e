/**
 * WebAuthn challenges of the portal, server-side, in the database
 * (docs/portal.md, "Passkeys"; table portal_passkey_challenges, migration 31).
 * Each is bound to what asked for it — a reading session (registration), or
 * a pre-session cookie on one link (sign-in) — good once, for
 * CHALLENGE_TTL_MS. A new challenge for the same binding replaces the old
 * one.
 *
 * In the database so that several portal nodes behind a load balancer need
 * no stickiness (docs/scale-out.md): the options may come from one node and
 * the answer reach another. A row is keyed by the SHA-256 of its binding
 * (the binding holds a session's hash or a pre-session cookie's, both drawn
 * at random); taking it is one `DELETE … RETURNING`, so a challenge is used
 * once however many nodes receive the answer at the same moment. Expired
 * rows are refused when taken and swept (on each issue and by the portal's
 * sweeper). The table is bounded: past `max` rows the soonest to expire go,
 * so a flood can cost a slow recipient a retry but never unbounded storage.
 */
import { createHash } from 'node:crypto';
import type { SqlDatabase, SqlQueryable } from '../../db/sql-database.js';

export const CHALLENGE_TTL_MS = 5 * 60_000;
export const MAX_CHALLENGES = 10_000;
/** Longest challenge kept (characters; ours are 32 random bytes in base64url, 43). */
export const MAX_CHALLENGE_LENGTH = 512;

/** The row key of a binding: its SHA-256 (hex), never the binding itself. */
function keyOf(binding: string): string {
  return createHash('sha256').update(binding, 'utf8').digest('hex');
}

/** Deletes the challenges that expired at `now`; how many went. */
export async function sweepChallenges(q: SqlQueryable, now: number): Promise<number> {
  return (await q.run('DELETE FROM portal_passkey_challenges WHERE expires_at <= ?', [now])).changes;
}

export class ChallengeStore {
  constructor(
    private readonly db: SqlDatabase,
    private readonly max = MAX_CHALLENGES,
  ) {}

  /** How many challenges are stored (live or not yet swept). */
  async size(): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM portal_passkey_challenges'))?.n ?? 0;
  }

  /** Remembers `challenge` for `binding` until now + CHALLENGE_TTL_MS, replacing an earlier one. */
  async issue(binding: string, challenge: string, now: number): Promise<void> {
    if (challenge.length === 0 || challenge.length > MAX_CHALLENGE_LENGTH) throw new RangeError(`a challenge is 1 to ${MAX_CHALLENGE_LENGTH} characters`);
    await this.db.transaction(async (tx) => {
      await sweepChallenges(tx, now);
      await tx.run(
        `INSERT INTO portal_passkey_challenges (binding, challenge, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (binding) DO UPDATE SET challenge = excluded.challenge, expires_at = excluded.expires_at`,
        [keyOf(binding), challenge, now + CHALLENGE_TTL_MS],
      );
      const n = (await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM portal_passkey_challenges'))?.n ?? 0;
      if (n > this.max) {
        // still full of live ones: the soonest to expire go (the oldest issued)
        await tx.run(
          'DELETE FROM portal_passkey_challenges WHERE binding IN (SELECT binding FROM portal_passkey_challenges ORDER BY expires_at, binding LIMIT ?)',
          [n - this.max],
        );
      }
    });
  }

  /** The live challenge of `binding`, removed (single use, across nodes); undefined when there is none or it expired. */
  async take(binding: string, now: number): Promise<string | undefined> {
    const row = await this.db.transaction((tx) =>
      tx.get<{ challenge: string; expires_at: number }>('DELETE FROM portal_passkey_challenges WHERE binding = ? RETURNING challenge, expires_at', [keyOf(binding)]),
    );
    return row !== undefined && row.expires_at > now ? row.challenge : undefined;
  }
}
