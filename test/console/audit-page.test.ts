/**
 * The console's audit log page filters: the query string's parsing
 * table-driven, the queries' shape, the page reader on a real SQLite log
 * (type and stage through the audit_log(type, seq) index, the operator over
 * a bounded window with older-events links, the time range by bisection),
 * and the page over real HTTPS with a signed-in auditor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEvent, tailAudit } from '../../src/audit/log.js';
import type { AuditEvent } from '../../src/audit/events.js';
import { auditQueries, auditQueryString, operatorPattern, parseAuditFilter, type AuditFilter } from '../../src/console/http/pages-audit.js';
import { firstSeqAtOrAfter, readAuditPage } from '../../src/console/http/routes-audit.js';
import { NOW, PASSWORD, startConsoleWebTest, type ConsoleWebTest } from './console-web-helper.js';

const DAY = 86_400_000;

describe('parseAuditFilter', () => {
  it.each<[string, Record<string, string>, AuditFilter]>([
    ['nothing', {}, {}],
    ['a stage', { stage: 'queue' }, { stage: 'queue' }],
    ['an unknown stage is no filter', { stage: '<script>' }, {}],
    ['a type', { type: 'queue:held' }, { type: 'queue:held' }],
    ['a type of the chosen stage', { stage: 'queue', type: 'queue:held' }, { stage: 'queue', type: 'queue:held' }],
    ['blank fields are no filter', { type: ' ', operator: '', since: '  ' }, {}],
    ['an operator, trimmed', { operator: ' ann ' }, { operator: 'ann' }],
    ['since a date', { since: '2026-12-01' }, { since: Date.UTC(2026, 11, 1) }],
    ['a time range', { since: '7d', until: '2026-12-05T08:00Z' }, { since: NOW - 7 * DAY, until: Date.UTC(2026, 11, 5, 8) }],
    ['the cursor', { before: '42' }, { before: 42 }],
    ['a bad cursor is no cursor', { before: '-1' }, {}],
  ])('%s', (_name, query, want) => {
    const r = parseAuditFilter(query, NOW);
    expect('filter' in r && Object.fromEntries(Object.entries(r.filter).filter(([, v]) => v !== undefined))).toEqual(want);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['an unknown type', { type: 'queue:exploded' }, /^type: choose an event type/],
    ['a type of another stage', { stage: 'archive', type: 'queue:held' }, /^type: queue:held is not an event of the stage archive/],
    ['a long operator', { operator: 'a'.repeat(129) }, /^operator is longer than 128/],
    ['control characters', { operator: 'a\u0007' }, /^operator contains control characters/],
    ['a time that does not parse', { since: 'yesterday' }, /^since: give a date/],
    ['until before since', { since: '2026-12-02', until: '2026-12-01' }, /^since must be before until/],
  ])('refuses %s, naming the field as the form does', (_name, query, problem) => {
    const r = parseAuditFilter(query, NOW);
    expect('problem' in r && r.problem).toMatch(problem);
    // the form keeps what was typed
    expect(r.form).toMatchObject(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.trim()])));
  });
});

describe('the queries of a page', () => {
  it('one index range per type of a stage; one walk otherwise; the operator inside the data, its wildcards escaped', () => {
    const stage = auditQueries({ stage: 'queue', operator: 'a_b%c!' }, 10, 500);
    expect(stage.length).toBeGreaterThan(3);
    for (const q of stage) {
      expect(q.sql).toBe("SELECT seq, ts, type, data FROM audit_log WHERE type = ? AND seq < ? AND seq >= ? AND data LIKE ? ESCAPE '!' ORDER BY seq DESC LIMIT ?");
      expect(q.params.slice(1)).toEqual([500, 10, '%"operator":"a!_b!%c!!"%', 100]);
    }
    expect(stage.map((q) => q.params[0])).toContain('queue:held');
    expect(auditQueries({}, 1, undefined)).toEqual([{ sql: 'SELECT seq, ts, type, data FROM audit_log  ORDER BY seq DESC LIMIT ?', params: [100] }]);
    expect(auditQueries({ since: 5, until: 9 }, 1, 20)[0]?.params).toEqual([20, 5, 9, 100]);
    expect(operatorPattern('ann "x"')).toBe('%"operator":"ann \\"x\\""%');
    expect(auditQueryString({ stage: 'queue', operator: 'ann & bob' }, 7)).toBe('?stage=queue&operator=ann+%26+bob&before=7');
  });
});

// ---- on a real log ------------------------------------------------------------------------------

let t: ConsoleWebTest;
let ann: Buffer;
/** seq of each planted event, by what it is. */
const planted = { rare: 0, bobHeld: [] as number[], early: [] as number[] };

beforeAll(async () => {
  t = await startConsoleWebTest({ signInsPerMinute: 1000 });
  ann = await t.addUser('ann', 'auditor');
  // 1,200 events over 12 days: mostly searches by ann, queue holds by bob every 50th, one rare key change
  await t.db.transaction(async (tx) => {
    for (let i = 0; i < 1200; i++) {
      const ts = NOW - 12 * DAY + i * (DAY / 100);
      let event: AuditEvent;
      if (i === 300) event = { type: 'keys:org_created', data: { fingerprint: 'ab'.repeat(20), kind: 'pgp', operator: 'root' } };
      else if (i % 50 === 7) event = { type: 'queue:held', data: { queueId: '0123456789ABCDEFGHJK', operator: 'bob', recipients: 1 } };
      else event = { type: 'archive:searched', data: { operator: 'ann', via: 'cli', filters: ['to'], results: i % 5 } };
      const { seq } = await appendAuditEvent(tx, event, ts);
      if (i === 300) planted.rare = seq;
      if (event.type === 'queue:held') planted.bobHeld.push(seq);
      if (i < 100) planted.early.push(seq);
    }
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('readAuditPage on a real SQLite log', () => {
  it('a rare type is read through the audit_log(type, seq) index, not a scan', async () => {
    const [q] = auditQueries({ type: 'keys:org_created' }, 1, undefined);
    const plan = (await t.db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${q?.sql ?? ''}`, q?.params ?? [])).map((r) => r.detail).join('\n');
    expect(plan).toContain('audit_log_type');
    expect(plan).not.toMatch(/SCAN audit_log\b(?! USING)/);
    const page = await readAuditPage(t.db, { type: 'keys:org_created' });
    expect(page.rows.map((r) => r.seq)).toEqual([planted.rare]);
    expect(page.older).toBeUndefined();
  });

  it('a stage pages newest first through all of its types, with older-events cursors to the end', async () => {
    const seen: number[] = [];
    let before: number | undefined;
    for (let n = 0; n < 20; n++) {
      const page = await readAuditPage(t.db, { stage: 'archive', ...(before ? { before } : {}) });
      expect(page.rows.every((r) => r.type.startsWith('archive:'))).toBe(true);
      seen.push(...page.rows.map((r) => r.seq));
      before = page.older;
      if (before === undefined) break;
    }
    const all = (await t.db.all<{ seq: number }>("SELECT seq FROM audit_log WHERE type LIKE 'archive:%' ORDER BY seq DESC")).map((r) => r.seq);
    expect(seen).toEqual(all);
  });

  it('the operator over a bounded window: short pages link on to older events until the start', async () => {
    const seen: number[] = [];
    let before: number | undefined;
    let windows = 0;
    for (let n = 0; n < 50; n++) {
      const page = await readAuditPage(t.db, { operator: 'bob', ...(before ? { before } : {}) }, 300);
      expect(page.rows.every((r) => (JSON.parse(r.data) as { operator: string }).operator === 'bob')).toBe(true);
      if (page.searched) {
        windows++;
        expect(page.searched.high - page.searched.low).toBeLessThanOrEqual(300);
      }
      seen.push(...page.rows.map((r) => r.seq));
      before = page.older;
      if (before === undefined) break;
    }
    expect(windows).toBeGreaterThan(2);
    expect(seen).toEqual([...planted.bobHeld].reverse());
  });

  it('a time range is found by bisection and checked on every row', async () => {
    const since = NOW - 12 * DAY;
    const until = NOW - 11 * DAY;
    const page = await readAuditPage(t.db, { since, until });
    expect(page.rows.map((r) => r.seq)).toEqual([...planted.early].reverse());
    expect(page.rows.every((r) => r.ts >= since && r.ts < until)).toBe(true);
    const newest = (await t.db.get<{ n: number }>('SELECT MAX(seq) AS n FROM audit_log'))?.n ?? 0;
    expect(await firstSeqAtOrAfter(t.db, 0, newest)).toBe(1);
    expect(await firstSeqAtOrAfter(t.db, NOW + DAY, newest)).toBe(newest + 1);
    // a type and an operator and a time range together
    const held = await readAuditPage(t.db, { type: 'queue:held', operator: 'bob', since: NOW - 6 * DAY });
    expect(held.rows.length).toBe(planted.bobHeld.filter((s) => s > 600).length);
  });
});

describe('GET /audit with filters', () => {
  it('filters by type, operator and time over HTTPS, refuses a bad filter with 400 and the reason, and records the filter names', async () => {
    const c = t.client();
    await c.signIn('ann', PASSWORD, t.code(ann));
    const rowsOf = (body: string): { seq: number; type: string; data: string }[] =>
      [...body.matchAll(/<tr><td>(\d+)<\/td><td>[^<]*<\/td><td>([a-z_]+:[a-z_]+)<\/td><td><code>([^<]*)<\/code>/g)].map((m) => ({ seq: Number(m[1]), type: m[2] ?? '', data: m[3] ?? '' }));

    const rare = await c.get('/audit?type=keys%3Aorg_created');
    expect(rare.status).toBe(200);
    expect(rowsOf(rare.body).map((r) => r.seq)).toEqual([planted.rare]);
    expect(rare.body).toContain('<option value="keys:org_created" selected>');

    const bob = await c.get('/audit?stage=queue&operator=bob&since=2026-11-29');
    expect(bob.status).toBe(200);
    const bobRows = rowsOf(bob.body);
    expect(bobRows.length).toBeGreaterThan(0);
    expect(bobRows.every((r) => r.type === 'queue:held' && r.data.includes('&quot;operator&quot;:&quot;bob&quot;'))).toBe(true);
    expect(bob.body).toContain('value="bob"');
    const viewed = (await tailAudit(t.db, 5)).filter((e) => e.type === 'audit:viewed').map((e) => e.data);
    expect(viewed.at(-1)).toEqual({ operator: 'ann', via: 'console', stage: 'queue', filters: ['operator', 'since'], events: bobRows.length });

    for (const [query, reason] of [
      ['type=queue%3Aexploded', 'type: choose an event type'],
      ['since=yesterday', 'since: give a date'],
      ['stage=archive&type=queue%3Aheld', 'not an event of the stage archive'],
    ] as const) {
      const bad = await c.get(`/audit?${query}`);
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('role="alert"');
      expect(bad.body).toContain(reason);
    }
    // a refused filter shows nothing and is not recorded as a view
    expect((await tailAudit(t.db, 1))[0]?.type).toBe('audit:viewed');
    expect((await tailAudit(t.db, 1))[0]?.data).toEqual(viewed.at(-1));

    const older = await c.get('/audit?operator=bob');
    expect(older.status).toBe(200);
    expect(older.body).not.toContain('role="alert"');
  });
});
