/**
 * MTA-STS: the pure parts as tables, then the policy resolver against a real
 * dns2 zone, a real HTTPS policy server with a test-CA certificate and the
 * cache in a real database — SQLite and PostgreSQL, the same tests on each
 * (test/helpers/both-databases.ts) — with the clock injected. The fail-closed rule: a DNS
 * or fetch error never drops a cached policy, even an expired one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/delivery/dns.js';
import { fetchStsPolicyText, StsFetchError } from '../../src/probe/mta-sts-fetch.js';
import { parseStsPolicy, parseStsTxt, stsMxMatches, StsPolicyError } from '../../src/probe/mta-sts-policy.js';
import { MtaStsResolver, loadStsPolicy } from '../../src/probe/mta-sts.js';
import { generateCa, type Pem } from '../../src/tls/x509.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';
import { startDnsZone, type DnsZone, type ZoneRecord } from '../helpers/dns-zone.js';
import { startStsServer, stsPolicy, type StsServer } from '../helpers/sts-server.js';

describe('parseStsTxt', () => {
  it.each<[string, string[][], ReturnType<typeof parseStsTxt>]>([
    ['one record', [['v=STSv1; id=20261124T1']], { kind: 'id', id: '20261124T1' }],
    ['split into character-strings', [['v=STSv1; ', 'id=abc123']], { kind: 'id', id: 'abc123' }],
    ['other TXT records ignored', [['v=spf1 -all'], ['v=STSv1;id=x1']], { kind: 'id', id: 'x1' }],
    ['no STS record', [['v=spf1 -all']], { kind: 'none' }],
    ['no records', [], { kind: 'none' }],
    ['two STS records', [['v=STSv1; id=a'], ['v=STSv1; id=b']], { kind: 'invalid', reason: 'more than one v=STSv1 TXT record' }],
    ['no id', [['v=STSv1;']], { kind: 'invalid', reason: 'the v=STSv1 TXT record has no valid id (1-32 letters and digits)' }],
    ['id with punctuation', [['v=STSv1; id=a-b']], { kind: 'invalid', reason: 'the v=STSv1 TXT record has no valid id (1-32 letters and digits)' }],
    ['id longer than 32', [[`v=STSv1; id=${'a'.repeat(33)}`]], { kind: 'invalid', reason: 'the v=STSv1 TXT record has no valid id (1-32 letters and digits)' }],
    ['version is case-sensitive', [['v=stsv1; id=a']], { kind: 'none' }],
  ])('%s', (_name, records, expected) => {
    expect(parseStsTxt(records)).toEqual(expected);
  });
});

describe('parseStsPolicy', () => {
  it.each<[string, string, { mode: string; mx: string[]; maxAge: number }]>([
    ['enforce, CRLF', 'version: STSv1\r\nmode: enforce\r\nmx: mx1.example.net\r\nmx: *.example.net\r\nmax_age: 604800\r\n', { mode: 'enforce', mx: ['mx1.example.net', '*.example.net'], maxAge: 604800 }],
    ['testing, LF, upper-case names', 'version: STSv1\nmode: testing\nmx: MX.Example.NET\nmax_age: 86400\n', { mode: 'testing', mx: ['mx.example.net'], maxAge: 86400 }],
    ['none needs no mx', 'version: STSv1\nmode: none\nmax_age: 0\n', { mode: 'none', mx: [], maxAge: 0 }],
  ])('%s', (_name, body, expected) => {
    expect(parseStsPolicy('id1', body)).toEqual({ id: 'id1', ...expected });
  });

  it.each<[string, string]>([
    ['missing version', 'mode: enforce\nmx: mx.example.net\nmax_age: 86400\n'],
    ['unknown mode', 'version: STSv1\nmode: strict\nmx: mx.example.net\nmax_age: 86400\n'],
    ['enforce without mx', 'version: STSv1\nmode: enforce\nmax_age: 86400\n'],
    ['max_age beyond a year', 'version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 31557601\n'],
    ['no max_age', 'version: STSv1\nmode: enforce\nmx: mx.example.net\n'],
    ['bad mx pattern', 'version: STSv1\nmode: enforce\nmx: mx..example.net\nmax_age: 86400\n'],
    ['wildcard not leftmost', 'version: STSv1\nmode: enforce\nmx: mx.*.example.net\nmax_age: 86400\n'],
    ['an HTML page', '<html><body>hello</body></html>'],
  ])('%s is refused', (_name, body) => {
    expect(() => parseStsPolicy('id1', body)).toThrow(StsPolicyError);
  });
});

describe('stsMxMatches', () => {
  it.each<[string, string[], boolean]>([
    ['mx1.example.net', ['mx1.example.net'], true],
    ['MX1.Example.Net.', ['mx1.example.net'], true],
    ['mx2.example.net', ['mx1.example.net'], false],
    ['mx2.example.net', ['*.example.net'], true],
    ['a.mx.example.net', ['*.example.net'], false],
    ['example.net', ['*.example.net'], false],
    ['mx.example.net.evil.test', ['mx.example.net'], false],
    ['mxexample.net', ['*.example.net'], false],
    ['mx.other.net', ['mx.example.net', '*.other.net'], true],
  ])('%s against %j → %s', (host, patterns, expected) => {
    expect(stsMxMatches(host, patterns)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------

const DOMAIN = 'sts.test';
const HOST = `mta-sts.${DOMAIN}`;
let ca: Pem;
let otherCa: Pem;
let zone: DnsZone;
let records: ZoneRecord[];
let https: StsServer;
const dbs = bothDatabases();

function setTxt(data: string | undefined): void {
  const i = records.findIndex((r) => r.name === `_mta-sts.${DOMAIN}`);
  if (i >= 0) records.splice(i, 1);
  if (data !== undefined) records.push({ name: `_mta-sts.${DOMAIN}`, type: 'TXT', data });
}

beforeAll(async () => {
  ca = await generateCa({ commonName: 'STS Test CA' });
  otherCa = await generateCa({ commonName: 'Unrelated CA' });
  https = await startStsServer({ ip: '127.0.0.70', ca, hosts: [HOST, 'mta-sts.wrongname.test'] });
  records = [
    { name: HOST, type: 'A', address: '127.0.0.70' },
    { name: 'mta-sts.wrongname.test', type: 'A', address: '127.0.0.70' },
    { name: 'mta-sts.untrusted.test', type: 'A', address: '127.0.0.71' },
    { name: 'mta-sts.dead.test', type: 'A', address: '127.0.0.72' },
    { name: `_mta-sts.${DOMAIN}`, type: 'TXT', data: 'v=STSv1; id=one' },
  ];
  zone = await startDnsZone(records, { servfail: ['_mta-sts.servfail.test'] });
});

afterAll(async () => {
  await https?.close();
  await zone?.close();
});

function fetchOptions(trusted: Pem = ca): Parameters<typeof fetchStsPolicyText>[1] {
  return { resolver: createResolver({ servers: [zone.server] }), port: https.port, trustedCas: [trusted.certPem], timeoutMs: 5000, maxBytes: 64 * 1024 };
}

describe('fetchStsPolicyText over HTTPS', () => {
  it('fetches the policy through dns.servers, trusting the configured CA', async () => {
    https.answers.set(HOST, { body: stsPolicy('enforce', ['mx.sts.test']) });
    expect(await fetchStsPolicyText(DOMAIN, fetchOptions())).toBe(stsPolicy('enforce', ['mx.sts.test']));
  });

  it.each<[string, { status?: number; body?: string; contentType?: string; location?: string }, string]>([
    ['a 404', { status: 404 }, 'HTTP 404 from mta-sts.sts.test'],
    ['a redirect (never followed)', { status: 301, location: 'https://elsewhere.test/' }, 'HTTP 301 from mta-sts.sts.test (redirects are not followed)'],
    ['an HTML page', { body: '<html></html>', contentType: 'text/html' }, 'mta-sts.sts.test served the policy as "text/html", not text/plain'],
    ['a body over the size limit', { body: 'x'.repeat(70 * 1024) }, 'the policy from mta-sts.sts.test is larger than 65536 bytes'],
  ])('refuses %s', async (_name, answer, message) => {
    https.answers.set(HOST, answer);
    const err = await fetchStsPolicyText(DOMAIN, fetchOptions()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StsFetchError);
    expect(err).toMatchObject({ resultType: 'sts-policy-fetch-error', message });
  });

  it('refuses a certificate from a CA it does not trust (sts-webpki-invalid)', async () => {
    https.answers.set(HOST, { body: stsPolicy('enforce', ['mx.sts.test']) });
    const err = await fetchStsPolicyText(DOMAIN, fetchOptions(otherCa)).catch((e: unknown) => e);
    expect(err).toMatchObject({ resultType: 'sts-webpki-invalid' });
  });

  it('refuses a certificate that does not name mta-sts.<domain> (sts-webpki-invalid)', async () => {
    // the server's certificate names mta-sts.sts.test and mta-sts.wrongname.test, so point another name at it
    records.push({ name: 'mta-sts.alias.test', type: 'A', address: '127.0.0.70' });
    const err = await fetchStsPolicyText('alias.test', fetchOptions()).catch((e: unknown) => e);
    expect(err).toMatchObject({ resultType: 'sts-webpki-invalid' });
  });

  it('reports a host without address records and an unreachable host as fetch errors', async () => {
    expect(await fetchStsPolicyText('nowhere.test', fetchOptions()).catch((e: unknown) => e)).toMatchObject({ resultType: 'sts-policy-fetch-error', message: 'mta-sts.nowhere.test has no address records' });
    expect(await fetchStsPolicyText('dead.test', fetchOptions()).catch((e: unknown) => e)).toMatchObject({ resultType: 'sts-policy-fetch-error' });
  });
});

describe.each(DIALECTS)('MtaStsResolver on %s: cache, refresh and fail closed', (kind) => {
  const db = () => dbs.get(kind);
  let now = Date.UTC(2026, 10, 24, 12);
  const resolverFor = (): MtaStsResolver =>
    new MtaStsResolver({ db: db(), resolver: createResolver({ servers: [zone.server] }), now: () => now, recheckMs: 0, fetchText: (d) => fetchStsPolicyText(d, fetchOptions()) });
  const requests = (): number => https.requests.get(HOST) ?? 0;

  it('fetches a new policy, stores it until max_age, and serves it from the cache while the id is unchanged', async () => {
    setTxt('v=STSv1; id=one');
    https.answers.set(HOST, { body: stsPolicy('enforce', ['mx.sts.test', '*.mail.sts.test'], 3600) });
    const sts = resolverFor();
    const before = requests();
    const first = await sts.policyFor(DOMAIN);
    expect(first).toMatchObject({ source: 'fetched', policy: { id: 'one', mode: 'enforce', mx: ['mx.sts.test', '*.mail.sts.test'], maxAge: 3600, expiresAt: now + 3_600_000 } });
    now += 60_000;
    expect(await sts.policyFor(DOMAIN)).toMatchObject({ source: 'cache', policy: { id: 'one' } });
    expect(requests()).toBe(before + 1);
    expect(await loadStsPolicy(db(), DOMAIN)).toMatchObject({ id: 'one', mode: 'enforce' });
  });

  it('refetches when the TXT id changes', async () => {
    setTxt('v=STSv1; id=two');
    https.answers.set(HOST, { body: stsPolicy('testing', ['mx.sts.test'], 7200) });
    expect(await resolverFor().policyFor(DOMAIN)).toMatchObject({ source: 'fetched', policy: { id: 'two', mode: 'testing', maxAge: 7200 } });
  });

  it('keeps the cached policy when the new one cannot be fetched', async () => {
    setTxt('v=STSv1; id=three');
    https.answers.set(HOST, { status: 500 });
    const r = await resolverFor().policyFor(DOMAIN);
    expect(r).toMatchObject({ source: 'stale', failure: 'sts-policy-fetch-error', policy: { id: 'two', mode: 'testing' } });
  });

  it('keeps the cached policy when the new one is invalid', async () => {
    https.answers.set(HOST, { body: 'version: STSv1\nmode: enforce\nmax_age: 60\n' });
    expect(await resolverFor().policyFor(DOMAIN)).toMatchObject({ source: 'stale', failure: 'sts-policy-invalid', policy: { id: 'two' } });
  });

  it('keeps an expired policy when refreshing fails, rather than dropping to no policy', async () => {
    now += 3 * 3_600_000; // past max_age of policy "two"
    https.answers.set(HOST, { status: 503 });
    const r = await resolverFor().policyFor(DOMAIN);
    expect(r.source).toBe('stale');
    expect(r.policy?.id).toBe('two');
    expect(r.policy && r.policy.expiresAt < now).toBe(true);
  });

  it('keeps the cached policy when the TXT lookup fails', async () => {
    const servfail = new MtaStsResolver({ db: db(), resolver: createResolver({ servers: [zone.server], tries: 1, timeoutMs: 1000 }), now: () => now, recheckMs: 0, fetchText: () => Promise.reject(new Error('must not be called')) });
    await db().run(`UPDATE mta_sts_policies SET domain = 'servfail.test' WHERE domain = ?`, [DOMAIN]);
    try {
      const r = await servfail.policyFor('servfail.test');
      expect(r).toMatchObject({ source: 'stale', failure: 'sts-policy-fetch-error', policy: { id: 'two' } });
    } finally {
      await db().run(`UPDATE mta_sts_policies SET domain = ? WHERE domain = 'servfail.test'`, [DOMAIN]);
    }
  });

  it('without a TXT record, a current cached policy stays in force; an expired one is dropped', async () => {
    setTxt('v=STSv1; id=four');
    https.answers.set(HOST, { body: stsPolicy('enforce', ['mx.sts.test'], 3600) });
    expect(await resolverFor().policyFor(DOMAIN)).toMatchObject({ source: 'fetched', policy: { id: 'four' } });
    setTxt(undefined);
    now += 60_000;
    expect(await resolverFor().policyFor(DOMAIN)).toMatchObject({ source: 'cache', policy: { id: 'four' } });
    now += 2 * 3_600_000;
    expect(await resolverFor().policyFor(DOMAIN)).toEqual({ source: 'none' });
    expect(await loadStsPolicy(db(), DOMAIN)).toBeUndefined();
  });

  it('a domain without MTA-STS and without a cache has no policy', async () => {
    expect(await resolverFor().policyFor('plain.test')).toEqual({ source: 'none' });
  });

  it('an unreachable policy server without a cached policy: no policy, with the failure reported', async () => {
    // once for both databases' runs: a second identical TXT record would make the policy ambiguous
    if (!records.some((r) => r.name === '_mta-sts.dead.test')) records.push({ name: '_mta-sts.dead.test', type: 'TXT', data: 'v=STSv1; id=x' });
    const r = await resolverFor().policyFor('dead.test');
    expect(r).toMatchObject({ source: 'none', failure: 'sts-policy-fetch-error' });
  });
});
