/**
 * The console audit page's reader (readAuditPage) on both databases: the
 * same log gives the same pages on SQLite and PostgreSQL. The operator
 * filter is exact on both — a name differing only in case is another
 * operator, `_` and `%` in a name match only themselves — although the LIKE
 * that narrows the rows ignores ASCII case in SQLite and not in PostgreSQL
 * (hasOperator decides). The page on real HTTPS and its SQLite query plans
 * are in audit-page.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEvent } from '../../src/audit/log.js';
import type { AuditEvent } from '../../src/audit/events.js';
import { firstSeqAtOrAfter, readAuditPage } from '../../src/console/http/routes-audit.js';
import type { Dialect } from '../../src/db/sql-database.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T0 = Date.UTC(2026, 11, 1);
const HOUR = 3_600_000;

// operators that a case-blind or unescaped LIKE would confuse with one another
const OPERATORS = ['ann', 'Ann', 'ANN', 'a_n', 'a%n', 'an', 'anne', 'a!n'];

const viewed = (operator: string, i: number): AuditEvent => ({ type: 'audit:viewed', data: { operator, via: 'console', events: i } });

describe.each(DIALECTS)('audit page reader on %s', (kind: Dialect) => {
  const db = () => dbs.get(kind);
  /** seq of each event, by its operator. */
  const byOperator = new Map<string, number[]>();

  beforeAll(async () => {
    await db().transaction(async (tx) => {
      for (let i = 0; i < 160; i++) {
        const operator = OPERATORS[i % OPERATORS.length] ?? 'ann';
        const event = i % 10 === 9 ? ({ type: 'queue:held', data: { queueId: '0123456789ABCDEFGHJK', operator, recipients: 1 } } as AuditEvent) : viewed(operator, i);
        const { seq } = await appendAuditEvent(tx, event, T0 + i * HOUR);
        byOperator.set(operator, [...(byOperator.get(operator) ?? []), seq]);
      }
    });
  });

  it.each(OPERATORS)('the operator %s matches itself only, exactly', async (operator) => {
    const page = await readAuditPage(db(), { operator });
    expect(page.rows.map((r) => r.seq)).toEqual([...(byOperator.get(operator) ?? [])].reverse());
    expect(page.older).toBeUndefined();
  });

  it('an operator no event has gives an empty page', async () => {
    expect((await readAuditPage(db(), { operator: 'aNn' })).rows).toEqual([]);
    expect((await readAuditPage(db(), { operator: '%' })).rows).toEqual([]);
  });

  it('a full page links to older events, and the next page continues below it', async () => {
    const first = await readAuditPage(db(), { stage: 'audit' });
    expect(first.rows).toHaveLength(100);
    expect(first.older).toBe(first.rows.at(-1)?.seq);
    const second = await readAuditPage(db(), { stage: 'audit', before: first.older });
    expect(second.rows).toHaveLength(144 - 100);
    expect(second.older).toBeUndefined();
    expect([...first.rows, ...second.rows].every((r) => r.type === 'audit:viewed')).toBe(true);
  });

  it('a time range and an operator together', async () => {
    const newest = (await db().get<{ n: number }>('SELECT max(seq) AS n FROM audit_log'))?.n ?? 0;
    const from = await firstSeqAtOrAfter(db(), T0 + 80 * HOUR, newest);
    const page = await readAuditPage(db(), { operator: 'a_n', since: T0 + 80 * HOUR, until: T0 + 120 * HOUR });
    const want = (byOperator.get('a_n') ?? []).filter((s) => s >= from && s < from + 40).reverse();
    expect(page.rows.map((r) => r.seq)).toEqual(want);
    expect(want.length).toBe(5);
  });
});
