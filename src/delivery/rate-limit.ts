/**
 * Per-domain rate limit (delivery.perDomainRate): a token bucket per
 * recipient domain, `messages` tokens refilled evenly over `perMs`. A job
 * (one message to one domain) takes one token when it is claimed; a domain
 * without a token waits, its mail stays queued.
 */
export interface RateLimit {
  readonly messages: number;
  readonly perMs: number;
}

/** A domain's bucket: tokens left, and when they were counted (ms). */
export interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

export class DomainRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit | undefined,
    private readonly now: () => number,
  ) {}

  private refill(domain: string): { tokens: number; at: number } {
    const limit = this.limit;
    const t = this.now();
    const b = this.buckets.get(domain) ?? { tokens: limit?.messages ?? 0, at: t };
    if (limit) {
      b.tokens = Math.min(limit.messages, b.tokens + ((t - b.at) * limit.messages) / limit.perMs);
      b.at = t;
    }
    this.buckets.set(domain, b);
    return b;
  }

  /** Takes a token for `domain`; false when the domain must wait. */
  take(domain: string): boolean {
    if (!this.limit) return true;
    const b = this.refill(domain);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Gives back a token `take` gave for `domain` (a claim rolled back before it ran). */
  giveBack(domain: string): void {
    if (!this.limit) return;
    const b = this.refill(domain);
    b.tokens = Math.min(this.limit.messages, b.tokens + 1);
  }

  /**
   * Takes the buckets of several nodes' shared store (shared-limits.ts) for
   * these domains: a domain without a stored bucket starts full.
   */
  adopt(domains: Iterable<string>, stored: ReadonlyMap<string, Bucket>): void {
    for (const domain of domains) {
      const b = stored.get(domain);
      if (b) this.buckets.set(domain, { tokens: b.tokens, at: b.at });
      else this.buckets.delete(domain);
    }
  }

  /** The buckets of these domains as they are now (to store them back). */
  bucketsOf(domains: Iterable<string>): Map<string, Bucket> {
    const out = new Map<string, Bucket>();
    for (const domain of domains) {
      const b = this.buckets.get(domain);
      if (b) out.set(domain, { tokens: b.tokens, at: b.at });
    }
    return out;
  }

  /** Milliseconds until `domain` has a token again (0 if it has one). */
  waitMs(domain: string): number {
    if (!this.limit) return 0;
    const b = this.refill(domain);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) * this.limit.perMs) / this.limit.messages);
  }
}
