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

  /** Milliseconds until `domain` has a token again (0 if it has one). */
  waitMs(domain: string): number {
    if (!this.limit) return 0;
    const b = this.refill(domain);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) * this.limit.perMs) / this.limit.messages);
  }
}
