import { describe, expect, it } from 'vitest';
import { DomainRateLimiter } from '../../src/delivery/rate-limit.js';

describe('DomainRateLimiter', () => {
  it('allows a burst of `messages`, then refills evenly over the period, per domain', () => {
    let t = 0;
    const rl = new DomainRateLimiter({ messages: 3, perMs: 60_000 }, () => t);
    const takes = (d: string, n: number) => Array.from({ length: n }, () => rl.take(d));
    expect(takes('a.test', 4)).toEqual([true, true, true, false]);
    expect(rl.take('b.test')).toBe(true); // another domain has its own bucket
    expect(rl.waitMs('a.test')).toBe(20_000);
    t += 19_999;
    expect(rl.take('a.test')).toBe(false);
    t += 1;
    expect(rl.take('a.test')).toBe(true);
    t += 10 * 60_000; // a long pause refills to the burst size, not beyond
    expect(takes('a.test', 4)).toEqual([true, true, true, false]);
  });

  it('without a limit every take succeeds', () => {
    const rl = new DomainRateLimiter(undefined, () => 0);
    expect(Array.from({ length: 1000 }, () => rl.take('a.test')).every(Boolean)).toBe(true);
    expect(rl.waitMs('a.test')).toBe(0);
  });
});
