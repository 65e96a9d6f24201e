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

  it('a token given back (a claim rolled back) can be taken again, never past the burst size', () => {
    const t = 0;
    const rl = new DomainRateLimiter({ messages: 2, perMs: 60_000 }, () => t);
    expect([rl.take('a.test'), rl.take('a.test'), rl.take('a.test')]).toEqual([true, true, false]);
    rl.giveBack('a.test');
    expect([rl.take('a.test'), rl.take('a.test')]).toEqual([true, false]);
    rl.giveBack('a.test');
    rl.giveBack('a.test');
    rl.giveBack('a.test');
    expect([rl.take('a.test'), rl.take('a.test'), rl.take('a.test')]).toEqual([true, true, false]);
  });

  it('without a limit every take succeeds', () => {
    const rl = new DomainRateLimiter(undefined, () => 0);
    expect(Array.from({ length: 1000 }, () => rl.take('a.test')).every(Boolean)).toBe(true);
    expect(rl.waitMs('a.test')).toBe(0);
  });

  it('adopts stored buckets (a domain without one starts full) and gives back what it took: several nodes share one bucket', () => {
    let t = 1_000_000;
    const one = new DomainRateLimiter({ messages: 3, perMs: 60_000 }, () => t);
    const two = new DomainRateLimiter({ messages: 3, perMs: 60_000 }, () => t);
    // node one takes two tokens from a full bucket and stores it
    one.adopt(['a.test'], new Map());
    expect([one.take('a.test'), one.take('a.test')]).toEqual([true, true]);
    const stored = one.bucketsOf(['a.test', 'never.test']);
    expect([...stored]).toEqual([['a.test', { tokens: 1, at: t }]]);
    // node two, which had its own full bucket, adopts the stored one: one token left between them
    expect(two.take('a.test')).toBe(true);
    two.adopt(['a.test'], stored);
    expect([two.take('a.test'), two.take('a.test')]).toEqual([true, false]);
    // refilled from the stored time, not from when it was adopted
    t += 20_000;
    expect(two.take('a.test')).toBe(true);
  });
});
