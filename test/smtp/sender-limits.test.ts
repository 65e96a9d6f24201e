/**
 * The rate-limit counts, limit decisions and burst detection on both
 * databases (test/helpers/both-databases.ts), with an injected clock (no
 * timing): sliding windows, the null sender, first contacts and their
 * memory, what the sweep forgets, and two nodes counting one sender at once.
 * The daemon over real SMTP is in test/integration/rate-limits.test.ts.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ConnectorLimits } from '../../src/config/schema.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { addToWindows, bucketAt, sweepCounts, windowSums } from '../../src/smtp/limit-counts.js';
import { BurstDetector, sweepContacts, type BurstLimits } from '../../src/smtp/sender-burst.js';
import { limitWindows, SenderLimits } from '../../src/smtp/sender-limits.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T0 = 1_000_000_000_000;
const hash = (material: string): string => createHmac('sha256', 'test key').update(material).digest('hex').slice(0, 32);
/** Each case its own connector: its keys are its own, so cases share the database without seeing each other. */
let cases = 0;
const connector = (): string => `m365-${++cases}`;

describe('bucketAt (pure)', () => {
  it.each<[string, number, number, { bucket: number; oldest: number; expiresAt: number }]>([
    ['a minute window: 1 s buckets', 60_000, 61_500, { bucket: 61, oldest: 2, expiresAt: 121_000 }],
    ['an hour window: 1 min buckets', 3_600_000, 7_260_000, { bucket: 121, oldest: 62, expiresAt: 10_860_000 }],
    ['10 minutes: 10 s buckets', 600_000, 5_000, { bucket: 0, oldest: -59, expiresAt: 600_000 }],
    ['a window under 60 ms: 1 ms buckets', 30, 1234, { bucket: 1234, oldest: 1175, expiresAt: 1294 }],
  ])('%s', (_name, windowMs, now, expected) => {
    expect(bucketAt(windowMs, now)).toEqual(expected);
  });
});

describe('limitWindows (pure)', () => {
  it.each<[string, Partial<ConnectorLimits>, string, string[]]>([
    ['no limits', {}, 'a@x.org', []],
    ['per sender and per connector, messages before recipients', { perSender: { recipientsPerHour: 5, messagesPerMinute: 1 }, perConnector: { messagesPerHour: 9 } }, 'a@x.org', ['perSender.messagesPerMinute', 'perConnector.messagesPerHour', 'perSender.recipientsPerHour']],
    ['the null sender counts per connector only', { perSender: { messagesPerMinute: 1 }, perConnector: { messagesPerMinute: 5 } }, '', ['perConnector.messagesPerMinute']],
  ])('%s', (_name, l, sender, expected) => {
    expect(limitWindows('m365', limits(l), sender, hash).map((w) => `${w.scope}.${w.unit}Per${w.period}`)).toEqual(expected);
  });

  it('keys are keyed hashes: the sender address is not in them, its case does not matter, another sender has another key', () => {
    const l = limits({ perSender: { messagesPerMinute: 1 } });
    const [a] = limitWindows('m365', l, 'Alice@X.org', hash);
    const [b] = limitWindows('m365', l, 'alice@x.ORG', hash);
    const [c] = limitWindows('m365', l, 'bob@x.org', hash);
    expect(a?.key).toMatch(/^[0-9a-f]{32}$/);
    expect(a?.key).toBe(b?.key);
    expect(c?.key).not.toBe(a?.key);
  });
});

function limits(over: Partial<ConnectorLimits> = {}): ConnectorLimits {
  return { action: 'defer', perSender: {}, perConnector: {}, maxTrackedKeys: 1000, ...over };
}

/** Counts an accepted message as the ingress does: in a transaction of its own. */
async function accept(db: SqlDatabase, s: SenderLimits, c: string, l: ConnectorLimits, sender: string, recipients: number, at: number): Promise<void> {
  await db.transaction((tx) => addToWindows(tx, s.additions(c, l, sender, recipients), at));
}

describe.each(DIALECTS)('rate limits on %s', (kind) => {
  it.each<[string, [number, number][], number]>([
    ['nothing added', [], 0],
    ['three now', [[0, 1], [0, 1], [0, 1]], 3],
    ['spread over 50 s', [[0, 2], [25_000, 3], [25_000, 4]], 9],
    ['the first ones left the window', [[0, 5], [61_000, 1]], 1],
    ['exactly a window later', [[0, 5], [60_000, 2]], 2],
    ['59 s later still counts', [[0, 5], [59_000, 2]], 7],
  ])('a minute window: %s', async (_name, steps, expected) => {
    const db = dbs.get(kind);
    const key = hash(`window ${++cases}`);
    let t = T0;
    for (const [advance, n] of steps) {
      t += advance;
      await db.transaction((tx) => addToWindows(tx, [{ key, windowMs: 60_000, n }], t));
    }
    expect(await windowSums(db, [{ key, windowMs: 60_000 }], t)).toEqual([expected]);
  });

  it.each<[string, ConnectorLimits, [string, number][], string, string | undefined]>([
    ['no limits', limits(), [['a@x.org', 1]], 'a@x.org', undefined],
    ['10th message still fits', limits({ perSender: { messagesPerMinute: 10 } }), Array(9).fill(['a@x.org', 1]), 'a@x.org', undefined],
    ['11th message is over', limits({ perSender: { messagesPerMinute: 10 } }), Array(10).fill(['a@x.org', 1]), 'a@x.org', 'perSender.messagesPerMinute'],
    ['another sender has its own count', limits({ perSender: { messagesPerMinute: 10 } }), Array(10).fill(['a@x.org', 1]), 'b@x.org', undefined],
    ['the sender address is case-insensitive', limits({ perSender: { messagesPerMinute: 2 } }), [['A@x.org', 1], ['a@X.ORG', 1]], 'a@x.org', 'perSender.messagesPerMinute'],
    ['per connector counts every sender', limits({ perConnector: { messagesPerHour: 3 } }), [['a@x.org', 1], ['b@x.org', 1], ['c@x.org', 1]], 'd@x.org', 'perConnector.messagesPerHour'],
    ['the null sender counts per connector only', limits({ perSender: { messagesPerMinute: 1 } }), [['', 1], ['', 1]], '', undefined],
  ])('messages: %s', async (_name, l, sent, sender, expected) => {
    const db = dbs.get(kind);
    const s = new SenderLimits(hash);
    const c = connector();
    for (const [from, n] of sent) await accept(db, s, c, l, from, n, T0);
    expect((await s.snapshot(db, c, l, sender, T0)).messageOver()?.limit).toBe(expected);
  });

  it.each<[string, ConnectorLimits, number, number, string | undefined]>([
    ['recipients fit', limits({ perSender: { recipientsPerMinute: 10 } }), 8, 2, undefined],
    ['one recipient too many', limits({ perSender: { recipientsPerMinute: 10 } }), 8, 3, 'perSender.recipientsPerMinute'],
    ['hourly recipients per connector', limits({ perConnector: { recipientsPerHour: 5 } }), 5, 1, 'perConnector.recipientsPerHour'],
  ])('recipients: %s', async (_name, l, before, n, expected) => {
    const db = dbs.get(kind);
    const s = new SenderLimits(hash);
    const c = connector();
    await accept(db, s, c, l, 'a@x.org', before, T0);
    expect((await s.snapshot(db, c, l, 'a@x.org', T0)).recipientsOver(n)?.limit).toBe(expected);
  });

  it('names the limit in the reply text, never the address; a minute later the sender may send again', async () => {
    const db = dbs.get(kind);
    const s = new SenderLimits(hash);
    const c = connector();
    const l = limits({ perSender: { messagesPerMinute: 1, messagesPerHour: 2 } });
    await accept(db, s, c, l, 'alice@x.org', 1, T0);
    expect((await s.snapshot(db, c, l, 'alice@x.org', T0)).messageOver()).toEqual({ limit: 'perSender.messagesPerMinute', max: 1, count: 1, text: `sender over its limit of 1 messages per minute on connector ${c}` });
    expect((await s.snapshot(db, c, l, 'alice@x.org', T0 + 61_000)).messageOver()).toBeUndefined();
    await accept(db, s, c, l, 'alice@x.org', 1, T0 + 61_000);
    expect((await s.snapshot(db, c, l, 'alice@x.org', T0 + 122_000)).messageOver()?.text).toBe(`sender over its limit of 2 messages per hour on connector ${c}`);
  });

  it('counts only the windows a limit is set for: a limit added later starts from zero', async () => {
    const db = dbs.get(kind);
    const s = new SenderLimits(hash);
    const c = connector();
    await accept(db, s, c, limits({ perSender: { messagesPerMinute: 5 } }), 'a@x.org', 4, T0);
    const wider = limits({ perSender: { messagesPerMinute: 1, recipientsPerMinute: 1 } });
    const snapshot = await s.snapshot(db, c, wider, 'a@x.org', T0);
    expect(snapshot.messageOver()?.count).toBe(1);
    expect(snapshot.recipientsOver(1)).toBeUndefined();
  });

  it('two nodes counting one sender at once: every message counts, so the limit holds across them', async () => {
    const [a, b] = [dbs.get(kind), await dbs.connect(kind)];
    const s = new SenderLimits(hash);
    const c = connector();
    const l = limits({ perSender: { messagesPerMinute: 30 }, perConnector: { recipientsPerHour: 1000 } });
    await Promise.all(Array.from({ length: 30 }, (_, i) => accept(i % 2 ? b : a, s, c, l, 'alice@x.org', 3, T0)));
    for (const db of [a, b]) {
      const snapshot = await s.snapshot(db, c, l, 'alice@x.org', T0 + 1000);
      expect(snapshot.messageOver()).toMatchObject({ limit: 'perSender.messagesPerMinute', count: 30 });
      expect(snapshot.recipientsOver(1)).toBeUndefined();
      expect(snapshot.recipientsOver(911)).toMatchObject({ limit: 'perConnector.recipientsPerHour', count: 90 });
    }
  });

  it('the sweep removes the buckets no window reaches and keeps the others', async () => {
    const db = await dbs.fresh(kind);
    await db.transaction((tx) =>
      addToWindows(
        tx,
        [
          { key: 'minute', windowMs: 60_000, n: 1 },
          { key: 'hour', windowMs: 3_600_000, n: 1 },
        ],
        T0,
      ),
    );
    expect(await db.transaction((tx) => sweepCounts(tx, T0 + 59_000))).toBe(0);
    expect(await db.transaction((tx) => sweepCounts(tx, T0 + 61_000))).toBe(1);
    expect(await windowSums(db, [{ key: 'hour', windowMs: 3_600_000 }], T0 + 61_000)).toEqual([1]);
    expect(await db.transaction((tx) => sweepCounts(tx, T0 + 3_660_000))).toBe(1);
  });
});

describe.each(DIALECTS)('burst detection on %s', (kind) => {
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
  ])('%s', async (_name, history, next, expected) => {
    const db = dbs.get(kind);
    const d = new BurstDetector(hash);
    const c = connector();
    let t = T0;
    for (const [advance, to] of history) {
      t += advance;
      const assessed = await d.assess(db, c, burst, 'alice@x.org', to, t);
      await db.transaction((tx) => d.record(tx, assessed, t));
    }
    const a = await d.assess(db, c, burst, 'alice@x.org', next, t);
    expect({ count: a.count, burst: a.burst, fresh: a.fresh.length }).toEqual(expected);
  });

  it('stores keyed hashes only: no address in the contacts or the counts', async () => {
    const db = await dbs.fresh(kind);
    const d = new BurstDetector(hash);
    const assessed = await d.assess(db, 'm365', burst, 'alice@x.org', rcpts(0, 2), T0);
    await db.transaction((tx) => d.record(tx, assessed, T0));
    const rows = [...(await db.all('SELECT pair AS k FROM ingress_contacts')), ...(await db.all('SELECT key AS k FROM ingress_counts'))];
    expect(rows).toHaveLength(3);
    expect(JSON.stringify(rows)).not.toMatch(/alice|ext\.example|x\.org/);
  });

  it('the sweep forgets pairs past remember, then all but the most recently seen maxTrackedKeys', async () => {
    const db = await dbs.fresh(kind);
    const d = new BurstDetector(hash);
    for (const [i, at] of [T0, T0 + 1000, T0 + 2000, T0 + 3000].entries()) {
      const assessed = await d.assess(db, 'm365', burst, 'alice@x.org', [`r${i}@ext.example`], at);
      await db.transaction((tx) => d.record(tx, assessed, at));
    }
    expect(await db.transaction((tx) => sweepContacts(tx, T0 + 5000, 4500, 10))).toBe(1);
    expect(await db.transaction((tx) => sweepContacts(tx, T0 + 5000, 86_400_000, 2))).toBe(1);
    const left = await db.all<{ last_sent: number | string }>('SELECT last_sent FROM ingress_contacts ORDER BY last_sent');
    expect(left.map((r) => Number(r.last_sent))).toEqual([T0 + 2000, T0 + 3000]);
    // the forgotten first recipient is new again (errs towards holding)
    expect((await d.assess(db, 'm365', burst, 'alice@x.org', ['r0@ext.example', 'r3@ext.example'], T0 + 5000)).fresh).toEqual(['r0@ext.example']);
  });
});
