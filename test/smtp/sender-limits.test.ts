/**
 * The rate-limit counters, limit decisions and burst detection, with an
 * injected clock (no timing): sliding windows, bounded keys, the null
 * sender, first contacts and their memory.
 */
import { describe, expect, it } from 'vitest';
import { RateCounter } from '../../src/smtp/rate-counter.js';
import { SenderLimits } from '../../src/smtp/sender-limits.js';
import { BurstDetector, type BurstLimits } from '../../src/smtp/sender-burst.js';
import type { ConnectorLimits } from '../../src/config/schema.js';

function clock(start = 1_000_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('RateCounter (minute window, 1 s buckets)', () => {
  it.each<[string, [number, number][], number]>([
    ['nothing added', [], 0],
    ['three now', [[0, 1], [0, 1], [0, 1]], 3],
    ['spread over 50 s', [[0, 2], [25_000, 3], [25_000, 4]], 9],
    ['the first ones left the window', [[0, 5], [61_000, 1]], 1],
    ['exactly a window later', [[0, 5], [60_000, 2]], 2],
    ['59 s later still counts', [[0, 5], [59_000, 2]], 7],
  ])('%s', (_name, steps, expected) => {
    const c = clock();
    const counter = new RateCounter({ windowMs: 60_000, maxKeys: () => 10, now: c.now });
    for (const [advance, n] of steps) {
      c.advance(advance);
      counter.add('k', n);
    }
    expect(counter.count('k')).toBe(expected);
  });

  it('keeps at most maxKeys keys, forgetting the least recently touched', () => {
    const c = clock();
    const counter = new RateCounter({ windowMs: 60_000, maxKeys: () => 3, now: c.now });
    for (const k of ['a', 'b', 'c']) counter.add(k);
    counter.add('a');
    counter.add('d');
    expect(counter.size).toBe(3);
    expect([counter.count('a'), counter.count('b'), counter.count('c'), counter.count('d')]).toEqual([2, 0, 1, 1]);
  });
});

const limits = (over: Partial<ConnectorLimits> = {}): ConnectorLimits => ({ action: 'defer', perSender: {}, perConnector: {}, maxTrackedKeys: 1000, ...over });

describe('SenderLimits', () => {
  it.each<[string, ConnectorLimits, [string, number][], string, number, string | undefined]>([
    ['no limits', limits(), [['a@x.org', 1]], 'a@x.org', 1, undefined],
    ['10th message still fits', limits({ perSender: { messagesPerMinute: 10 } }), Array(9).fill(['a@x.org', 1]), 'a@x.org', 1, undefined],
    ['11th message is over', limits({ perSender: { messagesPerMinute: 10 } }), Array(10).fill(['a@x.org', 1]), 'a@x.org', 1, 'perSender.messagesPerMinute'],
    ['another sender has its own count', limits({ perSender: { messagesPerMinute: 10 } }), Array(10).fill(['a@x.org', 1]), 'b@x.org', 1, undefined],
    ['the sender address is case-insensitive', limits({ perSender: { messagesPerMinute: 2 } }), [['A@x.org', 1], ['a@X.ORG', 1]], 'a@x.org', 1, 'perSender.messagesPerMinute'],
    ['per connector counts every sender', limits({ perConnector: { messagesPerHour: 3 } }), [['a@x.org', 1], ['b@x.org', 1], ['c@x.org', 1]], 'd@x.org', 1, 'perConnector.messagesPerHour'],
    ['the null sender counts per connector only', limits({ perSender: { messagesPerMinute: 1 } }), [['', 1], ['', 1]], '', 1, undefined],
  ])('messages: %s', (_name, l, sent, sender, _n, expected) => {
    const c = clock();
    const s = new SenderLimits({ now: c.now, maxKeys: () => 1000 });
    for (const [from, n] of sent) s.record('m365', l, from, n);
    expect(s.messageOver('m365', l, sender)?.limit).toBe(expected);
  });

  it.each<[string, ConnectorLimits, number, number, string | undefined]>([
    ['recipients fit', limits({ perSender: { recipientsPerMinute: 10 } }), 8, 2, undefined],
    ['one recipient too many', limits({ perSender: { recipientsPerMinute: 10 } }), 8, 3, 'perSender.recipientsPerMinute'],
    ['hourly recipients per connector', limits({ perConnector: { recipientsPerHour: 5 } }), 5, 1, 'perConnector.recipientsPerHour'],
  ])('recipients: %s', (_name, l, before, n, expected) => {
    const c = clock();
    const s = new SenderLimits({ now: c.now, maxKeys: () => 1000 });
    s.record('m365', l, 'a@x.org', before);
    expect(s.recipientsOver('m365', l, 'a@x.org', n)?.limit).toBe(expected);
  });

  it('names the limit in the reply text, never the address; a minute later the sender may send again', () => {
    const c = clock();
    const s = new SenderLimits({ now: c.now, maxKeys: () => 1000 });
    const l = limits({ perSender: { messagesPerMinute: 1, messagesPerHour: 2 } });
    s.record('m365', l, 'alice@x.org', 1);
    const over = s.messageOver('m365', l, 'alice@x.org');
    expect(over).toEqual({ limit: 'perSender.messagesPerMinute', max: 1, count: 1, text: 'sender over its limit of 1 messages per minute on connector m365' });
    c.advance(61_000);
    expect(s.messageOver('m365', l, 'alice@x.org')).toBeUndefined();
    s.record('m365', l, 'alice@x.org', 1);
    c.advance(61_000);
    expect(s.messageOver('m365', l, 'alice@x.org')?.text).toBe('sender over its limit of 2 messages per hour on connector m365');
  });

  it('counts only the windows a limit is set for: a limit added later starts from zero', () => {
    const c = clock();
    const s = new SenderLimits({ now: c.now, maxKeys: () => 1000 });
    s.record('m365', limits({ perSender: { messagesPerMinute: 5 } }), 'a@x.org', 4);
    const wider = limits({ perSender: { messagesPerMinute: 1, recipientsPerMinute: 1 } });
    expect(s.messageOver('m365', wider, 'a@x.org')?.count).toBe(1);
    expect(s.recipientsOver('m365', wider, 'a@x.org', 1)).toBeUndefined();
  });
});

describe('BurstDetector', () => {
  const burst: BurstLimits = { newRecipients: 3, within: 600_000, remember: 30 * 86_400_000 };
  const rcpts = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `r${from + i}@ext.example`);

  it.each<[string, [number, string[]][], string[], { count: number; burst: boolean; fresh: number }]>([
    ['three new recipients are not a burst', [], rcpts(0, 3), { count: 3, burst: false, fresh: 3 }],
    ['four new recipients at once are', [], rcpts(0, 4), { count: 4, burst: true, fresh: 4 }],
    ['new ones add up within the window', [[0, rcpts(0, 2)], [60_000, rcpts(2, 1)]], rcpts(3, 1), { count: 4, burst: true, fresh: 1 }],
    ['known recipients are not new', [[0, rcpts(0, 3)]], rcpts(0, 3), { count: 3, burst: false, fresh: 0 }],
    ['first contacts older than the window no longer count', [[0, rcpts(0, 3)], [601_000, []]], rcpts(3, 3), { count: 3, burst: false, fresh: 3 }],
    ['a recipient not mailed within remember is new again', [[0, rcpts(0, 3)], [31 * 86_400_000, []]], rcpts(0, 4), { count: 4, burst: true, fresh: 4 }],
    ['duplicates and case count once', [], ['A@ext.example', 'a@EXT.example', 'b@ext.example'], { count: 2, burst: false, fresh: 2 }],
  ])('%s', (_name, history, next, expected) => {
    const c = clock();
    const d = new BurstDetector({ now: c.now, maxKeys: () => 1000 });
    for (const [advance, to] of history) {
      c.advance(advance);
      const a = d.assess('m365', burst, 'alice@x.org', to);
      d.record('m365', burst, 'alice@x.org', to, a.fresh);
    }
    const a = d.assess('m365', burst, 'alice@x.org', next);
    expect({ count: a.count, burst: a.burst, fresh: a.fresh.length }).toEqual(expected);
  });

  it('keeps at most maxKeys pairs and newRecipients+1 first contacts per sender', () => {
    const c = clock();
    const d = new BurstDetector({ now: c.now, maxKeys: () => 5 });
    const to = rcpts(0, 20);
    d.record('m365', burst, 'alice@x.org', to, d.assess('m365', burst, 'alice@x.org', to).fresh);
    expect(d.size).toEqual({ pairs: 5, senders: 1 });
    expect(d.assess('m365', burst, 'alice@x.org', []).count).toBe(4);
  });
});
