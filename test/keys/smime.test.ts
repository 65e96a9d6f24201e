/**
 * S/MIME certificates made by real OpenSSL, read and judged against a test
 * CA: RSA and EC P-256 leaves with SAN e-mail and emailProtection (valid), an
 * expired one, one from a CA nobody trusts, a wrong address, EKU serverAuth
 * only, an EC key without keyAgreement, an address only in the subject, no
 * extensions at all, a leaf under an intermediate; DER, PEM and PKCS#7 bundles (PEM and DER); the system
 * store when no roots are configured.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport, readKeyFile, recordFor, verdictFor, type KeyCandidate } from '../../src/keys/import.js';
import { loadTrustRoots } from '../../src/keys/trust-roots.js';
import type { KeyReason } from '../../src/keys/types.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, type CertFixtureName, type CertFixtures } from './fixtures.js';

let fx: CertFixtures | undefined;
let roots: readonly pkijs.Certificate[] = [];
const NOW = Date.now() + 60_000;

beforeAll(async () => {
  if (!haveTool('openssl')) return;
  fx = makeCertFixtures();
  roots = (await loadTrustRoots([fx.caFile])).certs;
});

afterAll(() => fx?.cleanup());

async function one(name: CertFixtureName): Promise<KeyCandidate> {
  const certs = await readKeyFile(readFileSync(fx?.file[name] ?? ''), roots, NOW);
  expect(certs).toHaveLength(1);
  return certs[0] as KeyCandidate;
}

describe('S/MIME certificates from OpenSSL', () => {
  it.for<[string, CertFixtureName, string, KeyReason]>([
    ['RSA, SAN e-mail, emailProtection, chains to the CA → valid', 'rsa', 'alice@example.org', 'valid'],
    ['EC P-256 with keyAgreement → valid', 'ec', 'ec@example.org', 'valid'],
    ['domain in another case → valid', 'rsa', 'alice@Example.Org', 'valid'],
    ['expired in 2020 → expired', 'expired', 'alice@example.org', 'expired'],
    ['issued by a CA that is not a trust root → untrusted', 'otherCa', 'alice@example.org', 'untrusted'],
    ['SAN names another address → address-mismatch', 'wrongAddress', 'alice@example.org', 'address-mismatch'],
    ['EKU serverAuth only → extended-key-usage', 'serverAuth', 'server@example.org', 'extended-key-usage'],
    ['EC without keyAgreement → key-usage', 'ecKeyEncipherment', 'ecsign@example.org', 'key-usage'],
    ['address only in subject emailAddress → valid', 'subjectEmailOnly', 'bob@example.org', 'valid'],
    ['no key usage and no EKU extension → valid', 'noExtensions', 'carol@example.org', 'valid'],
  ])('%s', async ([, name, address, reason], ctx) => {
    requireTool(ctx, 'openssl');
    expect(verdictFor(await one(name), address, NOW)).toEqual({ valid: reason === 'valid', reason });
  });

  it('reads the facts: SHA-256 fingerprint as openssl prints it, subject, issuer, addresses, key algorithm, validity, key usage, EKU', async (ctx) => {
    requireTool(ctx, 'openssl');
    const c = await one('rsa');
    if (c.kind !== 'smime') throw new Error('not smime');
    const der = readFileSync(fx?.rsaDer ?? '');
    const { createHash } = await import('node:crypto');
    expect(c.info.fingerprint).toBe(createHash('sha256').update(der).digest('hex'));
    expect(c.info.subject).toBe('CN=Alice Example');
    expect(c.info.issuer).toBe('CN=Sealgate Test CA');
    expect(c.info.emails).toEqual(['alice@example.org']);
    expect(c.info.algorithm).toBe('RSA 2048');
    expect(c.info.facts.keyUsage).toEqual(['digitalSignature', 'keyEncipherment']);
    expect(c.info.facts.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.4']);
    expect(c.info.isCa).toBe(false);
    const ec = await one('ec');
    expect(ec.info.algorithm).toBe('EC P-256');
    const record = recordFor(ec, 'ec@example.org', 'admin', NOW);
    expect(record).toMatchObject({ kind: 'smime', revoked: null, valid: true, reason: 'valid', details: { revocation: 'not checked', keyUsage: ['digitalSignature', 'keyAgreement'] } });
    expect(record.material).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    const expired = await one('expired');
    expect(recordFor(expired, 'alice@example.org', 'admin', NOW)).toMatchObject({ createdAt: Date.UTC(2020, 0, 1), expiresAt: Date.UTC(2020, 1, 1), valid: false, reason: 'expired' });
  });

  it('reads DER certificates and PKCS#7 bundles (PEM and DER); the CA in a bundle is an intermediate, not a recipient', async (ctx) => {
    requireTool(ctx, 'openssl');
    const der = await readKeyFile(readFileSync(fx?.rsaDer ?? ''), roots, NOW);
    expect(der.map((c) => verdictFor(c, 'alice@example.org', NOW).reason)).toEqual(['valid']);
    for (const file of [fx?.bundlePem ?? '', fx?.bundleDer ?? '']) {
      const certs = await readKeyFile(readFileSync(file), roots, NOW);
      expect(certs).toHaveLength(3);
      const plan = planImport(certs);
      expect(plan.map((p) => ('skipped' in p ? p.skipped : p.addresses))).toEqual([['alice@example.org'], ['ec@example.org'], 'ca-certificate']);
    }
  });

  it('the chain is judged against the configured roots only: another root validates its own leaf, not the test CA\'s', async (ctx) => {
    requireTool(ctx, 'openssl');
    const other = (await loadTrustRoots([join(fx?.dir ?? '', 'other.pem')])).certs;
    const [c] = await readKeyFile(readFileSync(fx?.file.otherCa ?? ''), other, NOW);
    if (!c) throw new Error('no cert');
    expect(verdictFor(c, 'alice@example.org', NOW).reason).toBe('valid');
    const [r] = await readKeyFile(readFileSync(fx?.file.rsa ?? ''), other, NOW);
    if (!r) throw new Error('no cert');
    expect(verdictFor(r, 'alice@example.org', NOW).reason).toBe('untrusted');
  });

  it('the other certificates in the file serve as intermediates', async (ctx) => {
    requireTool(ctx, 'openssl');
    const alone = await readKeyFile(readFileSync(fx?.file.viaIntermediate ?? ''), roots, NOW);
    expect(alone.map((c) => verdictFor(c, 'dave@example.org', NOW).reason)).toEqual(['untrusted']);
    const both = await readKeyFile(readFileSync(fx?.withIntermediate ?? ''), roots, NOW);
    expect(planImport(both).map((p) => ('skipped' in p ? p.skipped : p.addresses))).toEqual([['dave@example.org'], 'ca-certificate']);
    expect(verdictFor(both[0] as KeyCandidate, 'dave@example.org', NOW)).toEqual({ valid: true, reason: 'valid' });
  });

  it('trust roots are loaded only when the file holds certificates', async (ctx) => {
    requireTool(ctx, 'openssl');
    let loads = 0;
    const loader = async (): Promise<readonly pkijs.Certificate[]> => {
      loads++;
      return roots;
    };
    await readKeyFile(readFileSync(fx?.file.rsa ?? ''), loader, NOW);
    expect(loads).toBe(1);
  });

  it('with no roots configured the system store is used: the test CA is not in it', async (ctx) => {
    requireTool(ctx, 'openssl');
    const system = await loadTrustRoots([]);
    const [c] = await readKeyFile(readFileSync(fx?.file.rsa ?? ''), system.certs, NOW);
    if (!c) throw new Error('no cert');
    expect(verdictFor(c, 'alice@example.org', NOW).reason).toBe('untrusted');
    const none = await loadTrustRoots([], ['/nonexistent/bundle.pem']);
    expect(none.certs).toEqual([]);
  });

  it('a trust root file that does not exist or holds no certificate is a config error', async (ctx) => {
    requireTool(ctx, 'openssl');
    await expect(loadTrustRoots([join(fx?.dir ?? '', 'missing.pem')])).rejects.toMatchObject({ code: 'SG_CONFIG_INVALID', message: expect.stringMatching(/^keys\.smimeTrustRoots: cannot read .*missing\.pem: ENOENT$/) });
    const empty = join(fx?.dir ?? '', 'empty.pem');
    writeFileSync(empty, 'nothing here\n');
    await expect(loadTrustRoots([empty])).rejects.toMatchObject({ code: 'SG_CONFIG_INVALID' });
  });

  it('a file that is neither OpenPGP nor a certificate is refused', async () => {
    await expect(readKeyFile(Buffer.from('hello world\n'), [], NOW)).rejects.toMatchObject({ code: 'SG_KEY_FILE_INVALID' });
    await expect(readKeyFile(Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), [], NOW)).rejects.toMatchObject({ code: 'SG_KEY_FILE_INVALID' });
    await expect(readKeyFile(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), [], NOW)).rejects.toMatchObject({ code: 'SG_KEY_FILE_INVALID' });
  });
});
