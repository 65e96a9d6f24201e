/**
 * The key directory (recipient_keys) and the organisation key store
 * (org_keys) on both databases (test/helpers/both-databases.ts): the same
 * stores, rules and audit events on SQLite and PostgreSQL, and several
 * writers — a second connection to the SQLite file (a second process), a
 * second pool on the PostgreSQL database (a second node) — storing keys for
 * one address, or replacing the organisation key, at once: the replacement
 * rules decide one store after the other, so no write fails on a key
 * violation and the audit chain still verifies. The SQLite-only details stay
 * in store.test.ts and org-store.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tailAudit, verifyAuditChain } from '../../src/audit/log.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { SqlOrgKeyStore, type NewOrgKey } from '../../src/keys/org-store.js';
import { SqlKeyDirectory } from '../../src/keys/store.js';
import type { KeyRecord } from '../../src/keys/types.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = Date.UTC(2026, 0, 15);
const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));

function record(fingerprint: string, address: string, change: Partial<KeyRecord> = {}): KeyRecord {
  return {
    fingerprint,
    kind: 'pgp',
    address,
    source: 'wkd',
    algorithm: 'eddsaLegacy/ed25519Legacy + ecdh/curve25519Legacy',
    createdAt: T - 86_400_000,
    expiresAt: null,
    revoked: false,
    valid: true,
    reason: 'valid',
    details: { emails: [address], userIds: [`X <${address}>`], encryptionKey: 'ee'.repeat(20), revocation: 'checked' },
    material: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n…\n-----END PGP PUBLIC KEY BLOCK-----\n',
    importedAt: T,
    checkedAt: T,
    ...change,
  };
}

const orgKey = (fingerprint: string): NewOrgKey => ({
  kind: 'smime',
  fingerprint,
  algorithm: 'RSA 2048',
  createdAt: T,
  expiresAt: T + 1000,
  details: { subject: 'CN=Org' },
  publicMaterial: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  secret: `-----BEGIN PRIVATE KEY-----\n${fingerprint}\n-----END PRIVATE KEY-----\n`,
});

describe.each(DIALECTS)('key stores on %s', (kind) => {
  it('stores, updates, replaces, lists and removes keys with an audit event for each change', async () => {
    const keys = new SqlKeyDirectory(dbs.get(kind));
    const a = 'a1'.repeat(20);
    const b = 'b1'.repeat(20);
    expect(await keys.put(record(a, 'alice@example.org'), { operator: 'root' })).toEqual({ action: 'insert', replaces: [] });
    // the same key found again: updated in place (a less trusted source keeps the more trusted one)
    expect((await keys.put(record(a, 'alice@example.org', { checkedAt: T + 1 }), {})).action).toBe('update');
    // a newer valid key of the same kind from the same source replaces the old one
    const replaced = await keys.put(record(b, 'alice@example.org', { createdAt: T }), {});
    expect(replaced).toEqual({ action: 'insert', replaces: [a] });
    expect((await keys.list({ address: 'alice@example.org' })).map((k) => k.fingerprint)).toEqual([b]);
    expect(await keys.get(b)).toEqual([record(b, 'alice@example.org', { createdAt: T })]);
    expect(await keys.remove(b, { operator: 'root', now: T + 2 })).toBe(1);
    expect(await keys.list({ address: 'alice@example.org' })).toEqual([]);
    const types = (await tailAudit(dbs.get(kind), 10)).map((e) => e.type);
    expect(types.slice(-4)).toEqual(['keys:stored', 'keys:stored', 'keys:stored', 'keys:removed']);
  });

  it('several writers storing keys for one address at once: every store succeeds and the rules leave one current key', async () => {
    const writers = [dbs.get(kind), await dbs.connect(kind), await dbs.connect(kind)];
    const address = 'carol@example.org';
    // eight different valid keys of one kind and source, each from one of three connections
    const fingerprints = Array.from({ length: 8 }, (_, i) => `c${i}`.repeat(20));
    const results = await Promise.allSettled(fingerprints.map((fp, i) => new SqlKeyDirectory(writers[i % writers.length]!).put(record(fp, address), {})));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // each store read the keys the one before it left and replaced them: one key remains, the last one stored
    const left = await new SqlKeyDirectory(dbs.get(kind)).list({ address });
    expect(left).toHaveLength(1);
    const stored = (await tailAudit(dbs.get(kind), 8)).map((e) => e.data as { fingerprint: string; replaced?: string[] });
    expect(stored.map((d) => d.fingerprint).sort()).toEqual([...fingerprints].sort());
    expect(stored.at(-1)?.fingerprint).toBe(left[0]?.fingerprint);
    // every store but the first replaced exactly the key the store before it (in commit order) had left
    expect(stored[0]?.replaced).toBeUndefined();
    for (let i = 1; i < stored.length; i++) expect(stored[i]?.replaced).toEqual([stored[i - 1]?.fingerprint]);
    expect((await verifyAuditChain(dbs.get(kind))).ok).toBe(true);
  });

  it('the organisation key: sealed, opened, replaced; two nodes replacing it at once each name the key they replaced', async () => {
    const store = new SqlOrgKeyStore(dbs.get(kind), keyring);
    expect(await store.put(orgKey('01'.repeat(32)), { operator: 'root', now: T, event: 'keys:org_imported' })).toEqual({ replaced: undefined });
    const opened = await store.loadSecret('smime');
    expect(opened.secret).toContain('01'.repeat(32));
    expect(opened.info.fingerprint).toBe('01'.repeat(32));
    expect((await store.list()).map((k) => k.kind)).toEqual(['smime']);

    const other = new SqlOrgKeyStore(await dbs.connect(kind), keyring);
    const [x, y] = await Promise.all([
      store.put(orgKey('02'.repeat(32)), { operator: 'ann', now: T + 1, event: 'keys:org_imported' }),
      other.put(orgKey('03'.repeat(32)), { operator: 'bob', now: T + 1, event: 'keys:org_imported' }),
    ]);
    // one replaced the first key, the other replaced that one: a chain of replacements, none lost
    const replacedSet = new Set([x.replaced, y.replaced]);
    expect(replacedSet.has('01'.repeat(32))).toBe(true);
    const last = (await store.get('smime'))?.fingerprint;
    expect(last === '02'.repeat(32) ? y.replaced : x.replaced).toBe('01'.repeat(32));
    expect(replacedSet.has(last === '02'.repeat(32) ? '03'.repeat(32) : '02'.repeat(32))).toBe(true);
    expect((await verifyAuditChain(dbs.get(kind))).ok).toBe(true);
  });
});
