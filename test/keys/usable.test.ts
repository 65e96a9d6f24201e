import { describe, expect, it } from 'vitest';
import { chooseForDelivery, usableKeys } from '../../src/keys/choose.js';

type Row = { fingerprint: string; kind: 'pgp' | 'smime'; source: 'admin' | 'wkd'; valid: boolean; reason: 'valid' | 'revoked'; createdAt: number; expiresAt: number | null };
const k = (fingerprint: string, kind: 'pgp' | 'smime', source: 'admin' | 'wkd', valid = true, createdAt = 1, expiresAt: number | null = null): Row => ({ fingerprint, kind, source, valid, reason: valid ? 'valid' : 'revoked', createdAt, expiresAt });

describe('usableKeys: the key of each kind that would be used', () => {
  it.each<[string, Row[], string | undefined, string | undefined]>([
    ['none', [], undefined, undefined],
    ['one of each', [k('p', 'pgp', 'wkd'), k('s', 'smime', 'admin')], 'p', 's'],
    ['an admin PGP key is chosen among PGP keys only', [k('p1', 'pgp', 'wkd', true, 9), k('p2', 'pgp', 'admin'), k('s', 'smime', 'wkd', true, 99)], 'p2', 's'],
    ['an invalid certificate leaves S/MIME empty', [k('p', 'pgp', 'wkd'), k('s', 'smime', 'admin', false)], 'p', undefined],
    ['a key expired since its check is not used', [k('p', 'pgp', 'admin', true, 1, 50)], undefined, undefined],
  ])('%s', (_name, rows, pgp, smime) => {
    const u = usableKeys(rows, 100);
    expect(u.pgp?.fingerprint).toBe(pgp);
    expect(u.smime?.fingerprint).toBe(smime);
  });
});

describe('chooseForDelivery: what keys lookup reports as used is what delivery uses', () => {
  it.each<[string, Row[], 'smime' | 'pgp', string | undefined, Record<string, string>]>([
    ['none', [], 'smime', undefined, {}],
    ['both kinds, prefer smime', [k('p', 'pgp', 'admin', true, 9), k('s', 'smime', 'wkd')], 'smime', 's', { p: 'other-kind-preferred', s: 'used' }],
    ['both kinds, prefer pgp', [k('p', 'pgp', 'wkd'), k('s', 'smime', 'admin', true, 9)], 'pgp', 'p', { p: 'used', s: 'other-kind-preferred' }],
    ['only the other kind is valid', [k('p', 'pgp', 'wkd'), k('s', 'smime', 'admin', false)], 'smime', 'p', { p: 'used', s: 'revoked' }],
    ['two PGP keys and a certificate', [k('p1', 'pgp', 'wkd', true, 1), k('p2', 'pgp', 'wkd', true, 2), k('s', 'smime', 'admin')], 'pgp', 'p2', { p1: 'another-key-preferred', p2: 'used', s: 'other-kind-preferred' }],
  ])('%s', (_name, rows, prefer, used, why) => {
    expect(chooseForDelivery(rows, 100, prefer)).toEqual({ used, why });
  });
});
