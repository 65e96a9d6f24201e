/**
 * S/MIME revocation against real peers: OpenSSL's OCSP responder and CRLs
 * made by `openssl ca -revoke` / `-gencrl`, served on loopback, the URLs'
 * host name resolved by a real DNS server (dns2) as dns.servers would be.
 * Table tests for the pure parts (freshness, URL filter, when a re-check is
 * due, which locations a certificate names).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { lookupKeys } from '../../src/keys/lookup.js';
import { SqlLookupCache } from '../../src/keys/lookup-cache.js';
import { SqlKeyDirectory } from '../../src/keys/store.js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/delivery/dns.js';
import { readKeyFile, recordFor, type KeyCandidate } from '../../src/keys/import.js';
import { checkRevocation, httpRevocationTransport, withRequestLimit, type RevocationDeps } from '../../src/keys/revocation.js';
import { judgeCrl } from '../../src/keys/revocation-crl.js';
import { CLOCK_SKEW_MS, judgeOcspAnswer, staleness } from '../../src/keys/revocation-ocsp.js';
import { recheckRevocation, revocationDue } from '../../src/keys/revocation-record.js';
import { fetchableUrl, findIssuer, revocationSources } from '../../src/keys/revocation-sources.js';
import { readCertificates } from '../../src/keys/smime.js';
import { loadTrustRoots } from '../../src/keys/trust-roots.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeRevocationPki, revAddress, type RevLeaf, type RevocationPki } from './revocation-fixtures.js';

const HOST = '127.0.0.7';
const NAME = 'pki.revoke.test';
let pki: RevocationPki | undefined;
let zone: DnsZone | undefined;
let roots: readonly pkijs.Certificate[] = [];
let deps: RevocationDeps;

beforeAll(async () => {
  if (!haveTool('openssl')) return;
  zone = await startDnsZone([{ name: NAME, type: 'A', address: HOST }]);
  pki = await makeRevocationPki(HOST, NAME);
  roots = (await loadTrustRoots([pki.caFile])).certs;
  const resolver = createResolver({ servers: [zone.server], timeoutMs: 2000, tries: 1 });
  deps = { transport: httpRevocationTransport({ resolver, trustedCas: [] }), now: Date.now, timeoutMs: 10_000 };
}, 120_000);

afterAll(async () => {
  await pki?.close();
  await zone?.close();
});

/** null: without revocation deps (checking off). */
async function imported(name: RevLeaf, revocation: RevocationDeps | null = deps): Promise<KeyCandidate> {
  const [c] = await readKeyFile(readFileSync(pki?.file[name] ?? ''), roots, Date.now(), revocation ?? undefined);
  if (!c || c.kind !== 'smime') throw new Error('no certificate');
  return c;
}

describe('revocation checked at import against real OpenSSL peers', () => {
  it.for<[string, RevLeaf, boolean | null, 'ocsp' | 'crl' | null, string]>([
    ['OCSP good → not revoked, valid', 'ocspGood', false, 'ocsp', 'valid'],
    ['OCSP revoked → invalid: revoked', 'ocspRevoked', true, 'ocsp', 'revoked'],
    ['OCSP says revoked, the (older) CRL does not: OCSP is preferred → revoked', 'ocspRevokedCrlGood', true, 'ocsp', 'revoked'],
    ['no OCSP responder, CRL lists it → invalid: revoked', 'crlRevoked', true, 'crl', 'revoked'],
    ['no OCSP responder, CRL does not list it → not revoked', 'crlGood', false, 'crl', 'valid'],
    ['answer signed by the CA\'s delegated OCSP responder (id-kp-OCSPSigning) → not revoked', 'delegated', false, 'ocsp', 'valid'],
    ['OCSP responder down → not checked, still valid', 'ocspDown', null, null, 'valid'],
    ['OCSP answer signed by a CA that did not issue the certificate → not checked, still valid', 'badSigner', null, null, 'valid'],
    ['OCSP answer signed by a certificate of the CA without id-kp-OCSPSigning → not checked, still valid', 'delegatedNoEku', null, null, 'valid'],
    ['CRL whose nextUpdate passed (2021) → not checked, still valid', 'staleCrl', null, null, 'valid'],
  ])('%s', async ([, name, revoked, method, reason], ctx) => {
    requireTool(ctx, 'openssl');
    const c = await imported(name);
    const r = recordFor(c, revAddress(name), 'admin', Date.now());
    expect(r.revoked).toBe(revoked);
    expect(r.reason).toBe(reason);
    expect(r.valid).toBe(reason === 'valid');
    expect(r.details.revocation).toBe(method === null ? 'not checked' : 'checked');
    expect(r.details.revocationMethod).toBe(method ?? undefined);
    if (method === null) expect(r.details.revocationNote).toEqual(expect.any(String));
    else expect(r.details.revocationCheckedAt).toEqual(expect.any(Number));
  });

  it('says why it was not checked: the responder down, the wrong signer, a CA certificate without OCSPSigning as signer, the stale CRL', async (ctx) => {
    requireTool(ctx, 'openssl');
    expect((await imported('ocspDown')).info).toMatchObject({ revocation: { state: 'not-checked', detail: expect.stringMatching(/^OCSP 127\.0\.0\.1:\d+: /) } });
    expect((await imported('badSigner')).info).toMatchObject({ revocation: { state: 'not-checked', detail: expect.stringContaining('not signed by the issuer or a responder it authorised') } });
    expect((await imported('delegatedNoEku')).info).toMatchObject({ revocation: { state: 'not-checked', detail: expect.stringContaining('not signed by the issuer or a responder it authorised') } });
    expect((await imported('staleCrl')).info).toMatchObject({ revocation: { state: 'not-checked', detail: expect.stringContaining('the CRL is stale: its nextUpdate 2021-01-08T00:00:00.000Z has passed') } });
  });

  it('without revocation deps (keys.revocation.enabled false) nothing is asked and the record says not checked', async (ctx) => {
    requireTool(ctx, 'openssl');
    const before = pki?.hits.get('/ocsp') ?? 0;
    const r = recordFor(await imported('ocspRevoked', null), revAddress('ocspRevoked'), 'admin', Date.now());
    expect(r).toMatchObject({ revoked: null, valid: true, details: { revocation: 'not checked' } });
    expect(pki?.hits.get('/ocsp') ?? 0).toBe(before);
  });

  it('an OCSP answer altered on the way (one signature byte) is refused: the CRL decides', async (ctx) => {
    requireTool(ctx, 'openssl');
    const [leaf] = readCertificates({ text: readFileSync(pki?.file.ocspGood ?? '', 'utf8') });
    const issuer = await findIssuer(leaf?.cert as pkijs.Certificate, roots);
    if (!leaf || !issuer) throw new Error('no leaf or issuer');
    const tampering: RevocationDeps = {
      ...deps,
      transport: async (req, t, max) => {
        const a = await deps.transport(req, t, max);
        if (!req.body) return a;
        // flip one byte inside the signature value, found by parsing the genuine answer
        const resp = pkijs.OCSPResponse.fromBER(a.body);
        const basic = pkijs.BasicOCSPResponse.fromBER(resp.responseBytes?.response.valueBlock.valueHexView ?? new Uint8Array());
        const sig = Buffer.from(basic.signature.valueBlock.valueHexView);
        const at = a.body.indexOf(sig.subarray(0, 32)) + 10;
        expect(at).toBeGreaterThan(10);
        const body = Buffer.from(a.body);
        body[at] = (body[at] ?? 0) ^ 0xff;
        return { status: a.status, body };
      },
    };
    const status = await checkRevocation(leaf.cert, issuer, tampering);
    expect(status).toMatchObject({ state: 'good', method: 'crl' });
  });

  it('recheckRevocation: a record imported without a check is asked again once due, and a revoked answer makes it invalid', async (ctx) => {
    requireTool(ctx, 'openssl');
    const t0 = Date.now();
    const record = recordFor(await imported('ocspRevoked', null), revAddress('ocspRevoked'), 'admin', t0);
    const notDue = await recheckRevocation(record, { ...deps, now: () => t0 + 1000, maxAgeMs: 86_400_000, issuers: roots });
    expect(notDue).toBe(record);
    const later = t0 + 86_400_000;
    const after = await recheckRevocation(record, { ...deps, now: () => later, maxAgeMs: 86_400_000, issuers: roots });
    expect(after).toMatchObject({ revoked: true, valid: false, reason: 'revoked', checkedAt: later, details: { revocation: 'checked', revocationMethod: 'ocsp' } });
    expect(after.details.revocationNote).toBeUndefined();
  });

  it('lookupKeys re-checks a stored certificate that is due before choosing: revoked since it was stored → not used, and stored so', async (ctx) => {
    requireTool(ctx, 'openssl');
    const dir = mkdtempSync(join(tmpdir(), 'sealgate-recheck-'));
    const db = await Database.open(join(dir, 'k.db'));
    try {
      await migrate(db);
      const directory = new SqlKeyDirectory(db);
      const t0 = Date.now();
      const address = revAddress('ocspRevoked');
      // imported while checking was off: valid, not checked
      await directory.put(recordFor(await imported('ocspRevoked', null), address, 'admin', t0), { operator: 'test' });
      const lookup = (now: number) =>
        lookupKeys(address, { directory, cache: new SqlLookupCache(db), wkd: undefined, now: () => now, timeoutMs: 10_000, ttl: { positiveMs: 0, negativeMs: 0 }, smimeRoots: async () => roots, revocation: { deps: { ...deps, now: () => now }, maxAgeMs: 86_400_000 } });
      const fresh = await lookup(t0 + 1000);
      expect(fresh.used).toBe(fresh.keys[0]?.fingerprint);
      const later = await lookup(t0 + 86_400_000);
      expect(later.used).toBeUndefined();
      expect(later.keys[0]).toMatchObject({ revoked: true, valid: false, reason: 'revoked' });
      expect((await directory.list({ address }))[0]).toMatchObject({ revoked: true, valid: false, reason: 'revoked' });
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('recheckRevocation keeps the last verified status when no answer comes, and notes why', async (ctx) => {
    requireTool(ctx, 'openssl');
    const t0 = Date.now();
    const record = recordFor(await imported('ocspGood'), revAddress('ocspGood'), 'admin', t0);
    expect(record.revoked).toBe(false);
    const later = t0 + 2 * 86_400_000;
    const down: RevocationDeps = { ...deps, transport: () => Promise.reject(new Error('connection refused')) };
    const after = await recheckRevocation(record, { ...down, now: () => later, maxAgeMs: 86_400_000, issuers: roots });
    expect(after).toMatchObject({ revoked: false, valid: true, checkedAt: later, details: { revocation: 'checked', revocationMethod: 'ocsp', revocationCheckedAt: record.details.revocationCheckedAt, revocationNote: expect.stringContaining('connection refused') } });
  });

  it('reads the OCSP and CRL locations the certificates name', async (ctx) => {
    requireTool(ctx, 'openssl');
    const sources = (n: RevLeaf) => revocationSources((readCertificates({ text: readFileSync(pki?.file[n] ?? '', 'utf8') })[0] as { cert: pkijs.Certificate }).cert);
    expect(sources('ocspGood')).toEqual({ ocsp: [`${pki?.base}/ocsp`], crl: [`${pki?.base}/ca.crl`] });
    expect(sources('crlRevoked')).toEqual({ ocsp: [], crl: [`${pki?.base}/ca.crl`] });
  });
});

describe('answers that are not answers', () => {
  it.for<[string, Buffer, string]>([
    ['junk bytes', Buffer.from('<html>not found</html>'), 'the answer is not a DER OCSP response'],
    ['OCSPResponse tryLater (no body)', Buffer.from('30030a0103', 'hex'), 'the responder answered tryLater'],
    ['OCSPResponse unauthorized', Buffer.from('30030a0106', 'hex'), 'the responder answered unauthorized'],
    ['OCSPResponse status 4 (unused)', Buffer.from('30030a0104', 'hex'), 'the responder answered status 4'],
    ['successful without responseBytes', Buffer.from('30030a0100', 'hex'), 'the answer is not a basic OCSP response'],
  ])('OCSP: %s → not checked', async ([, der, detail], ctx) => {
    requireTool(ctx, 'openssl');
    const [leaf] = readCertificates({ text: readFileSync(pki?.file.ocspGood ?? '', 'utf8') });
    expect(await judgeOcspAnswer(der, leaf?.cert as pkijs.Certificate, roots[0] as pkijs.Certificate, Date.now())).toEqual({ status: 'failed', detail });
  });

  it.for<[string, Buffer | 'otherIssuer', string]>([
    ['junk bytes', Buffer.from('not a crl'), 'the CRL is not DER'],
    ['a certificate instead of a CRL', 'otherIssuer', 'the CRL is not DER'],
  ])('CRL: %s → not checked', async ([, input, detail], ctx) => {
    requireTool(ctx, 'openssl');
    const [leaf] = readCertificates({ text: readFileSync(pki?.file.crlGood ?? '', 'utf8') });
    const der = input === 'otherIssuer' ? (leaf?.der ?? Buffer.alloc(0)) : input;
    expect(await judgeCrl(der, leaf?.cert as pkijs.Certificate, roots[0] as pkijs.Certificate, Date.now())).toEqual({ status: 'failed', detail });
  });

  it('a request budget shared by one file\'s certificates: past it, not checked and nothing sent', async (ctx) => {
    requireTool(ctx, 'openssl');
    const [leaf] = readCertificates({ text: readFileSync(pki?.file.ocspGood ?? '', 'utf8') });
    const limited = withRequestLimit(deps, 1);
    const before = pki?.hits.get('/ocsp') ?? 0;
    expect(await checkRevocation(leaf?.cert as pkijs.Certificate, roots[0] as pkijs.Certificate, limited)).toMatchObject({ state: 'good', method: 'ocsp' });
    expect(await checkRevocation(leaf?.cert as pkijs.Certificate, roots[0] as pkijs.Certificate, limited)).toEqual({
      state: 'not-checked',
      detail: expect.stringContaining('not asked: more than 1 revocation requests for one file'),
    });
    expect(pki?.hits.get('/ocsp') ?? 0).toBe(before + 1);
  });

  it('a responder that never answers ends at the timeout: not checked', async (ctx) => {
    requireTool(ctx, 'openssl');
    const [leaf] = readCertificates({ text: readFileSync(pki?.file.ocspGood ?? '', 'utf8') });
    const silent: RevocationDeps = { ...deps, timeoutMs: 300, transport: () => new Promise(() => undefined) };
    expect(await checkRevocation(leaf?.cert as pkijs.Certificate, roots[0] as pkijs.Certificate, silent)).toEqual({ state: 'not-checked', detail: 'no answer within 300 ms' });
  });
});

describe('pure parts', () => {
  const NOW = Date.UTC(2026, 11, 5, 12);
  const H = 3_600_000;
  it.for<[string, number, number | undefined, string | undefined]>([
    ['current: thisUpdate an hour ago, nextUpdate in a day', NOW - H, NOW + 24 * H, undefined],
    ['nextUpdate passed an hour ago → stale', NOW - 25 * H, NOW - H, 'stale: its nextUpdate 2026-12-05T11:00:00.000Z has passed'],
    ['nextUpdate passed within the clock skew → current', NOW - 25 * H, NOW - CLOCK_SKEW_MS + 1000, undefined],
    ['thisUpdate an hour in the future → refused', NOW + H, NOW + 25 * H, 'issued in the future (clock difference)'],
    ['thisUpdate a minute in the future (skew) → current', NOW + 60_000, NOW + 25 * H, undefined],
    ['no nextUpdate, issued 2 days ago (max 7) → current', NOW - 48 * H, undefined, undefined],
    ['no nextUpdate, issued 8 days ago → stale', NOW - 8 * 24 * H, undefined, 'stale: issued 2026-11-27T12:00:00.000Z without nextUpdate'],
  ])('staleness: %s', ([, thisUpdate, nextUpdate, expected]) => {
    expect(staleness(thisUpdate, nextUpdate, NOW, 7 * 24 * H)).toBe(expected);
  });

  it.for<[unknown, string | undefined]>([
    ['http://ocsp.example.com', 'http://ocsp.example.com/'],
    ['https://crl.example.com/ca.crl', 'https://crl.example.com/ca.crl'],
    ['http://127.0.0.1:8080/ocsp', 'http://127.0.0.1:8080/ocsp'],
    ['ldap://ldap.example.com/cn=CA?certificateRevocationList', undefined],
    ['file:///etc/passwd', undefined],
    ['http://user:pw@ocsp.example.com/', undefined],
    ['not a url', undefined],
    [`http://x.example/${'a'.repeat(1100)}`, undefined],
    [42, undefined],
  ])('fetchableUrl(%j) → %j', ([input, expected]) => {
    expect(fetchableUrl(input)).toBe(expected);
  });

  it.for<[string, 'smime' | 'pgp', boolean | null, number, boolean]>([
    ['S/MIME checked 2 days ago, maxAge 1 day → due', 'smime', false, NOW - 48 * H, true],
    ['S/MIME never answered, checked 2 days ago → due', 'smime', null, NOW - 48 * H, true],
    ['S/MIME checked an hour ago → not due', 'smime', false, NOW - H, false],
    ['S/MIME revoked → never due (final)', 'smime', true, NOW - 48 * H, false],
    ['OpenPGP → never (its revocation is in the key)', 'pgp', false, NOW - 48 * H, false],
  ])('revocationDue: %s', ([, kind, revoked, checkedAt, due]) => {
    expect(revocationDue({ kind, revoked, checkedAt }, NOW, 24 * H)).toBe(due);
  });
});
