/**
 * The TLS report counters (src/probe/tlsrpt.ts) on both databases
 * (test/helpers/both-databases.ts): the first result of a kind inserts its
 * row, each further one adds to it (the upsert's SET must name the table on
 * PostgreSQL), also from a second connection (another node) at once.
 */
import { describe, expect, it } from 'vitest';
import { countsFor, countTlsResult } from '../../src/probe/tlsrpt.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();

describe.each(DIALECTS)('%s', (kind) => {
  it('counts each result of a kind in one row, from two connections at once', async () => {
    const db = dbs.get(kind);
    const other = await dbs.connect(kind);
    const failure = { day: '2026-12-06', domain: `counts-${kind}.test`, policyType: 'no-policy-found', mx: 'mx.counts.test', resultType: 'starttls-not-supported' } as const;
    await db.transaction((tx) => countTlsResult(tx, failure));
    await Promise.all([
      ...Array.from({ length: 3 }, () => db.transaction((tx) => countTlsResult(tx, failure))),
      ...Array.from({ length: 3 }, () => other.transaction((tx) => countTlsResult(tx, failure))),
      db.transaction((tx) => countTlsResult(tx, { ...failure, resultType: 'success' })),
    ]);
    expect((await countsFor(db, failure.domain, failure.day)).map((r) => [r.result_type, Number(r.count)])).toEqual([
      ['starttls-not-supported', 7],
      ['success', 1],
    ]);
  });
});
