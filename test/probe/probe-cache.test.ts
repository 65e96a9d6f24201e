/**
 * The probe result cache (`probe_results`, src/probe/domain-probe.ts) on
 * both databases: a probe's MX addresses come back in the order they were
 * probed (the mx_order column of migration 25; SQLite's rowid before it),
 * results expire, a new probe replaces the old rows, and several writers
 * storing the same domain at once all succeed. On SQLite, migration 25 keeps
 * the order of the rows already cached. The inspector reads a message's
 * recipients with their domains' results in one joined statement
 * (src/inspect/recipient-probes.ts): it gives what loadProbe gives, per
 * recipient.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { migrate, SCHEMA_VERSION } from '../../src/db/schema.js';
import { RECIPIENTS_WITH_PROBES, recipientsWithProbes, type RecipientProbeRow } from '../../src/inspect/recipient-probes.js';
import { loadProbe, probeFromRows, storeProbe, type DomainProbe, type ProbedMx } from '../../src/probe/domain-probe.js';
import { insertQueuedMessage } from '../../src/queue/store.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = 1_800_000_000_000;
const TTL = { positiveMs: 86_400_000, negativeMs: 3_600_000 };

const mx = (host: string, ip: string, starttls = true): ProbedMx => ({ mx: host, ip, port: 25, reachable: true, starttls, tlsVersion: starttls ? 'TLSv1.3' : undefined });

const probe = (domain: string, hosts: readonly ProbedMx[], probedAt = T): DomainProbe => ({ domain, probedAt, route: 'mx', mx: hosts, mtaSts: { mode: 'none', mx: [], source: 'none' } });

// not in the order of the primary key (domain, mx, ip): the order must come from the column
const HOSTS = [mx('mx2.example.net', '192.0.2.20'), mx('mx1.example.net', '192.0.2.11'), mx('mx1.example.net', '192.0.2.10'), mx('backup.example.net', '198.51.100.1', false)];

describe.each(DIALECTS)('probe result cache on %s', (kind) => {
  const db = () => dbs.get(kind);

  it('gives the MX addresses back in probe order, with the route and MTA-STS facts, until they expire', async () => {
    await storeProbe(db(), probe('order.test', HOSTS), TTL);
    const loaded = await loadProbe(db(), 'order.test', T + 1);
    expect(loaded).toEqual({ ...probe('order.test', HOSTS), cached: true, error: undefined });
    // no MX offers verified TLS: the shorter, negative lifetime
    expect(await loadProbe(db(), 'order.test', T + TTL.negativeMs - 1)).toBeDefined();
    expect(await loadProbe(db(), 'order.test', T + TTL.negativeMs)).toBeUndefined();
    expect(await loadProbe(db(), 'unknown.test', T)).toBeUndefined();
  });

  it('keeps a domain without MX as its route and error', async () => {
    await storeProbe(db(), { domain: 'nomx.test', probedAt: T, route: 'dns-error', mx: [], error: 'SERVFAIL' }, TTL);
    expect(await loadProbe(db(), 'nomx.test', T + 1)).toMatchObject({ route: 'dns-error', mx: [], error: 'SERVFAIL', cached: true });
  });

  it('a new probe replaces the old rows, in its own order', async () => {
    await storeProbe(db(), probe('again.test', HOSTS), TTL);
    const fewer = [HOSTS[2], HOSTS[0]].filter((h): h is ProbedMx => h !== undefined);
    await storeProbe(db(), probe('again.test', fewer, T + 5), TTL);
    const loaded = await loadProbe(db(), 'again.test', T + 6);
    expect(loaded?.mx.map((r) => r.ip)).toEqual(['192.0.2.10', '192.0.2.20']);
    expect(loaded?.probedAt).toBe(T + 5);
  });

  it('several writers storing the same domain at once all succeed, and one whole result is read back', async () => {
    const other = await dbs.connect(kind);
    const writes = Array.from({ length: 12 }, (_, i) => storeProbe(i % 2 ? other : db(), probe('race.test', HOSTS, T + i), TTL));
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    const loaded = await loadProbe(db(), 'race.test', T + 100);
    expect(loaded?.mx.map((r) => `${r.mx} ${r.ip}`)).toEqual(HOSTS.map((h) => `${h.mx} ${h.ip}`));
  });
});

describe.each(DIALECTS)('recipients with their probe results, one read, on %s', (kind) => {
  const db = () => dbs.get(kind);
  const at = T + 1;

  it.each<[string, readonly string[], readonly string[]]>([
    // recipients (in RCPT order), and which domains are probed before the read
    ['one recipient, probed', ['a@p1.test'], ['p1.test']],
    ['one recipient, never probed', ['a@none.test'], []],
    ['two recipients of one probed domain', ['a@p2.test', 'b@p2.test'], ['p2.test']],
    ['mixed: probed, not, probed again', ['a@p3.test', 'b@none.test', 'c@p3.test'], ['p3.test']],
    ['a domain without MX (its route and error)', ['a@nomx2.test'], ['nomx2.test']],
    ['an expired result counts as none', ['a@old.test'], ['old.test']],
  ])('%s: what loadProbe gives for each recipient, in RCPT order', async (name, addresses, probed) => {
    const id = `PROBEJOIN${name.length}${addresses.length}${probed.length}${kind.length}`.padEnd(20, '0').slice(0, 20);
    for (const domain of probed) {
      if (domain === 'nomx2.test') await storeProbe(db(), { domain, probedAt: T, route: 'dns-error', mx: [], error: 'SERVFAIL' }, TTL);
      else await storeProbe(db(), probe(domain, HOSTS, domain === 'old.test' ? T - TTL.positiveMs * 2 : T), TTL);
    }
    await db().transaction(async (tx) => {
      await insertQueuedMessage(tx, {
        id, createdAt: T, sender: 's@example.org', size: 10, spoolKeyId: 'k', listener: 'relay', connector: 'loopback', clientIp: '127.0.0.1', helo: 'h.test',
        tlsVersion: undefined, authUser: undefined, bodyType: '7BIT', smtputf8: false, requireTls: false, dsnRet: undefined, dsnEnvid: undefined,
        bareLineEndings: 0, recipients: addresses.map((address) => ({ address })), requirement: 'may',
      }, undefined);
    });
    const joined = recipientsWithProbes(await db().all<RecipientProbeRow>(RECIPIENTS_WITH_PROBES, [id]));
    expect(joined.map((r) => [r.seq, r.address, r.domain, r.requirement])).toEqual(addresses.map((a, i) => [i + 1, a, a.split('@')[1], 'may']));
    for (const r of joined) expect(probeFromRows(r.domain, r.probeRows, at)).toEqual(await loadProbe(db(), r.domain, at));
    // a result for each recipient whose domain holds a live one, none for the others
    expect(joined.map((r) => probeFromRows(r.domain, r.probeRows, at) !== undefined)).toEqual(addresses.map((a) => probed.includes(a.split('@')[1] ?? '') && !a.endsWith('@old.test')));
  });
});

describe('migration 25 on SQLite', () => {
  it('numbers the rows already cached in the order they were written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealgate-probe-mig-'));
    const db = await Database.open(join(dir, 'sealgate.db'));
    try {
      // at version 24, as a gateway upgraded from it has it, with rows written in probe order
      expect(await migrate(db, 24)).toBe(24);
      for (const h of HOSTS) {
        await db.run('INSERT INTO probe_results (domain, mx, ip, probed_at, expires_at, result) VALUES (?, ?, ?, ?, ?, ?)', ['old.test', h.mx, h.ip, T, T + TTL.negativeMs, JSON.stringify({ ...h, route: 'mx' })]);
      }
      expect(await migrate(db)).toBe(SCHEMA_VERSION);
      expect((await loadProbe(db, 'old.test', T + 1))?.mx.map((r) => r.ip)).toEqual(HOSTS.map((h) => h.ip));
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
