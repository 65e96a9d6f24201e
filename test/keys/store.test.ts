/**
 * The SQLite key directory: rows per (fingerprint, address), the
 * replacement rules applied in the transaction, audit events beside each
 * change, and only portable SQL (checked by the statements' shape, not here).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tailAudit, verifyAuditChain } from '../../src/audit/log.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { SqlKeyDirectory } from '../../src/keys/store.js';
import type { KeyRecord } from '../../src/keys/types.js';

let dir: string;
let db: Database;
let keys: SqlKeyDirectory;
const T = Date.UTC(2026, 0, 15);

function record(fingerprint: string, address: string, change: Partial<KeyRecord> = {}): KeyRecord {
  return {
    fingerprint,
    kind: 'pgp',
    address,
    source: 'admin',
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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-keys-'));
  db = await Database.open(join(dir, 'k.db'));
  await migrate(db);
  keys = new SqlKeyDirectory(db);
});

afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('SqlKeyDirectory', () => {
  it('stores, lists, gets and removes keys; a key may be recorded for several addresses and an address may have several keys', async () => {
    const a = 'aa'.repeat(20);
    const b = 'bb'.repeat(20);
    const c = 'cc'.repeat(32);
    expect(await keys.put(record(a, 'alice@example.org'), { operator: 'root' })).toEqual({ action: 'insert', replaces: [] });
    expect(await keys.put(record(a, 'alice2@example.org'), { operator: 'root' })).toEqual({ action: 'insert', replaces: [] });
    await keys.put(record(b, 'alice@example.org', { valid: false, reason: 'expired', expiresAt: T - 1 }), { operator: 'root' });
    await keys.put(record(c, 'alice@example.org', { kind: 'smime', revoked: null, details: { emails: ['alice@example.org'], subject: 'CN=Alice', revocation: 'not checked', keyUsage: null, extendedKeyUsage: ['1.3.6.1.5.5.7.3.4'] } }), { operator: 'root' });

    const alice = await keys.list({ address: 'alice@example.org' });
    expect(alice.map((r) => [r.fingerprint, r.kind, r.valid, r.reason])).toEqual([
      [a, 'pgp', true, 'valid'],
      [b, 'pgp', false, 'expired'],
      [c, 'smime', true, 'valid'],
    ]);
    expect(alice[2]).toMatchObject({ revoked: null, details: { keyUsage: null, revocation: 'not checked' } });
    expect(alice[1]).toMatchObject({ expiresAt: T - 1, revoked: false });
    expect((await keys.list()).map((r) => r.address)).toEqual(['alice2@example.org', 'alice@example.org', 'alice@example.org', 'alice@example.org']);
    expect((await keys.get(a)).map((r) => r.address)).toEqual(['alice2@example.org', 'alice@example.org']);
    expect(await keys.get(a)).toEqual([record(a, 'alice2@example.org'), record(a, 'alice@example.org')]);

    expect(await keys.remove(a, { operator: 'root', now: T + 1 })).toBe(2);
    expect(await keys.get(a)).toEqual([]);
    expect(await keys.remove(a, { operator: 'root', now: T + 1 })).toBe(0);
  });

  it('a discovered key never replaces an admin key; an admin re-import refreshes the row', async () => {
    const admin = 'a1'.repeat(20);
    const found = 'f1'.repeat(20);
    await keys.put(record(admin, 'bob@example.org'), { operator: 'root' });
    expect(await keys.put(record(found, 'bob@example.org', { source: 'wkd' }), {})).toEqual({ action: 'keep', why: 'admin-key-present' });
    expect(await keys.put(record(admin, 'bob@example.org', { source: 'wkd', valid: false, reason: 'revoked' }), {})).toEqual({ action: 'keep', why: 'admin-key-present' });
    expect(await keys.put(record(admin, 'bob@example.org', { checkedAt: T + 5, importedAt: T + 5, revoked: true, valid: false, reason: 'revoked' }), { operator: 'root' })).toEqual({ action: 'update' });
    expect((await keys.list({ address: 'bob@example.org' })).map((r) => [r.fingerprint, r.source, r.reason, r.importedAt])).toEqual([[admin, 'admin', 'revoked', T + 5]]);
  });

  it('a new valid discovered key replaces the old discovered one', async () => {
    const old = 'd1'.repeat(20);
    const fresh = 'd2'.repeat(20);
    await keys.put(record(old, 'carol@example.org', { source: 'wkd' }), {});
    expect(await keys.put(record(fresh, 'carol@example.org', { source: 'wkd' }), {})).toEqual({ action: 'insert', replaces: [old] });
    expect((await keys.list({ address: 'carol@example.org' })).map((r) => r.fingerprint)).toEqual([fresh]);
  });

  it('every change is in the audit chain, never the key material', async () => {
    const rows = await tailAudit(db, 100);
    const types = rows.map((r) => r.type);
    expect(types).toContain('keys:stored');
    expect(types).toContain('keys:removed');
    const stored = rows.find((r) => r.type === 'keys:stored');
    expect(stored?.data).toEqual({ fingerprint: 'aa'.repeat(20), kind: 'pgp', address: 'alice@example.org', source: 'admin', verdict: 'valid', operator: 'root' });
    expect(rows.some((r) => JSON.stringify(r.data).includes('BEGIN PGP'))).toBe(false);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });
});
