/** The OpenPGP verdict rules, one row per rule (pure: facts in, verdict out). */
import { describe, expect, it } from 'vitest';
import { pgpVerdict, type PgpFacts } from '../../src/keys/pgp-verdict.js';
import type { KeyReason } from '../../src/keys/types.js';

const NOW = Date.UTC(2026, 0, 15);
const DAY = 86_400_000;
const good: PgpFacts = { revoked: false, createdAt: NOW - 30 * DAY, expiresAt: null, selfSignatureError: null, encryptionKey: 'ab'.repeat(20), validEmails: ['alice@example.org'] };

describe('pgpVerdict', () => {
  it.each<[string, Partial<PgpFacts>, string, KeyReason]>([
    ['valid key, matching UID → valid', {}, 'alice@example.org', 'valid'],
    ['domain compared without case → valid', {}, 'alice@EXAMPLE.Org', 'valid'],
    ['UID domain upper case → valid', { validEmails: ['alice@Example.ORG'] }, 'alice@example.org', 'valid'],
    ['local part compared exactly → address-mismatch', {}, 'Alice@example.org', 'address-mismatch'],
    ['other address → address-mismatch', {}, 'bob@example.org', 'address-mismatch'],
    ['no valid UID → address-mismatch', { validEmails: [] }, 'alice@example.org', 'address-mismatch'],
    ['expiry in the future → valid', { expiresAt: NOW + DAY }, 'alice@example.org', 'valid'],
    ['expired → expired', { expiresAt: NOW - DAY }, 'alice@example.org', 'expired'],
    ['expires exactly now → expired', { expiresAt: NOW }, 'alice@example.org', 'expired'],
    ['revoked → revoked', { revoked: true }, 'alice@example.org', 'revoked'],
    ['revoked and expired → revoked first', { revoked: true, expiresAt: NOW - DAY }, 'alice@example.org', 'revoked'],
    ['created in the future → not-yet-valid', { createdAt: NOW + DAY }, 'alice@example.org', 'not-yet-valid'],
    ['bad self-signature → bad-self-signature', { selfSignatureError: 'Could not find valid self-signature in key' }, 'alice@example.org', 'bad-self-signature'],
    ['no encryption subkey → no-encryption-key', { encryptionKey: null }, 'alice@example.org', 'no-encryption-key'],
    ['no encryption subkey and wrong address → no-encryption-key first', { encryptionKey: null }, 'bob@example.org', 'no-encryption-key'],
  ])('%s', (_name, change, address, reason) => {
    const v = pgpVerdict({ ...good, ...change }, address, NOW);
    expect(v.reason).toBe(reason);
    expect(v.valid).toBe(reason === 'valid');
  });
});
