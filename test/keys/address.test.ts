/** Address and fingerprint normalization for the key directory. */
import { describe, expect, it } from 'vitest';
import { normalizeAddress, sameAddress } from '../../src/keys/address.js';
import { normalizeFingerprint } from '../../src/keys/fingerprint.js';

describe('key directory addresses', () => {
  it.each([
    ['Alice@Example.ORG', 'Alice@example.org'],
    [' bob@example.org ', 'bob@example.org'],
    ['a@b@Example.org', 'a@b@example.org'],
  ])('normalizeAddress(%j) keeps the local part and lower-cases the domain', (input, out) => {
    expect(normalizeAddress(input)).toBe(out);
  });

  it.each(['', 'alice', '@example.org', 'alice@', 'a b@example.org', '<alice@example.org>'])('normalizeAddress(%j) is a usage error', (input) => {
    expect(() => normalizeAddress(input)).toThrow(expect.objectContaining({ code: 'SG_USAGE' }));
  });

  it.each<[string, string, boolean]>([
    ['alice@example.org', 'alice@EXAMPLE.org', true],
    ['alice@example.org', 'Alice@example.org', false],
    ['alice@example.org', 'alice@example.net', false],
    ['not an address', 'not an address', false],
  ])('sameAddress(%j, %j) is %s', (a, b, same) => {
    expect(sameAddress(a, b)).toBe(same);
  });

  it('fingerprints: any case, spaces and colons; 40 or 64 hex digits', () => {
    expect(normalizeFingerprint('35AC 611F 9038 1342 23BB  00F3 83B7 D691 7F7F 5B48')).toBe('35ac611f9038134223bb00f383b7d6917f7f5b48');
    expect(normalizeFingerprint('AB:'.repeat(31) + 'AB')).toBe('ab'.repeat(32));
    expect(() => normalizeFingerprint('83B7D6917F7F5B48')).toThrow(expect.objectContaining({ code: 'SG_USAGE' }));
  });
});
