/** Which key wins when one arrives for an address that has keys (pure; discovery will use it). */
import { describe, expect, it } from 'vitest';
import { decideStore, type StoreDecision, type StoredKeyRef } from '../../src/keys/replace.js';

const admin = (fingerprint: string, valid = true): StoredKeyRef => ({ fingerprint, kind: 'pgp', source: 'admin', valid });
const wkd = (fingerprint: string, valid = true): StoredKeyRef => ({ fingerprint, kind: 'pgp', source: 'wkd', valid });
const dns = (fingerprint: string, valid = true): StoredKeyRef => ({ fingerprint, kind: 'pgp', source: 'dns', valid });
const ks = (fingerprint: string, valid = true): StoredKeyRef => ({ fingerprint, kind: 'pgp', source: 'keyserver', valid });
const smimeAdmin: StoredKeyRef = { fingerprint: 'c1', kind: 'smime', source: 'admin', valid: true };

describe('decideStore', () => {
  it.each<[string, StoredKeyRef[], StoredKeyRef, StoreDecision]>([
    ['nothing stored, admin import → insert', [], admin('a1'), { action: 'insert', replaces: [] }],
    ['nothing stored, discovered → insert', [], wkd('w1'), { action: 'insert', replaces: [] }],
    ['nothing stored, discovered invalid → insert (its reason is worth keeping)', [], wkd('w1', false), { action: 'insert', replaces: [] }],
    ['admin key stored, discovered other key → keep the admin key', [admin('a1')], wkd('w1'), { action: 'keep', why: 'admin-key-present' }],
    ['invalid admin key stored, discovered valid key → still keep the admin key', [admin('a1', false)], wkd('w1'), { action: 'keep', why: 'admin-key-present' }],
    ['admin key stored, the same key discovered → keep (stays admin)', [admin('a1')], wkd('a1'), { action: 'keep', why: 'admin-key-present' }],
    ['admin key stored, another admin import → insert beside it', [admin('a1')], admin('a2'), { action: 'insert', replaces: [] }],
    ['admin key imported again → update', [admin('a1')], admin('a1'), { action: 'update' }],
    ['discovered key stored, admin imports it → update (becomes admin)', [wkd('w1')], admin('w1'), { action: 'update' }],
    ['discovered key stored, admin imports another → insert beside it', [wkd('w1')], admin('a1'), { action: 'insert', replaces: [] }],
    ['discovered key fetched again (now revoked) → update', [wkd('w1')], wkd('w1', false), { action: 'update' }],
    ['valid discovered key stored, other discovered key invalid → keep the valid one', [wkd('w1')], wkd('w2', false), { action: 'keep', why: 'valid-key-present' }],
    ['valid discovered key stored, other discovered key valid → insert, replacing it', [wkd('w1')], wkd('w2'), { action: 'insert', replaces: ['w1'] }],
    ['invalid discovered key stored, other discovered key valid → insert, replacing it', [wkd('w1', false)], wkd('w2'), { action: 'insert', replaces: ['w1'] }],
    ['invalid discovered stored, other invalid discovered → insert beside it', [wkd('w1', false)], wkd('w2', false), { action: 'insert', replaces: [] }],
    ['admin S/MIME certificate does not block a discovered OpenPGP key', [smimeAdmin], wkd('w1'), { action: 'insert', replaces: [] }],
    ['a discovered OpenPGP key does not replace an S/MIME one', [{ ...smimeAdmin, source: 'dns' }], wkd('w1'), { action: 'insert', replaces: [] }],
    ['valid WKD key stored, key server serves another valid key → keep (WKD is more trusted)', [wkd('w1')], ks('k1'), { action: 'keep', why: 'trusted-source-key-present' }],
    ['valid key-server key stored, WKD serves another valid key → insert, replacing it', [ks('k1')], wkd('w1'), { action: 'insert', replaces: ['k1'] }],
    ['valid DNS key stored, WKD serves another valid key → keep (DNSSEC is more trusted)', [dns('d1')], wkd('w1'), { action: 'keep', why: 'trusted-source-key-present' }],
    ['invalid DNS key stored, WKD serves a valid key → insert beside it (only a valid key blocks)', [dns('d1', false)], wkd('w1'), { action: 'insert', replaces: [] }],
    ['valid WKD and key-server keys stored, DNS serves a valid key → insert, replacing both', [wkd('w1'), ks('k1')], dns('d1'), { action: 'insert', replaces: ['w1', 'k1'] }],
    ['DNS key stored, the same key from the key server → update, keeping source dns', [dns('d1')], ks('d1'), { action: 'update', source: 'dns' }],
    ['key-server key stored, the same key by WKD → update (becomes wkd)', [ks('k1')], wkd('k1'), { action: 'update' }],
  ])('%s', (_name, existing, incoming, expected) => {
    expect(decideStore(existing, incoming)).toEqual(expected);
  });
});
