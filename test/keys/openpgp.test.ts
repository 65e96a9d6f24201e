/**
 * OpenPGP keys made by real GnuPG, read and judged: valid (Curve25519 and
 * RSA), expired (made in 2020 with a one-day expiry), revoked (GnuPG's own
 * revocation certificate imported), sign-only (no encryption subkey), UID
 * mismatch, an expired encryption subkey under a valid primary, a forged user ID (bad self-signature), two user IDs, armored and
 * binary input, and a secret key reduced to its public part.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport, readKeyFile, recordFor, verdictFor, type KeyCandidate } from '../../src/keys/import.js';
import type { KeyReason } from '../../src/keys/types.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makePgpFixtures, type PgpFixtureName, type PgpFixtures } from './fixtures.js';

let fx: PgpFixtures | undefined;
/** Set after the keys exist: GnuPG stamps creation in whole seconds. */
let NOW = 0;

beforeAll(() => {
  if (haveTool('gpg')) fx = makePgpFixtures(['good', 'rsa', 'expired', 'revoked', 'signOnly', 'twoUids', 'expiredSubkey']);
  NOW = Date.now() + 1000;
});

afterAll(() => fx?.cleanup());

async function one(name: PgpFixtureName, now = NOW): Promise<KeyCandidate> {
  const keys = await readKeyFile(Buffer.from(fx?.armored(name) ?? ''), [], now);
  expect(keys).toHaveLength(1);
  return keys[0] as KeyCandidate;
}

describe('OpenPGP keys from GnuPG', () => {
  it.for<[string, PgpFixtureName, string, KeyReason]>([
    ['Curve25519 key with an encryption subkey → valid', 'good', 'alice@example.org', 'valid'],
    ['RSA key with an RSA encryption subkey → valid', 'rsa', 'rsa@example.org', 'valid'],
    ['expired in 2020 → expired', 'expired', 'expired@example.org', 'expired'],
    ['revoked → revoked', 'revoked', 'revoked@example.org', 'revoked'],
    ['sign-only, no encryption subkey → no-encryption-key', 'signOnly', 'signonly@example.org', 'no-encryption-key'],
    ['only encryption subkey expired, primary valid → no-encryption-key', 'expiredSubkey', 'oldsub@example.org', 'no-encryption-key'],
    ['UID names another address → address-mismatch', 'good', 'bob@example.org', 'address-mismatch'],
    ['UID local part differs in case → address-mismatch', 'good', 'Alice@example.org', 'address-mismatch'],
    ['domain in another case → valid', 'good', 'alice@EXAMPLE.ORG', 'valid'],
    ['second user ID (domain case differs) → valid', 'twoUids', 'Second@example.org', 'valid'],
  ])('%s', async ([, name, address, reason], ctx) => {
    requireTool(ctx, 'gpg');
    expect(verdictFor(await one(name), address, NOW)).toEqual({ valid: reason === 'valid', reason });
  });

  it('reads the facts: fingerprint as GnuPG prints it, algorithms, creation, expiry, user IDs, the encryption subkey', async (ctx) => {
    requireTool(ctx, 'gpg');
    const c = await one('good');
    if (c.kind !== 'pgp') throw new Error('not pgp');
    expect(c.info.fingerprint).toBe(fx?.fpr.good);
    expect(c.info.algorithm).toBe('eddsaLegacy/ed25519Legacy + ecdh/curve25519Legacy');
    expect(c.info.userIds).toEqual(['Alice Example <alice@example.org>']);
    expect(c.info.emails).toEqual(['alice@example.org']);
    expect(c.info.expiresAt).toBeNull();
    expect(c.info.revoked).toBe(false);
    expect(c.info.facts.encryptionKey).toMatch(/^[0-9a-f]{40}$/);
    expect(c.info.facts.encryptionKey).not.toBe(c.info.fingerprint);
    expect(c.info.armored).toContain('-----BEGIN PGP PUBLIC KEY BLOCK-----');
    const expired = await one('expired');
    if (expired.kind !== 'pgp') throw new Error('not pgp');
    expect(expired.info.createdAt).toBe(Date.UTC(2020, 0, 1));
    expect(expired.info.expiresAt).toBe(Date.UTC(2020, 0, 2));
    const rsa = await one('rsa');
    expect(rsa.info.algorithm).toBe('rsaEncryptSign2048 + rsaEncryptSign2048');
  });

  it('the expired key was valid on its one day (faked clock)', async (ctx) => {
    requireTool(ctx, 'gpg');
    const at = Date.UTC(2020, 0, 1, 12);
    expect(verdictFor(await one('expired', at), 'expired@example.org', at)).toEqual({ valid: true, reason: 'valid' });
  });

  it('the key whose encryption subkey expired was valid on the subkey\'s one day (faked clock)', async (ctx) => {
    requireTool(ctx, 'gpg');
    const at = Date.UTC(2020, 0, 1, 12);
    expect(verdictFor(await one('expiredSubkey', at), 'oldsub@example.org', at)).toEqual({ valid: true, reason: 'valid' });
  });

  it('a key is not valid before its creation time (faked clock)', async (ctx) => {
    requireTool(ctx, 'gpg');
    const before = Date.UTC(2019, 0, 1);
    expect(verdictFor(await one('good', before), 'alice@example.org', before).valid).toBe(false);
  });

  it('a user ID altered after signing → bad-self-signature', async (ctx) => {
    requireTool(ctx, 'gpg');
    const bin = fx?.binary(['good']) ?? Buffer.alloc(0);
    const at = bin.indexOf('alice@example.org');
    expect(at).toBeGreaterThan(0);
    bin.write('alicf', at, 'latin1'); // same length: the packet still parses, its self-signature no longer fits
    const [c] = await readKeyFile(bin, [], NOW);
    if (!c) throw new Error('no key');
    expect(verdictFor(c, 'alicf@example.org', NOW)).toEqual({ valid: false, reason: 'bad-self-signature' });
  });

  it('reads several keys from one binary export and from one armored file', async (ctx) => {
    requireTool(ctx, 'gpg');
    const names: PgpFixtureName[] = ['good', 'expired', 'revoked', 'signOnly'];
    const bin = await readKeyFile(fx?.binary(names) ?? Buffer.alloc(0), [], NOW);
    expect(bin.map((c) => c.info.fingerprint)).toEqual(names.map((n) => fx?.fpr[n]));
    const text = names.map((n) => fx?.armored(n)).join('\n');
    const arm = await readKeyFile(Buffer.from(text), [], NOW);
    expect(arm.map((c) => c.info.fingerprint)).toEqual(names.map((n) => fx?.fpr[n]));
  });

  it('an OpenPGP file never loads the S/MIME trust roots', async (ctx) => {
    requireTool(ctx, 'gpg');
    const keys = await readKeyFile(Buffer.from(fx?.armored('good') ?? ''), () => Promise.reject(new Error('roots loaded')), NOW);
    expect(keys).toHaveLength(1);
  });

  it('a secret key is reduced to its public part', async (ctx) => {
    requireTool(ctx, 'gpg');
    const [c] = await readKeyFile(Buffer.from(fx?.armoredSecret('good') ?? ''), [], NOW);
    if (c?.kind !== 'pgp') throw new Error('not pgp');
    expect(c.info.hadSecret).toBe(true);
    expect(c.info.fingerprint).toBe(fx?.fpr.good);
    const record = recordFor(c, 'alice@example.org', 'admin', NOW);
    expect(record.material).toContain('-----BEGIN PGP PUBLIC KEY BLOCK-----');
    expect(record.material).not.toContain('PRIVATE');
    expect(record.valid).toBe(true);
  });

  it('plans one record per address the key names, or only the --email address', async (ctx) => {
    requireTool(ctx, 'gpg');
    const c = await one('twoUids');
    expect(planImport([c])).toEqual([{ candidate: c, addresses: ['first@example.org', 'Second@example.org'] }]);
    expect(planImport([c], 'first@EXAMPLE.org')).toEqual([{ candidate: c, addresses: ['first@example.org'] }]);
    expect(planImport([c], 'other@example.org')).toEqual([{ candidate: c, skipped: 'address-not-named' }]);
  });
});
