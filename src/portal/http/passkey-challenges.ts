/**
 * WebAuthn challenges of the portal, server-side and in memory
 * (docs/portal.md, "Passkeys"). Each is bound to what asked for it — a
 * reading session (registration), or a pre-session cookie on one link
 * (sign-in) — good once, for CHALLENGE_TTL_MS. A new challenge for the same
 * binding replaces the old one.
 *
 * In memory means one process: with several portal instances behind a load
 * balancer the options and the answer must reach the same instance (sticky
 * sessions), or the challenges must move to the database. The map is
 * bounded: at MAX_CHALLENGES, expired entries are dropped and then the
 * oldest, so a flood can cost a slow recipient a retry but never memory.
 */

export const CHALLENGE_TTL_MS = 5 * 60_000;
export const MAX_CHALLENGES = 10_000;

interface Entry {
  readonly challenge: string;
  readonly expiresAt: number;
}

export class ChallengeStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly max = MAX_CHALLENGES) {}

  get size(): number {
    return this.entries.size;
  }

  /** Remembers `challenge` for `binding` until now + CHALLENGE_TTL_MS, replacing an earlier one. */
  issue(binding: string, challenge: string, now: number): void {
    this.entries.delete(binding);
    if (this.entries.size >= this.max) {
      for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
      // still full: the oldest go (Map keeps insertion order)
      for (const key of this.entries.keys()) {
        if (this.entries.size < this.max) break;
        this.entries.delete(key);
      }
    }
    this.entries.set(binding, { challenge, expiresAt: now + CHALLENGE_TTL_MS });
  }

  /** The live challenge of `binding`, removed (single use); undefined when there is none or it expired. */
  take(binding: string, now: number): string | undefined {
    const entry = this.entries.get(binding);
    if (!entry) return undefined;
    this.entries.delete(binding);
    return entry.expiresAt > now ? entry.challenge : undefined;
  }
}
