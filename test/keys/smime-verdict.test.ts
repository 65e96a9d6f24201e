/** The S/MIME certificate verdict rules, one row per rule (pure). */
import { describe, expect, it } from 'vitest';
import { OID_EMAIL_PROTECTION, smimeVerdict, type SmimeFacts } from '../../src/keys/smime-verdict.js';
import type { KeyReason } from '../../src/keys/types.js';

const NOW = Date.UTC(2026, 0, 15);
const DAY = 86_400_000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const rsa: SmimeFacts = {
  notBefore: NOW - DAY,
  notAfter: NOW + 365 * DAY,
  emails: ['alice@example.org'],
  keyType: 'rsa',
  keyUsage: ['digitalSignature', 'keyEncipherment'],
  extendedKeyUsage: [OID_EMAIL_PROTECTION],
  chainTrusted: true,
};
const ec: SmimeFacts = { ...rsa, keyType: 'ec', keyUsage: ['digitalSignature', 'keyAgreement'] };

describe('smimeVerdict', () => {
  it.each<[string, SmimeFacts, string, KeyReason]>([
    ['RSA, trusted, SAN matches, keyEncipherment, emailProtection → valid', rsa, 'alice@example.org', 'valid'],
    ['EC with keyAgreement → valid', ec, 'alice@example.org', 'valid'],
    ['domain compared without case → valid', rsa, 'alice@Example.ORG', 'valid'],
    ['local part compared exactly → address-mismatch', rsa, 'ALICE@example.org', 'address-mismatch'],
    ['wrong address → address-mismatch', rsa, 'bob@example.org', 'address-mismatch'],
    ['no address at all → address-mismatch', { ...rsa, emails: [] }, 'alice@example.org', 'address-mismatch'],
    ['expired → expired', { ...rsa, notAfter: NOW - 1 }, 'alice@example.org', 'expired'],
    ['not yet valid → not-yet-valid', { ...rsa, notBefore: NOW + DAY }, 'alice@example.org', 'not-yet-valid'],
    ['not chaining to a root → untrusted', { ...rsa, chainTrusted: false }, 'alice@example.org', 'untrusted'],
    ['expired and untrusted → expired first', { ...rsa, chainTrusted: false, notAfter: NOW - 1 }, 'alice@example.org', 'expired'],
    ['RSA without keyEncipherment → key-usage', { ...rsa, keyUsage: ['digitalSignature'] }, 'alice@example.org', 'key-usage'],
    ['RSA with keyAgreement only → key-usage', { ...rsa, keyUsage: ['keyAgreement'] }, 'alice@example.org', 'key-usage'],
    ['EC without keyAgreement → key-usage', { ...ec, keyUsage: ['digitalSignature', 'keyEncipherment'] }, 'alice@example.org', 'key-usage'],
    ['no key usage extension → valid', { ...rsa, keyUsage: null }, 'alice@example.org', 'valid'],
    ['EKU serverAuth only → extended-key-usage', { ...rsa, extendedKeyUsage: [SERVER_AUTH] }, 'alice@example.org', 'extended-key-usage'],
    ['EKU anyExtendedKeyUsage → valid', { ...rsa, extendedKeyUsage: ['2.5.29.37.0'] }, 'alice@example.org', 'valid'],
    ['no EKU extension → valid', { ...rsa, extendedKeyUsage: null }, 'alice@example.org', 'valid'],
    ['Ed25519 or other key → unsupported-key', { ...rsa, keyType: 'other' }, 'alice@example.org', 'unsupported-key'],
  ])('%s', (_name, facts, address, reason) => {
    const v = smimeVerdict(facts, address, NOW);
    expect(v.reason).toBe(reason);
    expect(v.valid).toBe(reason === 'valid');
  });
});
