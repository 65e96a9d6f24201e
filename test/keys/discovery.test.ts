/**
 * Discovery by DNS (OPENPGPKEY, SMIMEA) and by a key server, through
 * `lookupKeys` with the real transports: a dns2 zone on loopback (names in
 * `secure` answered with the AD bit, as a validating resolver does), a real
 * HTTPS VKS/HKP server under a test CA, keys made by GnuPG and certificates
 * by OpenSSL. Then `sealgate keys lookup` (the built CLI) with all sources.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as pkijs from 'pkijs';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { createResolver } from '../../src/delivery/dns.js';
import { dnssecKeyTransport } from '../../src/keys/dns-fetch.js';
import { dnsKeyNames } from '../../src/keys/dns-keys.js';
import { httpsKeyserverTransport, keyserverPaths } from '../../src/keys/keyserver.js';
import { lookupKeys, type LookupDeps } from '../../src/keys/lookup.js';
import { SqlLookupCache } from '../../src/keys/lookup-cache.js';
import { SqlKeyDirectory } from '../../src/keys/store.js';
import { loadTrustRoots } from '../../src/keys/trust-roots.js';
import { generateCa, pemBlocks, type Pem } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone, type ZoneRecord } from '../helpers/dns-zone.js';
import { runCli } from '../helpers/gateway.js';
import { haveTool } from '../helpers/peers.js';
import { makeCertFixtures, makePgpFixtures, type CertFixtureName, type CertFixtures, type PgpFixtures } from './fixtures.js';
import { startWkdServer, type WkdServer } from './wkd-server.js';

const live = haveTool('gpg') && haveTool('openssl') ? describe : describe.skip;

const KS_HOST = 'keys.example.net';
const pgpName = (address: string, variant = 0): string => dnsKeyNames(address, 'openpgpkey')[variant]?.name ?? '';
const smimeaName = (address: string): string => dnsKeyNames(address, 'smimea')[0]?.name ?? '';

let pgp: PgpFixtures | undefined;
let certs: CertFixtures | undefined;
let roots: readonly pkijs.Certificate[] = [];
let ca: Pem;
let zone: DnsZone;
const records: ZoneRecord[] = [];
let ks: WkdServer;
let dir: string;
let db: Database;

const fpr = (n: 'good' | 'twoUids' | 'expired'): string => pgp?.fpr[n] ?? '';
const bin = (n: 'good' | 'twoUids' | 'expired'): Buffer => pgp?.binary([n]) ?? Buffer.alloc(0);
const der = (n: CertFixtureName): Buffer => Buffer.from(pemBlocks(certs?.pem(n) ?? '', 'CERTIFICATE')[0] ?? new Uint8Array());
const smimea = (usage: number, selector: number, matching: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([usage, selector, matching]), data]);

/** GnuPG's own OPENPGPKEY records for a key (`--export-options export-dane`): owner name and RDATA per user ID. */
function gpgDaneRecords(fingerprint: string): { name: string; rdata: Buffer }[] {
  const text = execFileSync('gpg', ['--batch', '--export-options', 'export-dane', '--export', fingerprint.toUpperCase()], { env: { ...process.env, GNUPGHOME: pgp?.home ?? '' } }).toString('utf8');
  const out: { name: string; rdata: Buffer }[] = [];
  let origin = '';
  for (const m of text.matchAll(/^\$ORIGIN (\S+)\.$|^([0-9a-f]{56}) TYPE61 \\# \d+ \(\n([\s0-9a-f]*)\)/gm)) {
    if (m[1]) origin = m[1];
    else out.push({ name: `${m[2] ?? ''}.${origin}`, rdata: Buffer.from((m[3] ?? '').replace(/\s+/g, ''), 'hex') });
  }
  return out;
}

/** The zone's records for this test (the base A record stays). */
function publish(list: ZoneRecord[]): void {
  records.splice(0, records.length, { name: KS_HOST, type: 'A', address: '127.0.0.1' }, ...list);
}

function deps(extra: Partial<LookupDeps> = {}): LookupDeps {
  return {
    directory: new SqlKeyDirectory(db),
    cache: new SqlLookupCache(db),
    wkd: undefined,
    dns: dnssecKeyTransport([zone.server]),
    keyserver: { transport: httpsKeyserverTransport({ origin: { host: KS_HOST, port: ks.port }, resolver: createResolver({ servers: [zone.server] }), trustedCas: [ca.certPem] }), host: KS_HOST },
    smimeRoots: () => Promise.resolve(roots),
    now: Date.now,
    timeoutMs: 10_000,
    ttl: { positiveMs: 86_400_000, negativeMs: 600_000 },
    ...extra,
  };
}

function serveKs(address: string, method: 'vks' | 'hkp', answer: { body?: Buffer; status?: number; hang?: boolean }): void {
  const p = keyserverPaths(address)[method === 'vks' ? 0 : 1];
  ks.answers.set(`${KS_HOST}${p.path}`, answer);
}

beforeAll(async () => {
  if (!haveTool('gpg') || !haveTool('openssl')) return;
  pgp = makePgpFixtures(['good', 'twoUids', 'expired'], { twoUids: 'Alice Two <alice@example.org>', expired: 'Old Key <alice@example.org>' });
  certs = makeCertFixtures();
  roots = (await loadTrustRoots([certs.caFile])).certs;
  ca = await generateCa({ commonName: 'Key Server Test CA' });
  ks = await startWkdServer({ ip: '127.0.0.1', ca, hosts: [KS_HOST] });
  publish([]);
  zone = await startDnsZone(records, {
    secure: [pgpName('alice@example.org'), smimeaName('alice@example.org'), pgpName('Second@example.org', 0), pgpName('Second@example.org', 1), pgpName('fail@example.org')],
    servfail: [pgpName('fail@example.org')],
  });
});

afterAll(async () => {
  await ks?.close();
  await zone?.close();
  pgp?.cleanup();
  certs?.cleanup();
});

beforeEach(async () => {
  ks?.answers.clear();
  ks?.requests.clear();
  publish([]);
  dir = await mkdtemp(join(tmpdir(), 'sealgate-disc-'));
  db = await Database.open(join(dir, 'test.db'));
  await migrate(db);
});

afterEach(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

live('DNS OPENPGPKEY (RFC 7929)', () => {
  it('an authenticated answer: the key is stored with source dns and used; asked with the DO bit', async () => {
    publish([{ name: pgpName('alice@example.org'), type: 'OPENPGPKEY', rdata: bin('good') }]);
    const r = await lookupKeys('alice@example.org', deps({ keyserver: undefined }));
    expect(r.sources.openpgpkey).toMatchObject({ state: 'asked', outcome: 'found', method: 'as-written', detail: null });
    expect(r.sources.smimea).toMatchObject({ state: 'asked', outcome: 'not-found', detail: 'no SMIMEA record' });
    expect(r.sources.keyserver).toEqual({ state: 'disabled', detail: 'keys.discovery.keyserver is not set' });
    expect(r.found).toEqual([expect.objectContaining({ fingerprint: fpr('good'), kind: 'pgp', source: 'dns', method: 'as-written', valid: true, stored: 'inserted' })]);
    expect(r.used).toBe(fpr('good'));
    expect(await new SqlKeyDirectory(db).list({ address: 'alice@example.org' })).toEqual([expect.objectContaining({ fingerprint: fpr('good'), source: 'dns', valid: true })]);
    expect(zone.dnssecOk).toContain(`OPENPGPKEY ${pgpName('alice@example.org')}`);
  });

  it('an answer without the AD bit is not used: outcome insecure, nothing read or stored', async () => {
    publish([{ name: pgpName('alice@insecure.test'), type: 'OPENPGPKEY', rdata: bin('good') }]);
    const r = await lookupKeys('alice@insecure.test', deps({ keyserver: undefined }));
    expect(r.sources.openpgpkey).toMatchObject({ state: 'asked', outcome: 'insecure', detail: 'answer not DNSSEC-authenticated: not used' });
    expect(r.found).toEqual([]);
    expect(r.used).toBeUndefined();
    expect(await new SqlKeyDirectory(db).list({ address: 'alice@insecure.test' })).toEqual([]);
  });

  it('upper case in the local part: the lower-cased owner name is asked next, where GnuPG publishes (its own export-dane records)', async () => {
    // twoUids also carries the user ID "Two Uids <Second@Example.ORG>"; GnuPG lower-cases the local part
    const gnupg = gpgDaneRecords(fpr('twoUids'));
    expect(gnupg.map((g) => g.name)).toEqual([pgpName('alice@example.org'), pgpName('Second@example.org', 1)]);
    publish(gnupg.map((g) => ({ name: g.name, type: 'OPENPGPKEY' as const, rdata: g.rdata })));
    const r = await lookupKeys('Second@example.org', deps({ keyserver: undefined }));
    expect(r.sources.openpgpkey).toMatchObject({ outcome: 'found', method: 'lower-case' });
    expect(r.used).toBe(fpr('twoUids'));
    expect(zone.queries).toEqual(expect.arrayContaining([`OPENPGPKEY ${pgpName('Second@example.org', 0)}`, `OPENPGPKEY ${pgpName('Second@example.org', 1)}`]));
  });

  it('SERVFAIL is a failed lookup (the owner name not in the detail); data that is not OpenPGP is a failed lookup', async () => {
    const wrong = await lookupKeys('fail@example.org', deps({ keyserver: undefined }));
    expect(wrong.sources.openpgpkey).toMatchObject({ outcome: 'failed', detail: 'the OPENPGPKEY lookup failed (SERVFAIL)' });
    publish([{ name: pgpName('alice@example.org'), type: 'OPENPGPKEY', rdata: Buffer.from('not a key') }]);
    const junk = await lookupKeys('alice@example.org', deps({ keyserver: undefined, fresh: true }));
    expect(junk.sources.openpgpkey).toMatchObject({ outcome: 'failed', detail: 'the OPENPGPKEY record answered with data that is not OpenPGP keys' });
  });

  it('an address literal is not asked about', async () => {
    const before = zone.queries.length;
    const r = await lookupKeys('alice@[127.0.0.1]', deps({ keyserver: undefined }));
    expect(r.sources.openpgpkey).toMatchObject({ outcome: 'failed', detail: "the address's domain is not a DNS host name" });
    expect(zone.queries.length).toBe(before);
  });

  it('dns off (keys.discovery.dns false or dns.dnssecValidating false): no question asked, the reason reported', async () => {
    const before = zone.queries.length;
    const r = await lookupKeys('alice@example.org', deps({ dns: undefined, dnsOff: 'dns.dnssecValidating: false, so an answer could not be trusted', keyserver: undefined }));
    expect(r.sources.openpgpkey).toEqual({ state: 'disabled', detail: 'dns.dnssecValidating: false, so an answer could not be trusted' });
    expect(r.sources.smimea).toEqual({ state: 'disabled', detail: 'dns.dnssecValidating: false, so an answer could not be trusted' });
    expect(zone.queries.length).toBe(before);
  });
});

live('DNS SMIMEA (RFC 8162)', () => {
  const one = async (rdata: Buffer) => {
    publish([{ name: smimeaName('alice@example.org'), type: 'SMIMEA', rdata }]);
    return lookupKeys('alice@example.org', deps({ keyserver: undefined }));
  };

  it('usage 3 (DANE-EE): a certificate from a CA nobody trusts is valid — the signed record is the trust', async () => {
    const r = await one(smimea(3, 0, 0, der('otherCa')));
    expect(r.sources.smimea).toMatchObject({ outcome: 'found', method: 'as-written' });
    expect(r.found).toEqual([expect.objectContaining({ kind: 'smime', source: 'dns', valid: true, reason: 'valid', stored: 'inserted' })]);
    expect(r.keys).toEqual([expect.objectContaining({ kind: 'smime', source: 'dns', valid: true, details: expect.objectContaining({ smimea: 'dane-ee' }) })]);
    expect(r.used).toBe(r.keys[0]?.fingerprint);
  });

  it('usage 1 (PKIX-EE): the same certificate must chain to keys.smimeTrustRoots — untrusted', async () => {
    const r = await one(smimea(1, 0, 0, der('otherCa')));
    expect(r.found).toEqual([expect.objectContaining({ kind: 'smime', valid: false, reason: 'untrusted' })]);
    expect(r.used).toBeUndefined();
  });

  it('usage 1 (PKIX-EE) with a certificate from the trusted CA: valid', async () => {
    const r = await one(smimea(1, 0, 0, der('rsa')));
    expect(r.found).toEqual([expect.objectContaining({ kind: 'smime', valid: true, algorithm: 'RSA 2048' })]);
  });

  it('usage 3 does not lift the other checks: expired, or naming another address', async () => {
    expect((await one(smimea(3, 0, 0, der('expired')))).found).toEqual([expect.objectContaining({ valid: false, reason: 'expired' })]);
    publish([{ name: smimeaName('alice@example.org'), type: 'SMIMEA', rdata: smimea(3, 0, 0, der('wrongAddress')) }]);
    const r = await lookupKeys('alice@example.org', deps({ keyserver: undefined, fresh: true }));
    expect(r.sources.smimea).toMatchObject({ outcome: 'not-found', detail: 'the SMIMEA record served no end-entity certificate naming the address' });
    expect(r.found).toEqual([expect.objectContaining({ valid: false, reason: 'address-mismatch', stored: 'not-stored', notStoredWhy: 'address-mismatch' })]);
  });

  it('a full-certificate record whose data is not a certificate: a failed lookup, nothing stored', async () => {
    const r = await one(smimea(3, 0, 0, Buffer.from('3003020101', 'hex')));
    expect(r.sources.smimea).toMatchObject({ outcome: 'failed', detail: 'the SMIMEA record answered with data that is not certificates' });
    expect(r.keys).toEqual([]);
  });

  it.each<[string, Buffer, string]>([
    ['usage 2 (DANE-TA)', smimea(2, 0, 0, Buffer.from('30', 'hex')), 'no usable SMIMEA record: a trust-anchor record (usage 0 or 2) carries no recipient certificate'],
    ['a SHA-256 hash (3 0 1)', smimea(3, 0, 1, Buffer.alloc(32, 1)), 'no usable SMIMEA record: a hash or bare public key (selector or matching type not 0) cannot encrypt'],
  ])('%s: nothing to encrypt to', async (_name, rdata, detail) => {
    const r = await one(rdata);
    expect(r.sources.smimea).toMatchObject({ outcome: 'not-found', detail });
    expect(r.found).toEqual([]);
  });
});

live('HKPS / VKS key server', () => {
  it('VKS by-email answers: stored with source keyserver; HKP not asked', async () => {
    serveKs('alice@example.org', 'vks', { body: Buffer.from(pgp?.armored('good') ?? '') });
    const r = await lookupKeys('alice@example.org', deps({ dns: undefined }));
    expect(r.sources.keyserver).toMatchObject({ state: 'asked', outcome: 'found', method: 'vks' });
    expect(r.found).toEqual([expect.objectContaining({ fingerprint: fpr('good'), source: 'keyserver', method: 'vks', valid: true, stored: 'inserted' })]);
    expect(r.used).toBe(fpr('good'));
    expect(ks.requests.get(KS_HOST)).toBe(1);
  });

  it('VKS 404, HKP answers: method hkp; keys for other addresses in the HKP answer set aside', async () => {
    serveKs('alice@example.org', 'hkp', { body: pgp?.binary(['good', 'twoUids']) ?? Buffer.alloc(0) });
    const r = await lookupKeys('first@example.org', deps({ dns: undefined }));
    expect(r.sources.keyserver).toMatchObject({ outcome: 'not-found' });
    serveKs('first@example.org', 'hkp', { body: pgp?.binary(['good']) ?? Buffer.alloc(0) });
    const s = await lookupKeys('first@example.org', deps({ dns: undefined, fresh: true }));
    expect(s.sources.keyserver).toMatchObject({ outcome: 'not-found', method: 'hkp', detail: 'the HKP answer served no key naming the address' });
    expect(s.found).toEqual([expect.objectContaining({ fingerprint: fpr('good'), stored: 'not-stored', notStoredWhy: 'address-mismatch' })]);
    const t = await lookupKeys('alice@example.org', deps({ dns: undefined }));
    expect(t.sources.keyserver).toMatchObject({ outcome: 'found', method: 'hkp' });
  });

  it('neither has a key: not-found with both answers named', async () => {
    const r = await lookupKeys('nobody@example.org', deps({ dns: undefined }));
    expect(r.sources.keyserver).toMatchObject({ outcome: 'not-found', detail: `HTTP 404 from VKS on ${KS_HOST}; HTTP 404 from HKP on ${KS_HOST}` });
    expect(ks.requests.get(KS_HOST)).toBe(2);
  });

  it('a key server that never answers does not hold up the others: DNS found, key server timeout, within the one deadline', async () => {
    serveKs('alice@example.org', 'vks', { hang: true });
    publish([{ name: pgpName('alice@example.org'), type: 'OPENPGPKEY', rdata: bin('good') }]);
    const r = await lookupKeys('alice@example.org', deps({ timeoutMs: 1500 }));
    expect(r.sources.openpgpkey).toMatchObject({ outcome: 'found' });
    expect(r.sources.keyserver).toMatchObject({ outcome: 'timeout' });
    expect(r.used).toBe(fpr('good'));
    // cached per source: the next lookup within the TTL asks nobody
    const requests = ks.requests.get(KS_HOST);
    const again = await lookupKeys('alice@example.org', deps({ timeoutMs: 1500 }));
    expect(again.sources.keyserver).toMatchObject({ state: 'cached', outcome: 'timeout' });
    expect(again.sources.openpgpkey).toMatchObject({ state: 'cached', outcome: 'found' });
    expect(ks.requests.get(KS_HOST)).toBe(requests);
  });
});

live('several sources, one address', () => {
  it('DNS and the key server serve different valid keys: the DNS key is stored and used, the key-server key not stored', async () => {
    publish([{ name: pgpName('alice@example.org'), type: 'OPENPGPKEY', rdata: bin('good') }]);
    serveKs('alice@example.org', 'vks', { body: bin('twoUids') });
    const r = await lookupKeys('alice@example.org', deps());
    expect(r.found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ fingerprint: fpr('good'), source: 'dns', stored: 'inserted' }),
        expect.objectContaining({ fingerprint: fpr('twoUids'), source: 'keyserver', stored: 'not-stored', notStoredWhy: 'trusted-source-key-present' }),
      ]),
    );
    expect(r.used).toBe(fpr('good'));
    expect(r.why[fpr('twoUids')]).toBe('trusted-source-key-present');
    // the key server alone later: still not stored, the address's key does not change
    publish([]);
    const again = await lookupKeys('alice@example.org', deps({ fresh: true }));
    expect(again.keys.map((k) => [k.fingerprint, k.source])).toEqual([[fpr('good'), 'dns']]);
  });

  it('a key-server key, then a different DNS key: the DNS key replaces it and the change is audited', async () => {
    serveKs('alice@example.org', 'vks', { body: bin('twoUids') });
    expect((await lookupKeys('alice@example.org', deps())).used).toBe(fpr('twoUids'));
    publish([{ name: pgpName('alice@example.org'), type: 'OPENPGPKEY', rdata: bin('good') }]);
    const r = await lookupKeys('alice@example.org', deps({ fresh: true }));
    expect(r.keys.map((k) => [k.fingerprint, k.source])).toEqual([[fpr('good'), 'dns']]);
    expect(r.found).toEqual(expect.arrayContaining([expect.objectContaining({ fingerprint: fpr('twoUids'), source: 'keyserver', stored: 'not-stored', notStoredWhy: 'trusted-source-key-present' })]));
    const events = await db.all<{ data: string }>("SELECT data FROM audit_log WHERE type = 'keys:stored' ORDER BY seq");
    expect(events.map((e) => JSON.parse(e.data) as Record<string, unknown>)).toEqual([
      { fingerprint: fpr('twoUids'), kind: 'pgp', address: 'alice@example.org', source: 'keyserver', verdict: 'valid' },
      { fingerprint: fpr('good'), kind: 'pgp', address: 'alice@example.org', source: 'dns', verdict: 'valid', replaced: [fpr('twoUids')] },
    ]);
  });

  it('the same key from DNS and the key server: stored once, source dns', async () => {
    publish([{ name: pgpName('alice@example.org'), type: 'OPENPGPKEY', rdata: bin('good') }]);
    serveKs('alice@example.org', 'vks', { body: bin('good') });
    const r = await lookupKeys('alice@example.org', deps());
    expect(r.found.map((f) => [f.source, f.stored])).toEqual([
      ['dns', 'inserted'],
      ['keyserver', 'updated'],
    ]);
    expect(r.keys.map((k) => [k.fingerprint, k.source])).toEqual([[fpr('good'), 'dns']]);
  });

  it('an invalid DNS key does not block a valid key-server key; the valid one is used', async () => {
    publish([{ name: pgpName('alice@example.org'), type: 'OPENPGPKEY', rdata: bin('expired') }]);
    serveKs('alice@example.org', 'vks', { body: bin('good') });
    const r = await lookupKeys('alice@example.org', deps());
    expect(r.used).toBe(fpr('good'));
    expect(r.why[fpr('expired')]).toBe('expired');
  });
});

live('sealgate keys lookup with DNS and a key server', () => {
  it('text and JSON name every source', async () => {
    const target = join(dir, 'etc');
    expect((await runCli(['init', target])).code).toBe(0);
    const file = join(target, 'sealgate.yaml');
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, ca.certPem);
    const doc = parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown> | undefined>;
    doc.dns = { ...(doc.dns ?? {}), servers: [zone.server], dnssecValidating: true };
    doc.tls = { ...(doc.tls ?? {}), trustedCaFiles: [caFile] };
    doc.keys = { ...(doc.keys ?? {}), smimeTrustRoots: [certs?.caFile ?? ''], discovery: { wkd: false, timeout: '10s', keyserver: `https://${KS_HOST}:${ks.port}` } };
    await writeFile(file, stringify(doc));
    publish([
      { name: pgpName('alice@example.org'), type: 'OPENPGPKEY', rdata: bin('good') },
      { name: smimeaName('alice@example.org'), type: 'SMIMEA', rdata: smimea(3, 0, 0, der('otherCa')) },
    ]);
    serveKs('alice@example.org', 'vks', { body: bin('twoUids') });
    const r = await runCli(['-c', file, 'keys', 'lookup', 'alice@example.org']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 5)).toEqual(['address: alice@example.org', 'wkd: off (keys.discovery.wkd: false)', 'openpgpkey: found (as-written owner name)', 'smimea: found (as-written owner name)', 'keyserver: found (vks protocol)']);
    expect(lines).toContain(`${fpr('twoUids')}\tpgp\tkeyserver [not-stored]\tvalid\tnot used: not stored: the address has a valid key from a more trusted source (DNS, then WKD, then key server)`);
    expect(lines.filter((l) => /\tdns \[inserted\]\tvalid\t/.test(l))).toHaveLength(2);
    const json = await runCli(['-c', file, 'keys', 'lookup', 'alice@example.org', '--json']);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['address', 'wkd', 'openpgpkey', 'smimea', 'keyserver', 'keys', 'used']);
    expect(parsed.openpgpkey).toEqual({ state: 'cached', outcome: 'found', method: 'as-written', detail: null, checkedAt: expect.any(Number) });
    expect(parsed.keyserver).toMatchObject({ state: 'cached', outcome: 'found', method: 'vks' });
    const smime = (parsed.keys as { kind: string; fingerprint: string }[]).find((k) => k.kind === 'smime');
    const show = await runCli(['-c', file, 'keys', 'show', smime?.fingerprint ?? '']);
    expect(show.stdout).toContain('trust: DNS SMIMEA record, usage 3 (DANE-EE): DNSSEC-authenticated, no CA chain needed\n');
    expect(show.stdout).toContain('address alice@example.org: valid; source dns');
  });
});
