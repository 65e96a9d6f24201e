/**
 * The reports page's figures (src/console/figures/figures.ts) on both
 * databases (test/helpers/both-databases.ts), over the archive
 * reports.test.ts reads (report-archive.ts: rows by the archive's own
 * insertArchiveEntries, portal rows as the portal stores them): the same
 * figures on SQLite and PostgreSQL — per-day counts (whole-number day
 * arithmetic), DLP hits from the verdicts, TLS posture from the evidence's
 * LIKE matches (PostgreSQL's SUMs come back as numbers), failures' reply
 * codes, portal opens — read inside one readSnapshot, as the page reads them.
 */
import { describe, expect, it } from 'vitest';
import { reportFigures } from '../../src/console/figures/figures.js';
import type { ReportWindow } from '../../src/console/figures/window.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';
import { fillReportArchive } from './report-archive.js';

const dbs = bothDatabases();
const w: ReportWindow = { since: Date.UTC(2026, 11, 3), until: Date.UTC(2026, 11, 6), days: 3, first: '2026-12-03', last: '2026-12-05' };
const blank = { verified: 0, unverified: 0, noTls: 0, tls13: 0, tls12: 0, tlsOther: 0, dane: 0, mtaStsEnforce: 0, mtaStsTesting: 0 };

describe.each(DIALECTS)('%s', (kind) => {
  it('every figure of the window, in one snapshot, as on the other database', async () => {
    const db = dbs.get(kind);
    await fillReportArchive(db);
    const f = await db.readSnapshot((q) => reportFigures(q, w));
    expect(f).toEqual({
      methods: {
        messages: 4,
        recipients: 8,
        series: [
          { name: 'tls-verified', values: [1, 1, 0] },
          { name: 'tls-opportunistic', values: [1, 0, 1] },
          { name: 'pgp', values: [0, 0, 1] },
          { name: 'portal', values: [0, 2, 0] },
          { name: 'quarantine', values: [0, 0, 1] },
        ],
      },
      categories: { rows: [{ category: 'SSN', messages: 2, hits: 3 }, { category: 'MRN', messages: 1, hits: 1 }], capped: false },
      posture: [
        { ...blank, domain: 'verified.test', attempted: 2, verified: 2, tls13: 2, dane: 1, mtaStsEnforce: 1 },
        { ...blank, domain: 'pgp.test', attempted: 1, verified: 1, tls13: 1 },
        { ...blank, domain: 'plain.test', attempted: 1, noTls: 1 },
        { ...blank, domain: 'strict.test', attempted: 1, unverified: 1, tls12: 1 },
      ],
      failures: { bounced: [1, 0, 0], expired: [0, 0, 1], reasons: [{ reason: '421', count: 1 }, { reason: '550 5.1.1', count: 1 }], reasonsCapped: false },
      portal: { deposited: [0, 2, 0], opened: [0, 1, 0], replied: 1 },
    });
  });
});
