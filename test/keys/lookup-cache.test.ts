/**
 * The key discovery lookup cache (table key_lookups) on SQLite and
 * PostgreSQL: the last lookup per address and source, replaced in place,
 * also when several writers (nodes) record the same address at once.
 */
import { describe, expect, it } from 'vitest';
import { SqlLookupCache, cacheFresh, type LookupRow } from '../../src/keys/lookup-cache.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = 1_800_000_000_000;

describe.each(DIALECTS)('key lookup cache on %s', (kind) => {
  const cache = (): SqlLookupCache => new SqlLookupCache(dbs.get(kind));

  it('keeps the last lookup per address and source', async () => {
    const first: LookupRow = { address: 'Alice@example.org', source: 'wkd', checkedAt: T, outcome: 'not-found', method: null, detail: 'HTTP 404 from example.org' };
    await cache().put(first);
    await cache().put({ ...first, source: 'dns', outcome: 'failed', detail: 'SERVFAIL' });
    expect(await cache().get('Alice@example.org', 'wkd')).toEqual(first);
    const second: LookupRow = { ...first, checkedAt: T + 1000, outcome: 'found', method: 'advanced', detail: null };
    await cache().put(second);
    expect(await cache().get('Alice@example.org', 'wkd')).toEqual(second);
    expect((await cache().get('Alice@example.org', 'dns'))?.outcome).toBe('failed');
    expect(await cache().get('bob@example.org', 'wkd')).toBeUndefined();
    expect(cacheFresh(second, T + 2000, { positiveMs: 5000, negativeMs: 0 })).toBe(true);
  });

  it('several writers recording one address at once: every write succeeds, one row remains', async () => {
    const rows = Array.from({ length: 8 }, (_, i): LookupRow => ({ address: 'carol@example.org', source: 'wkd', checkedAt: T + i, outcome: i % 2 ? 'found' : 'not-found', method: null, detail: null }));
    const results = await Promise.allSettled(rows.map((r) => cache().put(r)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const count = await dbs.get(kind).get<{ n: number }>('SELECT COUNT(*) AS n FROM key_lookups WHERE address = ?', ['carol@example.org']);
    expect(count).toEqual({ n: 1 });
  });
});
