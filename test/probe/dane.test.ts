/**
 * DANE decisions (src/probe/dane.ts) over real certificates made with
 * src/tls/x509.ts (root CA, an intermediate CA, leaves). Expected association
 * data is computed here with node:crypto independently of the module (SPKI
 * via KeyObject.export), so the module's own SPKI extraction is checked too.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { daneRequirement, subjectPublicKeyInfo, tlsaAssociationData, usableTlsa, verifyDane, type TlsaRecord } from '../../src/probe/dane.js';
import { makeDanePki, MX_HOST, type DaneTestPki } from './dane-certs.js';

let pki: DaneTestPki;
beforeAll(async () => {
  pki = await makeDanePki();
});

function spkiOf(der: Buffer): Buffer {
  return new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
}

/** Association data the way RFC 6698 §2.1 defines it, computed independently of the module. */
function assoc(der: Buffer, selector: number, matchingType: number): Buffer {
  const selected = selector === 1 ? spkiOf(der) : der;
  if (matchingType === 1) return createHash('sha256').update(selected).digest();
  if (matchingType === 2) return createHash('sha512').update(selected).digest();
  return selected;
}

function rec(usage: number, selector: number, matchingType: number, data: Buffer): TlsaRecord {
  return { usage, selector, matchingType, data };
}

describe('SubjectPublicKeyInfo extraction', () => {
  it.each(['leaf', 'intermediate', 'root', 'rsaLeaf'] as const)('matches node:crypto for the %s certificate', (which) => {
    expect(subjectPublicKeyInfo(pki[which]).equals(spkiOf(pki[which]))).toBe(true);
  });

  it('agrees with the independent computation for every selector and matching type', () => {
    for (const selector of [0, 1]) for (const m of [0, 1, 2]) expect(tlsaAssociationData(pki.leaf, selector, m).equals(assoc(pki.leaf, selector, m))).toBe(true);
  });

  it('refuses bytes that are not a certificate', () => {
    expect(() => subjectPublicKeyInfo(Buffer.from('30820100', 'hex'))).toThrow();
    expect(() => subjectPublicKeyInfo(Buffer.alloc(0))).toThrow();
  });
});

describe('usableTlsa (RFC 7672 §3.1)', () => {
  const sha256 = Buffer.alloc(32, 1);
  const sha512 = Buffer.alloc(64, 2);
  const cases: { name: string; records: TlsaRecord[]; status: 'none' | 'usable' | 'unusable'; usable: number }[] = [
    { name: 'no records', records: [], status: 'none', usable: 0 },
    { name: 'DANE-EE 3 1 1', records: [rec(3, 1, 1, sha256)], status: 'usable', usable: 1 },
    { name: 'DANE-TA 2 0 2', records: [rec(2, 0, 2, sha512)], status: 'usable', usable: 1 },
    { name: 'full data 3 0 0', records: [rec(3, 0, 0, Buffer.alloc(300, 3))], status: 'usable', usable: 1 },
    { name: 'PKIX-TA 0 is unusable', records: [rec(0, 1, 1, sha256)], status: 'unusable', usable: 0 },
    { name: 'PKIX-EE 1 is unusable', records: [rec(1, 1, 1, sha256)], status: 'unusable', usable: 0 },
    { name: 'unknown usage 4', records: [rec(4, 1, 1, sha256)], status: 'unusable', usable: 0 },
    { name: 'unknown selector 2', records: [rec(3, 2, 1, sha256)], status: 'unusable', usable: 0 },
    { name: 'unknown matching type 3', records: [rec(3, 1, 3, sha256)], status: 'unusable', usable: 0 },
    { name: 'SHA-256 data of 31 bytes', records: [rec(3, 1, 1, Buffer.alloc(31))], status: 'unusable', usable: 0 },
    { name: 'SHA-256 data of 33 bytes', records: [rec(3, 1, 1, Buffer.alloc(33))], status: 'unusable', usable: 0 },
    { name: 'SHA-512 data of 32 bytes', records: [rec(3, 1, 2, sha256)], status: 'unusable', usable: 0 },
    { name: 'empty full data', records: [rec(3, 1, 0, Buffer.alloc(0))], status: 'unusable', usable: 0 },
    { name: 'one usable among unusable', records: [rec(1, 1, 1, sha256), rec(3, 1, 1, sha256), rec(3, 1, 1, Buffer.alloc(3))], status: 'usable', usable: 1 },
  ];
  it.each(cases)('$name → $status', ({ records, status, usable }) => {
    const u = usableTlsa(records);
    expect(u.status).toBe(status);
    expect(u.usable).toHaveLength(usable);
    expect(u.usable.length + u.unusable.length + u.ignored.length).toBe(records.length);
  });

  it('sets SHA-256 records aside when the same usage and selector has SHA-512 (RFC 7671 §9)', () => {
    const u = usableTlsa([rec(3, 1, 1, sha256), rec(3, 1, 2, sha512), rec(2, 0, 1, sha256)]);
    expect(u.usable.map((r) => `${r.usage}${r.selector}${r.matchingType}`)).toEqual(['312', '201']);
    expect(u.ignored.map((r) => r.record.matchingType)).toEqual([1]);
  });
});

describe('verifyDane: DANE-EE(3)', () => {
  const grid = [0, 1].flatMap((selector) => [0, 1, 2].map((matchingType) => ({ selector, matchingType })));

  it.each(grid)('3 $selector $matchingType matches the leaf', ({ selector, matchingType }) => {
    const result = verifyDane([rec(3, selector, matchingType, assoc(pki.leaf, selector, matchingType))], [pki.leaf, pki.intermediate], { mxHost: MX_HOST });
    expect(result).toEqual({ ok: true, matched: { usage: 3, selector, matchingType }, depth: 0 });
  });

  it.each(grid)('3 $selector $matchingType does not match another certificate', ({ selector, matchingType }) => {
    const result = verifyDane([rec(3, selector, matchingType, assoc(pki.otherLeaf, selector, matchingType))], [pki.leaf, pki.intermediate], { mxHost: MX_HOST });
    expect(result).toMatchObject({ ok: false, code: 'no-match' });
  });

  it.each(grid)('3 $selector $matchingType works for an RSA leaf', ({ selector, matchingType }) => {
    expect(verifyDane([rec(3, selector, matchingType, assoc(pki.rsaLeaf, selector, matchingType))], [pki.rsaLeaf], { mxHost: MX_HOST }).ok).toBe(true);
  });

  it('needs no name match, no validity dates and no chain (RFC 7672 §3.1.1)', () => {
    expect(verifyDane([rec(3, 1, 1, assoc(pki.wrongNameLeaf, 1, 1))], [pki.wrongNameLeaf], { mxHost: MX_HOST }).ok).toBe(true);
    expect(verifyDane([rec(3, 0, 1, assoc(pki.expiredLeaf, 0, 1))], [pki.expiredLeaf], { mxHost: MX_HOST }).ok).toBe(true);
  });

  it('matches only the leaf, not an issuer in the chain', () => {
    expect(verifyDane([rec(3, 1, 1, assoc(pki.intermediate, 1, 1))], [pki.leaf, pki.intermediate], { mxHost: MX_HOST })).toMatchObject({ ok: false, code: 'no-match' });
  });

  it('any matching record in the set is enough', () => {
    const records = [rec(3, 1, 1, assoc(pki.otherLeaf, 1, 1)), rec(3, 1, 1, assoc(pki.leaf, 1, 1))];
    expect(verifyDane(records, [pki.leaf], { mxHost: MX_HOST }).ok).toBe(true);
  });

  it('a weaker digest cannot stand in for a mismatching stronger one', () => {
    const records = [rec(3, 1, 1, assoc(pki.leaf, 1, 1)), rec(3, 1, 2, assoc(pki.otherLeaf, 1, 2))];
    expect(verifyDane(records, [pki.leaf], { mxHost: MX_HOST }).ok).toBe(false);
  });
});

describe('verifyDane: DANE-TA(2)', () => {
  type Chain = keyof DaneTestPki;
  const cases: {
    name: string;
    ta: Chain;
    selector: number;
    matchingType: number;
    chain: Chain[];
    extraNames?: string[];
    expected: { ok: true; depth: number } | { ok: false; code: string };
  }[] = [
    { name: 'issuing intermediate, cert SHA-256', ta: 'intermediate', selector: 0, matchingType: 1, chain: ['leaf', 'intermediate', 'root'], expected: { ok: true, depth: 1 } },
    { name: 'issuing intermediate, SPKI SHA-512', ta: 'intermediate', selector: 1, matchingType: 2, chain: ['leaf', 'intermediate'], expected: { ok: true, depth: 1 } },
    { name: 'issuing intermediate, full cert', ta: 'intermediate', selector: 0, matchingType: 0, chain: ['leaf', 'intermediate'], expected: { ok: true, depth: 1 } },
    { name: 'root above the intermediate, SPKI SHA-256', ta: 'root', selector: 1, matchingType: 1, chain: ['leaf', 'intermediate', 'root'], expected: { ok: true, depth: 2 } },
    { name: 'root above the intermediate, cert SHA-512', ta: 'root', selector: 0, matchingType: 2, chain: ['leaf', 'intermediate', 'root'], expected: { ok: true, depth: 2 } },
    { name: 'root that issued the leaf directly', ta: 'root', selector: 0, matchingType: 1, chain: ['rootLeaf', 'root'], expected: { ok: true, depth: 1 } },
    { name: 'chain sent out of order', ta: 'root', selector: 1, matchingType: 1, chain: ['leaf', 'root', 'intermediate'], expected: { ok: true, depth: 1 } },
    { name: 'bare key "2 1 0", root not sent', ta: 'root', selector: 1, matchingType: 0, chain: ['leaf', 'intermediate'], expected: { ok: true, depth: -1 } },
    { name: 'bare key "2 1 0" of the issuer, leaf alone', ta: 'intermediate', selector: 1, matchingType: 0, chain: ['leaf'], expected: { ok: true, depth: -1 } },
    { name: 'leaf name wrong', ta: 'root', selector: 1, matchingType: 1, chain: ['wrongNameLeaf', 'intermediate', 'root'], expected: { ok: false, code: 'name-mismatch' } },
    { name: 'leaf name wrong but an extra reference name matches', ta: 'root', selector: 1, matchingType: 1, chain: ['wrongNameLeaf', 'intermediate', 'root'], extraNames: ['other.test'], expected: { ok: true, depth: 2 } },
    { name: 'expired leaf', ta: 'intermediate', selector: 0, matchingType: 1, chain: ['expiredLeaf', 'intermediate'], expected: { ok: false, code: 'expired' } },
    { name: 'intermediate missing from the chain', ta: 'root', selector: 0, matchingType: 1, chain: ['leaf', 'root'], expected: { ok: false, code: 'chain-broken' } },
    { name: 'TA record is for an unrelated root', ta: 'otherRoot', selector: 0, matchingType: 1, chain: ['leaf', 'intermediate', 'root'], expected: { ok: false, code: 'no-match' } },
    { name: 'unrelated root appended to the chain', ta: 'otherRoot', selector: 1, matchingType: 1, chain: ['leaf', 'intermediate', 'otherRoot'], expected: { ok: false, code: 'chain-broken' } },
    { name: 'same-named root with another key appended', ta: 'imposterRoot', selector: 0, matchingType: 1, chain: ['leaf', 'intermediate', 'imposterRoot'], expected: { ok: false, code: 'chain-broken' } },
    { name: 'bare key of an unrelated root', ta: 'otherRoot', selector: 1, matchingType: 0, chain: ['leaf', 'intermediate'], expected: { ok: false, code: 'chain-broken' } },
    { name: 'TA record naming the leaf itself', ta: 'leaf', selector: 1, matchingType: 1, chain: ['leaf', 'intermediate'], expected: { ok: false, code: 'no-match' } },
  ];

  it.each(cases)('$name', ({ ta, selector, matchingType, chain, extraNames, expected }) => {
    const result = verifyDane([rec(2, selector, matchingType, assoc(pki[ta], selector, matchingType))], chain.map((c) => pki[c]), { mxHost: MX_HOST, extraNames });
    if (expected.ok) expect(result).toEqual({ ok: true, matched: { usage: 2, selector, matchingType }, depth: expected.depth });
    else expect(result).toMatchObject({ ok: false, code: expected.code });
  });

  it('takes the MX host case-insensitively and with a trailing dot', () => {
    const r = [rec(2, 1, 1, assoc(pki.root, 1, 1))];
    expect(verifyDane(r, [pki.leaf, pki.intermediate, pki.root], { mxHost: 'MX.Dane.Test.' }).ok).toBe(true);
  });

  it('checks dates against the given time', () => {
    const r = [rec(2, 1, 1, assoc(pki.intermediate, 1, 1))];
    const future = new Date(Date.now() + 5 * 365 * 86_400_000);
    expect(verifyDane(r, [pki.leaf, pki.intermediate], { mxHost: MX_HOST, now: future })).toMatchObject({ ok: false, code: 'expired' });
  });

  it('DANE-EE wins when both kinds are published and the TA one fails', () => {
    const records = [rec(2, 1, 1, assoc(pki.otherRoot, 1, 1)), rec(3, 1, 1, assoc(pki.leaf, 1, 1))];
    expect(verifyDane(records, [pki.leaf, pki.intermediate], { mxHost: MX_HOST })).toMatchObject({ ok: true, matched: { usage: 3 } });
  });
});

describe('verifyDane: unusable records and bad input', () => {
  it.each([0, 1])('usage %i matching the leaf does not verify (unusable for SMTP)', (usage) => {
    const result = verifyDane([rec(usage, 1, 1, assoc(pki.leaf, 1, 1))], [pki.leaf, pki.intermediate, pki.root], { mxHost: MX_HOST });
    expect(result).toMatchObject({ ok: false, code: 'no-usable-records' });
  });

  it('a truncated digest does not verify', () => {
    const data = assoc(pki.leaf, 1, 1).subarray(0, 31);
    expect(verifyDane([rec(3, 1, 1, Buffer.from(data))], [pki.leaf], { mxHost: MX_HOST })).toMatchObject({ ok: false, code: 'no-usable-records' });
  });

  it('no certificate, or an unparseable one', () => {
    const r = [rec(3, 1, 1, assoc(pki.leaf, 1, 1))];
    expect(verifyDane(r, [], { mxHost: MX_HOST })).toMatchObject({ ok: false, code: 'no-certificate' });
    expect(verifyDane(r, [Buffer.from('not a certificate')], { mxHost: MX_HOST })).toMatchObject({ ok: false, code: 'bad-certificate' });
  });

  it('an unparseable extra certificate is skipped', () => {
    const r = [rec(2, 1, 1, assoc(pki.intermediate, 1, 1))];
    expect(verifyDane(r, [pki.leaf, Buffer.from('junk'), pki.intermediate], { mxHost: MX_HOST })).toMatchObject({ ok: true, depth: 2 });
  });
});

describe('daneRequirement', () => {
  const usable = [rec(3, 1, 1, Buffer.alloc(32, 7))];
  const unusable = [rec(1, 1, 1, Buffer.alloc(32, 7))];
  const cases = [
    { name: 'resolver not validating', input: { authenticated: true, records: usable, dnssecValidating: false }, applies: false, status: 'not-validating', requireTls: false },
    { name: 'answer not authenticated', input: { authenticated: false, records: usable, dnssecValidating: true }, applies: false, status: 'insecure', requireTls: false },
    { name: 'authenticated denial', input: { authenticated: true, records: [], dnssecValidating: true }, applies: false, status: 'none', requireTls: false },
    { name: 'only unusable records', input: { authenticated: true, records: unusable, dnssecValidating: true }, applies: false, status: 'unusable', requireTls: true },
    { name: 'only malformed records', input: { authenticated: true, records: [], dnssecValidating: true, malformed: 1 }, applies: false, status: 'unusable', requireTls: true },
    { name: 'usable records', input: { authenticated: true, records: [...unusable, ...usable], dnssecValidating: true }, applies: true, status: 'usable', requireTls: true },
  ];
  it.each(cases)('$name → applies=$applies ($status)', ({ input, applies, status, requireTls }) => {
    const r = daneRequirement(input);
    expect(r).toMatchObject({ applies, status, requireTls });
    expect(r.usable).toHaveLength(applies ? 1 : 0);
    expect(r.reason.length).toBeGreaterThan(0);
  });
});
