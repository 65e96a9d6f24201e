/**
 * RefusalAggregator: the first refusal per client IP, listener, stage and
 * reason in a window is audited in full, the rest become one count when the
 * window ends; the number of windows is bounded. Clock injected, no timers.
 */
import { describe, expect, it } from 'vitest';
import { RefusalAggregator, type Refusal, type RepeatedRefusals } from '../../src/smtp/refusal-audit.js';

const r = (remoteIp: string, over: Partial<Refusal> = {}): Refusal => ({ remoteIp, listener: 'relay', stage: 'mail', reason: 'SG_SENDER_DOMAIN_NOT_ALLOWED', reply: '550 5.7.1', ...over });

function harness(maxKeys = 10) {
  let t = 1_000_000;
  const written: RepeatedRefusals[] = [];
  const agg = new RefusalAggregator({ now: () => t, writeRepeated: (x) => written.push(x), windowMs: 60_000, maxKeys });
  return { agg, written, advance: (ms: number) => (t += ms), now: () => t };
}

describe('RefusalAggregator', () => {
  it('writes the first of a window, counts the rest, and writes the count when the window ends', () => {
    const h = harness();
    expect(h.agg.note(r('192.0.2.1'))).toBe(true);
    for (let i = 0; i < 99; i++) expect(h.agg.note(r('192.0.2.1'))).toBe(false);
    h.advance(30_000);
    h.agg.flush();
    expect(h.written).toEqual([]); // the window is still open
    h.advance(30_000);
    h.agg.flush();
    expect(h.written).toEqual([{ ...r('192.0.2.1'), count: 99, since: 1_000_000 }]);
    expect(h.agg.open).toBe(0);
    // the next minute starts a new window with a detailed event again
    expect(h.agg.note(r('192.0.2.1'))).toBe(true);
  });

  it('keeps IPs, stages and reasons apart', () => {
    const h = harness();
    expect(h.agg.note(r('192.0.2.1'))).toBe(true);
    expect(h.agg.note(r('192.0.2.2'))).toBe(true);
    expect(h.agg.note(r('192.0.2.1', { stage: 'rcpt', reason: 'SG_TOO_MANY_RECIPIENTS', reply: '452 4.5.3' }))).toBe(true);
    expect(h.agg.note(r('192.0.2.1', { reason: 'SG_TLS_REQUIRED', reply: '530 5.7.0' }))).toBe(true);
    expect(h.agg.note(r('192.0.2.1'))).toBe(false);
    h.agg.flush(true);
    expect(h.written).toEqual([{ ...r('192.0.2.1'), count: 1, since: 1_000_000 }]);
  });

  it('a single refusal writes no summary', () => {
    const h = harness();
    h.agg.note(r('192.0.2.1'));
    h.advance(120_000);
    h.agg.flush();
    expect(h.written).toEqual([]);
  });

  it('a refusal after the window closes the old one (count written) and opens a new one', () => {
    const h = harness();
    h.agg.note(r('192.0.2.1'));
    h.agg.note(r('192.0.2.1'));
    h.advance(60_000);
    expect(h.agg.note(r('192.0.2.1'))).toBe(true);
    expect(h.written).toEqual([{ ...r('192.0.2.1'), count: 1, since: 1_000_000 }]);
  });

  it('bounds the windows: beyond maxKeys, new clients are counted together under "*"', () => {
    const h = harness(3);
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) expect(h.agg.note(r(ip))).toBe(true);
    for (let i = 4; i < 1000; i++) expect(h.agg.note(r(`192.0.2.${i % 250}.${i}`))).toBe(false);
    expect(h.agg.open).toBe(4);
    h.agg.flush(true);
    expect(h.written).toEqual([{ ...r('*'), count: 996, since: 1_000_000 }]);
  });
});
