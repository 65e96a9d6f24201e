/**
 * WKD discovery: the addressing as tables, then `lookupKeys` against a real
 * HTTPS WKD server on 127.0.0.1 (test-CA certificate), a real dns2 zone, a
 * real SQLite directory and keys made by real GnuPG. Loopback only; no
 * timing assertions (the slow server is judged by its outcome).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { createResolver } from '../../src/delivery/dns.js';
import { chooseKey } from '../../src/keys/choose.js';
import { readKeyFile, recordFor } from '../../src/keys/import.js';
import { lookupKeys, type LookupDeps } from '../../src/keys/lookup.js';
import { SqlLookupCache } from '../../src/keys/lookup-cache.js';
import { SqlKeyDirectory } from '../../src/keys/store.js';
import { wkdHash, wkdLocations, zbase32 } from '../../src/keys/wkd.js';
import { fetchWkd, httpsWkdTransport, MAX_WKD_BYTES } from '../../src/keys/wkd-fetch.js';
import { generateCa, type Pem } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone, type ZoneRecord } from '../helpers/dns-zone.js';
import { haveTool } from '../helpers/peers.js';
import { makePgpFixtures, type PgpFixtures } from './fixtures.js';
import { startWkdServer, type WkdServer } from './wkd-server.js';

describe('WKD addressing', () => {
  it('hashes the lower-cased local part: the draft\'s example', () => {
    expect(wkdHash('Joe.Doe')).toBe('iy9q119eutrkn8s1mk4r39qejnbu3n5q');
    expect(wkdHash('joe.doe')).toBe('iy9q119eutrkn8s1mk4r39qejnbu3n5q');
  });

  it.each<[number[], string]>([
    [[], ''],
    [[0], 'yy'],
    [[0xff], '9h'],
    [[0xf0, 0xbf, 0xc7], '6n9hq'],
  ])('z-base-32 of %j is %j', (bytes, text) => {
    expect(zbase32(Uint8Array.from(bytes))).toBe(text);
  });

  it('advanced first, then direct; the local part kept as written in l=', () => {
    expect(wkdLocations('Joe.Doe@example.org')).toEqual([
      { method: 'advanced', host: 'openpgpkey.example.org', path: '/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe' },
      { method: 'direct', host: 'example.org', path: '/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe' },
    ]);
  });
});

describe('fetchWkd refuses a domain that is not a DNS host name, without a request', () => {
  it.each(['a@[127.0.0.1]', 'a@example.org:8443', 'a@example.org/x', 'a@localhost'])('%s', async (address) => {
    let asked = 0;
    const r = await fetchWkd(address, {
      transport: () => {
        asked++;
        return Promise.resolve({ status: 404, body: Buffer.alloc(0) });
      },
      now: Date.now,
      deadline: Date.now() + 1000,
    });
    expect(r).toEqual({ outcome: 'failed', detail: "the address's domain is not a DNS host name" });
    expect(asked).toBe(0);
  });
});

describe('keys.discovery config', () => {
  const base = { smtp: { listeners: [{ name: 'relay', tls: 'none' }] }, connectors: [{ name: 'c', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'] }] };
  it('defaults: WKD on, 5 s for the whole lookup, 1 d / 10 min cache, port 443', () => {
    expect(validateConfig(base, 't').keys.discovery).toEqual({ wkd: true, timeout: 5_000, positiveTtl: 86_400_000, negativeTtl: 600_000, httpsPort: 443, dns: true, keyserver: null });
  });
  it('durations as text; wkd can be turned off', () => {
    expect(validateConfig({ ...base, keys: { discovery: { wkd: false, timeout: '2s', negativeTtl: '1m' } } }, 't').keys.discovery).toMatchObject({ wkd: false, timeout: 2_000, negativeTtl: 60_000 });
  });
  it('keys.discovery.keyserver: an https or hkps URL with nothing but host and port; dns can be turned off', () => {
    expect(validateConfig({ ...base, keys: { discovery: { keyserver: 'https://keys.openpgp.org', dns: false } } }, 't').keys.discovery).toMatchObject({ keyserver: 'https://keys.openpgp.org', dns: false });
    expect(() => validateConfig({ ...base, keys: { discovery: { keyserver: 'http://keys.openpgp.org' } } }, 't')).toThrow(/keys\.discovery\.keyserver: got "http:\/\/keys\.openpgp\.org": expected an https:\/\/ or hkps:\/\/ URL/);
  });
  it('an unknown key is refused with its path', () => {
    expect(() => validateConfig({ ...base, keys: { discovery: { keyservers: true } } }, 't')).toThrow(/keys\.discovery: unknown key "keyservers"/);
  });
});

describe('chooseKey', () => {
  const k = (fingerprint: string, source: 'admin' | 'wkd', valid: boolean, createdAt = 1, expiresAt: number | null = null) => ({ fingerprint, source, valid, reason: valid ? ('valid' as const) : ('revoked' as const), createdAt, expiresAt });
  it.each<[string, ReturnType<typeof k>[], string | undefined, Record<string, string>]>([
    ['no keys', [], undefined, {}],
    ['an admin key before a discovered one', [k('a', 'wkd', true, 5), k('b', 'admin', true, 1)], 'b', { a: 'admin-key-preferred', b: 'used' }],
    ['the newer of two discovered keys', [k('a', 'wkd', true, 1), k('b', 'wkd', true, 2)], 'b', { a: 'another-key-preferred', b: 'used' }],
    ['an invalid admin key is not used', [k('a', 'admin', false), k('b', 'wkd', true)], 'b', { a: 'revoked', b: 'used' }],
    ['a key expired since it was checked', [k('a', 'admin', true, 1, 50)], undefined, { a: 'expired' }],
  ])('%s', (_name, rows, used, why) => {
    expect(chooseKey(rows, 100)).toEqual({ used, why });
  });
});

// ---------------------------------------------------------------------------

const live = haveTool('gpg') ? describe : describe.skip;

let pgp: PgpFixtures | undefined;

let ca: Pem;
let zone: DnsZone;
let records: ZoneRecord[];
let server: WkdServer;
let dir: string;
let db: Database;

const ADVANCED: ZoneRecord = { name: 'openpgpkey.example.org', type: 'A', address: '127.0.0.1' };

function serve(address: string, method: 'advanced' | 'direct', answer: { body?: Buffer; status?: number; hang?: boolean; location?: string }): void {
  const loc = wkdLocations(address)[method === 'advanced' ? 0 : 1];
  server.answers.set(`${loc.host}${loc.path}`, answer);
}

function advancedHost(on: boolean): void {
  const i = records.indexOf(ADVANCED);
  if (i >= 0) records.splice(i, 1);
  if (on) records.push(ADVANCED);
}

function requests(): number {
  return [...server.requests.values()].reduce((a, b) => a + b, 0);
}

function deps(extra: Partial<LookupDeps> = {}): LookupDeps {
  return {
    directory: new SqlKeyDirectory(db),
    cache: new SqlLookupCache(db),
    wkd: httpsWkdTransport({ resolver: createResolver({ servers: [zone.server] }), port: server.port, trustedCas: [ca.certPem] }),
    now: Date.now,
    timeoutMs: 10_000,
    ttl: { positiveMs: 86_400_000, negativeMs: 600_000 },
    ...extra,
  };
}

live('lookupKeys against a WKD server on loopback', () => {
  const fpr = (n: 'good' | 'expired' | 'rsa' | 'twoUids'): string => pgp?.fpr[n] ?? '';
  const bin = (n: 'good' | 'expired' | 'rsa' | 'twoUids'): Buffer => pgp?.binary([n]) ?? Buffer.alloc(0);

  beforeAll(async () => {
    pgp = makePgpFixtures(['good', 'expired', 'rsa', 'twoUids'], { rsa: 'Carol Admin <carol@example.org>', twoUids: 'Carol Wkd <carol@example.org>' });
    ca = await generateCa({ commonName: 'WKD Test CA' });
    server = await startWkdServer({ ip: '127.0.0.1', ca, hosts: ['example.org', 'openpgpkey.example.org'] });
    records = [{ name: 'example.org', type: 'A', address: '127.0.0.1' }];
    zone = await startDnsZone(records);
  });

  afterAll(async () => {
    await server?.close();
    await zone?.close();
    pgp?.cleanup();
  });

  beforeEach(async () => {
    server.answers.clear();
    server.requests.clear();
    advancedHost(false);
    dir = await mkdtemp(join(tmpdir(), 'sealgate-wkd-'));
    db = await Database.open(join(dir, 'test.db'));
    await migrate(db);
  });

  afterEach(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('direct method only (no openpgpkey host): the key is stored with source wkd and used', async () => {
    serve('alice@example.org', 'direct', { body: bin('good') });
    const r = await lookupKeys('alice@example.org', deps());
    expect(r.wkd).toMatchObject({ state: 'asked', outcome: 'found', method: 'direct' });
    expect(r.found).toEqual([expect.objectContaining({ fingerprint: fpr('good'), source: 'wkd', method: 'direct', valid: true, reason: 'valid', stored: 'inserted' })]);
    expect(r.used).toBe(fpr('good'));
    expect(r.why).toEqual({ [fpr('good')]: 'used' });
    const rows = await new SqlKeyDirectory(db).list({ address: 'alice@example.org' });
    expect(rows).toEqual([expect.objectContaining({ fingerprint: fpr('good'), source: 'wkd', valid: true })]);
    expect(server.requests.get('openpgpkey.example.org')).toBeUndefined();
    expect(server.requests.get('example.org')).toBe(1);
  });

  it('advanced method when openpgpkey.<domain> resolves: the direct host is not asked', async () => {
    advancedHost(true);
    serve('alice@example.org', 'advanced', { body: bin('good') });
    const r = await lookupKeys('alice@example.org', deps());
    expect(r.wkd).toMatchObject({ state: 'asked', outcome: 'found', method: 'advanced' });
    expect(r.used).toBe(fpr('good'));
    expect(server.requests.get('openpgpkey.example.org')).toBe(1);
    expect(server.requests.get('example.org')).toBeUndefined();
  });

  it('advanced host answering 404: falls back to the direct method', async () => {
    advancedHost(true);
    serve('alice@example.org', 'direct', { body: bin('good') });
    const r = await lookupKeys('alice@example.org', deps());
    expect(r.wkd).toMatchObject({ outcome: 'found', method: 'direct' });
    expect(server.requests.get('openpgpkey.example.org')).toBe(1);
  });

  it('an advanced host whose certificate does not verify: falls back to the direct method', async () => {
    const untrusted = await startWkdServer({ ip: '127.0.0.2', port: server.port, ca: await generateCa({ commonName: 'Unrelated CA' }), hosts: ['openpgpkey.example.org'] });
    const other: ZoneRecord = { name: 'openpgpkey.example.org', type: 'A', address: '127.0.0.2' };
    records.push(other);
    try {
      serve('alice@example.org', 'direct', { body: bin('good') });
      const r = await lookupKeys('alice@example.org', deps());
      expect(r.wkd).toMatchObject({ outcome: 'found', method: 'direct' });
      expect(r.used).toBe(fpr('good'));
      expect(untrusted.requests.size).toBe(0);
    } finally {
      records.splice(records.indexOf(other), 1);
      await untrusted.close();
    }
  });

  it('a key whose user IDs do not name the address is neither stored nor used', async () => {
    serve('bob@example.org', 'direct', { body: bin('good') });
    const r = await lookupKeys('bob@example.org', deps());
    expect(r.wkd).toMatchObject({ state: 'asked', outcome: 'not-found', detail: 'the direct method served no key naming the address' });
    expect(r.found).toEqual([expect.objectContaining({ fingerprint: fpr('good'), valid: false, reason: 'address-mismatch', stored: 'not-stored', notStoredWhy: 'address-mismatch' })]);
    expect(r.used).toBeUndefined();
    expect(r.why).toEqual({ [fpr('good')]: 'address-mismatch' });
    expect(await new SqlKeyDirectory(db).list()).toEqual([]);
  });

  it('an expired key is stored as invalid and not used', async () => {
    serve('expired@example.org', 'direct', { body: bin('expired') });
    const r = await lookupKeys('expired@example.org', deps());
    expect(r.found).toEqual([expect.objectContaining({ fingerprint: fpr('expired'), valid: false, reason: 'expired', stored: 'inserted' })]);
    expect(r.used).toBeUndefined();
    expect(r.why).toEqual({ [fpr('expired')]: 'expired' });
    expect(await new SqlKeyDirectory(db).list({ address: 'expired@example.org' })).toEqual([expect.objectContaining({ source: 'wkd', valid: false, reason: 'expired' })]);
  });

  it('an admin key is kept and used when WKD serves a different key', async () => {
    const now = Date.now();
    const [admin] = await readKeyFile(bin('rsa'), [], now);
    if (!admin) throw new Error('no admin key');
    await new SqlKeyDirectory(db).put(recordFor(admin, 'carol@example.org', 'admin', now), { operator: 'test' });
    serve('carol@example.org', 'direct', { body: bin('twoUids') });
    const r = await lookupKeys('carol@example.org', deps());
    expect(r.found).toEqual([expect.objectContaining({ fingerprint: fpr('twoUids'), valid: true, stored: 'not-stored', notStoredWhy: 'admin-key-present' })]);
    expect(r.used).toBe(fpr('rsa'));
    expect(r.why).toEqual({ [fpr('rsa')]: 'used', [fpr('twoUids')]: 'admin-key-present' });
    expect((await new SqlKeyDirectory(db).list({ address: 'carol@example.org' })).map((k) => [k.fingerprint, k.source])).toEqual([[fpr('rsa'), 'admin']]);
  });

  it('a new valid key replaces the discovered one; the change is audited with the replaced fingerprint', async () => {
    serve('carol@example.org', 'direct', { body: bin('rsa') });
    expect((await lookupKeys('carol@example.org', deps())).used).toBe(fpr('rsa'));
    serve('carol@example.org', 'direct', { body: bin('twoUids') });
    const r = await lookupKeys('carol@example.org', deps({ fresh: true }));
    expect(r.found).toEqual([expect.objectContaining({ fingerprint: fpr('twoUids'), stored: 'inserted' })]);
    expect(r.used).toBe(fpr('twoUids'));
    expect((await new SqlKeyDirectory(db).list({ address: 'carol@example.org' })).map((k) => k.fingerprint)).toEqual([fpr('twoUids')]);
    const events = await db.all<{ type: string; data: string }>("SELECT type, data FROM audit_log WHERE type = 'keys:stored' ORDER BY seq");
    expect(events.map((e) => JSON.parse(e.data) as Record<string, unknown>)).toEqual([
      { fingerprint: fpr('rsa'), kind: 'pgp', address: 'carol@example.org', source: 'wkd', verdict: 'valid' },
      { fingerprint: fpr('twoUids'), kind: 'pgp', address: 'carol@example.org', source: 'wkd', verdict: 'valid', replaced: [fpr('rsa')] },
    ]);
  });

  it('404 is cached negatively: a second lookup within the TTL makes no request; --fresh does', async () => {
    const first = await lookupKeys('dave@example.org', deps());
    expect(first.wkd).toMatchObject({ state: 'asked', outcome: 'not-found', detail: 'HTTP 404 from example.org' });
    expect(first.used).toBeUndefined();
    const asked = requests();
    expect(asked).toBe(1);
    const second = await lookupKeys('dave@example.org', deps());
    expect(second.wkd).toMatchObject({ state: 'cached', outcome: 'not-found', detail: 'HTTP 404 from example.org' });
    expect(requests()).toBe(asked);
    const later = await lookupKeys('dave@example.org', deps({ now: () => Date.now() + 600_001 }));
    expect(later.wkd.state).toBe('asked');
    expect(requests()).toBe(asked + 1);
    const fresh = await lookupKeys('dave@example.org', deps({ fresh: true }));
    expect(fresh.wkd.state).toBe('asked');
    expect(requests()).toBe(asked + 2);
  });

  it('a found key is reused from the directory within the positive TTL', async () => {
    serve('alice@example.org', 'direct', { body: bin('good') });
    await lookupKeys('alice@example.org', deps());
    const again = await lookupKeys('alice@example.org', deps());
    expect(again.wkd).toMatchObject({ state: 'cached', outcome: 'found', method: 'direct' });
    expect(again.used).toBe(fpr('good'));
    expect(requests()).toBe(1);
  });

  it('an answer over the size limit is refused', async () => {
    serve('big@example.org', 'direct', { body: Buffer.alloc(MAX_WKD_BYTES + 1024, 0x99) });
    const r = await lookupKeys('big@example.org', deps());
    expect(r.wkd).toMatchObject({ state: 'asked', outcome: 'failed', detail: `the answer from example.org is larger than ${MAX_WKD_BYTES} bytes` });
    expect(r.found).toEqual([]);
    expect(r.used).toBeUndefined();
  });

  it('a redirect is not followed: a failed lookup, the other host never asked', async () => {
    serve('moved@example.org', 'direct', { status: 301, location: 'https://keys.elsewhere.test/alice' });
    const r = await lookupKeys('moved@example.org', deps());
    expect(r.wkd).toMatchObject({ outcome: 'failed', detail: 'HTTP 301 from example.org (redirects are not followed)' });
    expect(requests()).toBe(1);
  });

  it('data that is not OpenPGP is a failed lookup, nothing stored', async () => {
    serve('junk@example.org', 'direct', { body: Buffer.from('<html>hello</html>') });
    const r = await lookupKeys('junk@example.org', deps());
    expect(r.wkd).toMatchObject({ outcome: 'failed', detail: 'the direct method answered with data that is not OpenPGP keys' });
    expect(await new SqlKeyDirectory(db).list()).toEqual([]);
  });

  it('a server that never answers: the configured time limit ends the lookup with no key (cached negatively)', async () => {
    serve('slow@example.org', 'direct', { hang: true });
    const r = await lookupKeys('slow@example.org', deps({ timeoutMs: 300 }));
    expect(r.wkd).toMatchObject({ state: 'asked', outcome: 'timeout' });
    expect(r.found).toEqual([]);
    expect(r.used).toBeUndefined();
    const again = await lookupKeys('slow@example.org', deps({ timeoutMs: 300 }));
    expect(again.wkd).toMatchObject({ state: 'cached', outcome: 'timeout' });
  });

  it('keys.discovery.wkd off: no request, the directory still answers', async () => {
    serve('alice@example.org', 'direct', { body: bin('good') });
    const r = await lookupKeys('alice@example.org', deps({ wkd: undefined }));
    expect(r.wkd).toEqual({ state: 'disabled' });
    expect(r.used).toBeUndefined();
    expect(requests()).toBe(0);
  });
});
