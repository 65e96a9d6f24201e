/**
 * The console's reports page: the window's parsing, the figures' pure
 * aggregation and the SVG charts (table-driven: escaping, empty data, one
 * day, many days), the figures' queries over a real SQLite archive (rows
 * written by the archive's own insertArchiveEntries, verdicts and evidence
 * built by the archive's own functions, portal rows as the portal stores
 * them), and GET /reports over real HTTPS: the numbers on the page, the
 * roles, a bad window's 400, the audit record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tailAudit } from '../../src/audit/log.js';
import { attemptEvidence } from '../../src/archive/evidence.js';
import { archiveVerdict } from '../../src/archive/verdict.js';
import { reportsPage } from '../../src/console/http/pages-reports.js';
import { barChart, dataTable, niceScale, stackTotals, type BarChart } from '../../src/console/http/svg-chart.js';
import { categoriesFigure, categoryRows, failureFigure, failuresFigure, FIGURE_QUERIES, methodSeries, postureOf, reasonOf, reportFigures, type ReportFigures } from '../../src/console/figures/figures.js';
import { DAY_MS, daysOf, parseDay, parseWindow, type ReportWindow } from '../../src/console/figures/window.js';
import { startConsoleWebTest, type ConsoleWebTest } from './console-web-helper.js';
import { fillReportArchive, REPORT_IDS } from './report-archive.js';

const TODAY = Date.UTC(2026, 11, 5);

describe('the window', () => {
  it.each<[string, string | undefined, string | undefined, { first: string; last: string; days: number } | string]>([
    ['default: the last 30 days up to today', undefined, undefined, { first: '2026-11-06', last: '2026-12-05', days: 30 }],
    ['empty fields are the default', '', '  ', { first: '2026-11-06', last: '2026-12-05', days: 30 }],
    ['one day', '2026-12-01', '2026-12-01', { first: '2026-12-01', last: '2026-12-01', days: 1 }],
    ['until alone: the 30 days before it', undefined, '2026-06-30', { first: '2026-06-01', last: '2026-06-30', days: 30 }],
    ['since alone: up to today', '2026-12-01', undefined, { first: '2026-12-01', last: '2026-12-05', days: 5 }],
    ['366 days (a leap year)', '2024-01-01', '2024-12-31', { first: '2024-01-01', last: '2024-12-31', days: 366 }],
    ['367 days', '2024-01-01', '2025-01-01', 'A report covers at most 366 days; choose a shorter window.'],
    ['since after until', '2026-12-02', '2026-12-01', 'since must not be after until (today when until is empty).'],
    ['not a date', 'last week', undefined, 'since must be a date such as 2026-11-05 (UTC).'],
    ['a date that does not exist', '2026-02-30', '2026-03-01', 'since must be a date such as 2026-11-05 (UTC).'],
    ['a time, not a date', undefined, '2026-12-01T10:00:00Z', 'until must be a date such as 2026-12-05 (UTC).'],
    ['markup', '<script>', undefined, 'since must be a date such as 2026-11-05 (UTC).'],
  ])('%s', (_what, since, until, expected) => {
    const r = parseWindow(since, until, TODAY + 13 * 3_600_000);
    if (typeof expected === 'string') expect(r).toEqual({ ok: false, problem: expected });
    else {
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect({ first: r.window.first, last: r.window.last, days: r.window.days }).toEqual(expected);
      expect(r.window.since).toBe(parseDay(expected.first));
      expect(r.window.until).toBe((parseDay(expected.last) ?? 0) + DAY_MS);
      expect(daysOf(r.window)).toHaveLength(expected.days);
    }
  });
});

describe('figures (pure)', () => {
  it('methodSeries: one series per method in a fixed order, NULL as undecided, days outside the window ignored', () => {
    const f = methodSeries(
      [
        { day: 0, method: 'portal', n: 2 },
        { day: 2, method: 'tls-verified', n: 5 },
        { day: 1, method: null, n: 1 },
        { day: 2, method: 'pgp', n: 1 },
        { day: 3, method: 'pgp', n: 9 },
        { day: -1, method: 'pgp', n: 9 },
      ],
      3,
    );
    expect(f.series).toEqual([
      { name: 'tls-verified', values: [0, 0, 5] },
      { name: 'pgp', values: [0, 0, 1] },
      { name: 'portal', values: [2, 0, 0] },
      { name: 'undecided', values: [0, 1, 0] },
    ]);
    expect(f.recipients).toBe(9);
    expect(methodSeries([], 1).series).toEqual([]);
    // COUNT as a PostgreSQL driver gives it (bigint as text), and the day too
    expect(methodSeries([{ day: '1', method: 'smime', n: '12' }], 2)).toEqual({ series: [{ name: 'smime', values: [0, 12] }], recipients: 12 });
  });

  it('categoryRows: hits and messages per category from stored verdicts, most hits first; bad JSON and values ignored', () => {
    const v = (findings: { category: string; count: number }[]) => archiveVerdict(JSON.stringify({ phi: true, findings })).json;
    const rows = categoryRows([
      v([{ category: 'SSN', count: 2 }]),
      v([
        { category: 'MRN', count: 1 },
        { category: 'SSN', count: 3 },
      ]),
      v([{ category: 'MRN', count: 1 }]),
      archiveVerdict(null).json,
      '{not json',
      null,
      JSON.stringify({ findings: [{ category: 'DOB', count: -4 }, { count: 1 }, 'x'] }),
    ]);
    expect(rows).toEqual([
      { category: 'SSN', messages: 2, hits: 5 },
      { category: 'MRN', messages: 2, hits: 2 },
      { category: 'DOB', messages: 1, hits: 0 },
    ]);
    expect(categoryRows([v([{ category: 'A', count: 1 }]), v([{ category: 'B', count: 1 }])], 1)).toEqual([{ category: 'A', messages: 1, hits: 1 }]);
  });

  it.each<[string, string | null, string]>([
    ['code and enhanced code', attemptEvidence({ reply: { code: 550, enhanced: '5.1.1', text: '5.1.1 <jane@x.test> no such user' } }, { requirement: 'may' }), '550 5.1.1'],
    ['code only', attemptEvidence({ reply: { code: 421, text: 'busy' } }, { requirement: 'may' }), '421'],
    ['no evidence', null, 'no reply'],
    ['no reply code (a connection failure)', attemptEvidence({ reply: { text: 'connect ECONNREFUSED' } }, { requirement: 'may' }), 'no reply'],
    ['a code that is not one', JSON.stringify({ reply: { code: 99999, enhanced: '5.1.1 jane@x.test', text: 'x' } }), 'no reply'],
    ['not JSON', 'oops', 'no reply'],
  ])('reasonOf: %s', (_what, evidence, reason) => {
    expect(reasonOf(evidence)).toBe(reason);
  });

  it('failureFigure: bounced and expired per day from the counts (other states ignored); reasons from the evidence', () => {
    const bounce = attemptEvidence({ reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } }, { requirement: 'may' });
    const f = failureFigure(
      [
        { day: 0, state: 'bounced', n: 2 },
        { day: '1', state: 'expired', n: '1' },
        { day: 1, state: 'delivered', n: 5 },
        { day: 9, state: 'bounced', n: 5 },
      ],
      [bounce, bounce, null],
      2,
    );
    expect(f).toEqual({ bounced: [2, 0], expired: [0, 1], reasons: [{ reason: '550 5.1.1', count: 2 }, { reason: 'no reply', count: 1 }] });
  });

  it('postureOf: counts given as text (a PostgreSQL bigint) are numbers', () => {
    const asText = { domain: 'b.test', attempted: '4', verified: '4', noTls: '0', tls13: '4', tls12: '0', dane: '0', mtaStsEnforce: '0', mtaStsTesting: '0' } as unknown as Parameters<typeof postureOf>[0];
    expect(postureOf(asText)).toMatchObject({ attempted: 4, verified: 4, unverified: 0, tls13: 4, tlsOther: 0 });
  });

  it('postureOf: the unverified and other-version sessions are what the counts leave', () => {
    expect(postureOf({ domain: 'a.test', attempted: 10, verified: 6, noTls: 1, tls13: 5, tls12: 3, dane: 2, mtaStsEnforce: 4, mtaStsTesting: 1 })).toEqual({
      domain: 'a.test',
      attempted: 10,
      verified: 6,
      unverified: 3,
      noTls: 1,
      tls13: 5,
      tls12: 3,
      tlsOther: 1,
      dane: 2,
      mtaStsEnforce: 4,
      mtaStsTesting: 1,
    });
  });
});

describe('SVG charts (pure)', () => {
  const base: BarChart = { id: 'c1', title: 'Title', description: 'Description', categories: ['a', 'b'], series: [{ name: 'S', values: [1, 2] }], categoryAxis: 'Day', valueAxis: 'Recipients' };

  it.each<[number, { top: number; step: number }]>([
    [0, { top: 4, step: 1 }],
    [1, { top: 1, step: 1 }],
    [3, { top: 3, step: 1 }],
    [7, { top: 8, step: 2 }],
    [9, { top: 10, step: 5 }],
    [95, { top: 100, step: 50 }],
    [1234, { top: 1500, step: 500 }],
  ])('niceScale(%d)', (max, scale) => {
    expect(niceScale(max)).toEqual(scale);
  });

  it.each<[string, Partial<BarChart>, (svg: string) => void]>([
    [
      'title, description and role for screen readers; scales by viewBox',
      {},
      (svg) => {
        expect(svg).toMatch(/^<svg class="chart" xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ [\d.]+" role="img" aria-labelledby="c1-t c1-d"/);
        expect(svg).toContain('<title id="c1-t">Title</title><desc id="c1-d">Description</desc>');
        expect(svg).not.toMatch(/style=|<script|width="\d+" height="\d+" role/);
      },
    ],
    [
      'every text from outside escaped',
      { title: '<b>&"', categories: ['<img src=x onerror=alert(1)>', 'b'], series: [{ name: '"><script>alert(1)</script>', values: [1, 1] }], categoryAxis: '<x>', valueAxis: "it's" },
      (svg) => {
        expect(svg).not.toMatch(/<img|<script|<b>|<x>/);
        expect(svg).toContain('&lt;b&gt;&amp;&quot;');
        expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt;: ');
        expect(svg).toContain('>&lt;img src=…</text>');
        expect(svg).toContain('&quot;&gt;&lt;script&gt;');
        expect(svg).toContain('it&#39;s');
      },
    ],
    [
      'control and bidi characters removed from labels',
      { categories: ['evil\u202e.test\r\n'], series: [{ name: 'S', values: [1] }] },
      (svg) => {
        expect(svg).not.toMatch(/[\u202e\r\n]/);
        expect(svg).toContain('>evil.test<');
      },
    ],
    [
      'empty data: the axes and a note, no bars',
      { categories: [], series: [] },
      (svg) => {
        expect(svg).toContain('No data in this window');
        expect(svg).not.toContain('<rect');
      },
    ],
    [
      'all zeros: a note, no bars (but the legend)',
      { series: [{ name: 'S', values: [0, 0] }] },
      (svg) => {
        expect(svg).toContain('No data in this window');
        expect(svg.match(/<rect/g)).toHaveLength(1);
      },
    ],
    [
      'one day: one bar with its tooltip',
      { categories: ['12-05'], series: [{ name: 'tls-verified', values: [3] }] },
      (svg) => {
        expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(1);
        expect(svg).toContain('<title>12-05: tls-verified 3</title>');
        expect(svg).not.toContain('No data');
      },
    ],
    [
      'stacked: each series on top of the one before',
      { categories: ['d'], series: [{ name: 'A', values: [1] }, { name: 'B', values: [3] }] },
      (svg) => {
        const bars = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="[^"]+"><title>d: (\w)/g)].map((m) => ({ y: Number(m[1]), h: Number(m[2]), s: m[3] }));
        expect(bars.map((b) => b.s)).toEqual(['A', 'B']);
        // B sits on A: its bottom is A's top; B is three times as tall
        expect(Math.abs((bars[1]?.y ?? 0) + (bars[1]?.h ?? 0) - (bars[0]?.y ?? 0))).toBeLessThan(0.2);
        expect(Math.round((bars[1]?.h ?? 0) / (bars[0]?.h ?? 1))).toBe(3);
      },
    ],
    [
      'many days: every day a bar, a label every few days (at most 8)',
      { categories: Array.from({ length: 366 }, (_, i) => `d${i}`), series: [{ name: 'S', values: Array.from({ length: 366 }, () => 1) }] },
      (svg) => {
        expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(366);
        const labels = [...svg.matchAll(/text-anchor="middle">(d\d+)<\/text>/g)].map((m) => m[1]);
        expect(labels.length).toBeLessThanOrEqual(8);
        expect(labels[0]).toBe('d0');
      },
    ],
    [
      'horizontal with a fixed top (shares): the ticks say %',
      { orientation: 'horizontal', max: 100, unit: '%', categories: ['a.test'], series: [{ name: 'Verified', values: [75] }] },
      (svg) => {
        expect(svg).toContain('>100%</text>');
        expect(svg).toContain('<title>a.test: Verified 75%</title>');
      },
    ],
  ])('%s', (_what, change, check) => {
    check(barChart({ ...base, ...change }));
  });

  it('stackTotals adds the series per category; negatives and NaN count as 0', () => {
    expect(stackTotals({ categories: ['a', 'b', 'c'], series: [{ name: 'x', values: [1, -5, Number.NaN] }, { name: 'y', values: [2, 3] }] })).toEqual([3, 3, 0]);
  });

  it('dataTable: caption, scoped headers, escaped cells, a total row, an empty-data row', () => {
    const html = dataTable({ id: 't', caption: 'Cap <1>', rowHeader: 'Day', columns: ['A', 'B'], rows: [{ label: '<d>', cells: [1, 2] }, { label: 'e', cells: [3, '<x>'] }], totals: true });
    expect(html).toContain('role="region" tabindex="0" aria-labelledby="t-caption"');
    expect(html).toContain('<caption id="t-caption">Cap &lt;1&gt;</caption>');
    expect(html).toContain('<th scope="row">&lt;d&gt;</th><td class="num">1</td><td class="num">2</td>');
    expect(html).toContain('<td>&lt;x&gt;</td>');
    expect(html).toContain('<tfoot><tr><th scope="row">Total</th><td class="num">4</td><td class="num">2</td></tr></tfoot>');
    expect(dataTable({ id: 't', caption: 'c', rowHeader: 'Day', columns: ['A'], rows: [], totals: true })).toContain('<td colspan="2">No data in this window</td>');
  });

  it('the page says when a figure counted only the first rows', () => {
    const w: ReportWindow = { since: TODAY, until: TODAY + DAY_MS, days: 1, first: '2026-12-05', last: '2026-12-05' };
    const figures: ReportFigures = {
      methods: { series: [], messages: 0, recipients: 0 },
      categories: { rows: [{ category: 'SSN', messages: 200_000, hits: 200_000 }], capped: true },
      posture: [],
      failures: { bounced: [0], expired: [0], reasons: [{ reason: 'no reply', count: 200_000 }], reasonsCapped: true },
      portal: { deposited: [0], opened: [0], replied: 0 },
    };
    const page = reportsPage({ since: w.first, until: w.last }, { window: w, figures });
    expect(page.main).toContain('More than 200,000 messages had findings: these figures count the first 200,000.');
    expect(page.main).toContain('Reply codes of the failed recipients, most frequent first (of the first 200,000)');
    expect(page.main).toContain('On 2026-12-05 (UTC): 0 messages to 0 recipients.');
  });

  it('the page: a bad window shows the form with what was typed (escaped) and the problem', () => {
    const page = reportsPage({ since: '"><b>x', until: '' }, { problem: 'since must be a date such as 2026-11-05 (UTC).' });
    expect(page.main).toContain('value="&quot;&gt;&lt;b&gt;x"');
    expect(page.main).toContain('<div class="alert" role="alert"><p>since must be a date such as 2026-11-05 (UTC).</p></div>');
    expect(page.main).not.toContain('<svg');
  });
});

const ids = REPORT_IDS;

describe('the figures over a real archive, and GET /reports', () => {
  let t: ConsoleWebTest;
  let secrets: Record<string, Buffer>;
  const w: ReportWindow = { since: Date.UTC(2026, 11, 3), until: Date.UTC(2026, 11, 6), days: 3, first: '2026-12-03', last: '2026-12-05' };

  beforeAll(async () => {
    t = await startConsoleWebTest({ signInsPerMinute: 1000 });
    await fillReportArchive(t.db);
    secrets = { ann: await t.addUser('ann', 'auditor'), cora: await t.addUser('cora', 'auditor-content'), root: await t.addUser('root', 'admin') };
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('reportFigures: methods per day, DLP hits, TLS posture, failures and portal opens of the window only', async () => {
    const f: ReportFigures = await reportFigures(t.db, w);
    expect(f.methods).toEqual({
      messages: 4,
      recipients: 8,
      series: [
        { name: 'tls-verified', values: [1, 1, 0] },
        { name: 'tls-opportunistic', values: [1, 0, 1] },
        { name: 'pgp', values: [0, 0, 1] },
        { name: 'portal', values: [0, 2, 0] },
        { name: 'quarantine', values: [0, 0, 1] },
      ],
    });
    expect(f.categories).toEqual({
      rows: [
        { category: 'SSN', messages: 2, hits: 3 },
        { category: 'MRN', messages: 1, hits: 1 },
      ],
      capped: false,
    });
    const blank = { verified: 0, unverified: 0, noTls: 0, tls13: 0, tls12: 0, tlsOther: 0, dane: 0, mtaStsEnforce: 0, mtaStsTesting: 0 };
    expect(f.posture).toEqual([
      { ...blank, domain: 'verified.test', attempted: 2, verified: 2, tls13: 2, dane: 1, mtaStsEnforce: 1 },
      { ...blank, domain: 'pgp.test', attempted: 1, verified: 1, tls13: 1 },
      { ...blank, domain: 'plain.test', attempted: 1, noTls: 1 },
      { ...blank, domain: 'strict.test', attempted: 1, unverified: 1, tls12: 1 },
    ]);
    expect(f.failures).toEqual({ bounced: [1, 0, 0], expired: [0, 0, 1], reasons: [{ reason: '421', count: 1 }, { reason: '550 5.1.1', count: 1 }], reasonsCapped: false });
    expect(f.portal).toEqual({ deposited: [0, 2, 0], opened: [0, 1, 0], replied: 1 });
  });

  it('past the row cap a figure counts the first rows and says so; the per-day failures stay whole', async () => {
    const dlp = await categoriesFigure(t.db, w, 20, 1);
    expect(dlp.capped).toBe(true);
    // one verdict read: each category in it once
    expect(dlp.rows.length).toBeGreaterThan(0);
    expect(dlp.rows.every((r) => r.messages === 1)).toBe(true);
    const failed = await failuresFigure(t.db, w, 10, 1);
    expect(failed).toMatchObject({ bounced: [1, 0, 0], expired: [0, 0, 1], reasonsCapped: true });
    expect(failed.reasons.reduce((a, r) => a + r.count, 0)).toBe(1);
    expect(await categoriesFigure(t.db, w, 20, 2)).toMatchObject({ capped: false });
  });

  // the failures query may start from the state index instead (failures are few): bounded either way
  it.each(Object.keys(FIGURE_QUERIES))('the %s query is index-driven: every step a SEARCH through an index, no table SCAN', async (name) => {
    const q = FIGURE_QUERIES[name as keyof typeof FIGURE_QUERIES](w, 10);
    const plan = (await t.db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${q.sql}`, q.params)).map((r) => r.detail);
    expect(plan[0]).toMatch(name === 'failures' || name === 'failureReasons' ? /^SEARCH (m|r) USING (COVERING )?INDEX archive_(messages_received|recipients_state) / : /^SEARCH m USING (COVERING )?INDEX archive_messages_received \(received_at>\? AND received_at<\?\)$/);
    for (const step of plan) expect(step).toMatch(/^(SEARCH \w+ (EXISTS )?USING .*INDEX|CORRELATED SCALAR SUBQUERY|USE TEMP B-TREE FOR)/);
  });

  it('the reports read one snapshot beside the writer: a write committed meanwhile goes through and is not seen; a write through it is refused', async () => {
    const held = 'SELECT COUNT(*) AS n FROM archive_messages WHERE hold = 1';
    const inside = await t.db.readSnapshot(async (q) => {
      const first = await reportFigures(q, w);
      // the gateway's writer commits while the snapshot is open: SQLite's snapshot is a connection of its own, so this is not held up
      await t.db.transaction((tx) => tx.run('UPDATE archive_messages SET hold = 1 WHERE id = ?', [ids.a]));
      const refused = await q.run('UPDATE archive_messages SET hold = 0 WHERE id = ?', [ids.a]).then(() => 'written', (err: Error) => err.message);
      return { first, again: await reportFigures(q, w), held: (await q.get<{ n: number }>(held))?.n, refused };
    });
    try {
      expect(inside.again).toEqual(inside.first);
      expect(inside.held).toBe(0);
      expect(inside.refused).toMatch(/readonly/);
      expect((await t.db.get<{ n: number }>(held))?.n).toBe(1);
    } finally {
      await t.db.transaction((tx) => tx.run('UPDATE archive_messages SET hold = 0 WHERE id = ?', [ids.a]));
    }
  });

  it('an empty window: every figure empty', async () => {
    const f = await reportFigures(t.db, { since: Date.UTC(2020, 0, 1), until: Date.UTC(2020, 0, 2), days: 1, first: '2020-01-01', last: '2020-01-01' });
    expect(f).toEqual({ methods: { messages: 0, recipients: 0, series: [] }, categories: { rows: [], capped: false }, posture: [], failures: { bounced: [0], expired: [0], reasons: [], reasonsCapped: false }, portal: { deposited: [0], opened: [0], replied: 0 } });
  });

  async function signedIn(name: 'ann' | 'cora' | 'root') {
    t.clock += 30_000;
    const c = t.client();
    const r = await c.signIn(name, 'correct horse battery staple', t.code(secrets[name] ?? Buffer.alloc(0)));
    expect(r.status).toBe(303);
    return c;
  }

  it('every role sees the page, with the figures in its tables, the nav link current, and each view audited', async () => {
    for (const name of ['ann', 'cora', 'root'] as const) {
      const c = await signedIn(name);
      const r = await c.get('/reports?since=2026-12-03&until=2026-12-05');
      expect(r.status).toBe(200);
      expect(r.headers['content-security-policy']).not.toMatch(/script-src|unsafe-inline/);
      expect(r.body).toContain('<a href="/reports" aria-current="page">Reports</a>');
      expect(r.body).toContain('From 2026-12-03 to 2026-12-05 (UTC): 4 messages to 8 recipients.');
      expect(r.body.match(/<svg class="chart"[^>]*role="img"/g)).toHaveLength(5);
      expect(r.body).not.toMatch(/<script|style="/);
      // the tables: a day row per day with mail, totals, category, domain and reply-code rows
      expect(r.body).toContain('<tr><th scope="row">2026-12-04</th><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">2</td><td class="num">0</td></tr>');
      expect(r.body).toContain('<th scope="row">Total</th><td class="num">2</td><td class="num">2</td><td class="num">1</td><td class="num">2</td><td class="num">1</td>');
      expect(r.body).toContain('<tr><th scope="row">SSN</th><td class="num">2</td><td class="num">3</td></tr>');
      expect(r.body).toContain('<tr><th scope="row">strict.test</th><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">1</td>');
      expect(r.body).toContain('<tr><th scope="row">550 5.1.1</th><td class="num">1</td></tr>');
      expect(r.body).toContain('1 of 2 opened (50%); 1 replied.');
      // no address, no reply text
      for (const secret of ['nobody@', 'carol@', 'pat@', 'alice@', 'unknown', 'try later']) expect(r.body).not.toContain(secret);
    }
    const viewed = (await tailAudit(t.db, 1000)).filter((e) => e.type === 'console:report_viewed').map((e) => e.data);
    expect(viewed).toEqual(['ann', 'cora', 'root'].map((operator) => ({ operator, via: 'console', since: '2026-12-03', until: '2026-12-05' })));
  });

  it('the default window is the last 30 days; a bad window is a 400 page that says why, not audited', async () => {
    const c = await signedIn('ann');
    const before = (await tailAudit(t.db, 1000)).filter((e) => e.type === 'console:report_viewed').length;
    const r = await c.get('/reports');
    expect(r.status).toBe(200);
    expect(r.body).toContain('value="2026-11-06"');
    // the entry of 2026-12-02 too
    expect(r.body).toContain('From 2026-11-06 to 2026-12-05 (UTC): 5 messages to 9 recipients.');
    for (const [query, problem] of [
      ['since=2025-01-01&until=2026-12-05', 'A report covers at most 366 days; choose a shorter window.'],
      ['since=%3Cscript%3E', 'since must be a date such as 2026-11-05 (UTC).'],
      ['since=2026-12-05&until=2026-12-01', 'since must not be after until (today when until is empty).'],
    ] as const) {
      const bad = await c.get(`/reports?${query}`);
      expect(bad.status).toBe(400);
      expect(bad.body).toContain(`<div class="alert" role="alert"><p>${problem}</p></div>`);
      expect(bad.body).not.toContain('<script>');
      expect(bad.body).toContain('<form class="card" method="get" action="/reports">');
    }
    const after = (await tailAudit(t.db, 1000)).filter((e) => e.type === 'console:report_viewed').length;
    expect(after - before).toBe(1);
  });

  it('signed out: to the sign-in page; POST: 405', async () => {
    const c = t.client();
    const r = await c.get('/reports');
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/sign-in');
    const p = await c.post('/reports', {});
    expect(p.status).toBe(405);
    expect(p.headers.allow).toBe('GET');
  });
});
