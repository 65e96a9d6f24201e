/**
 * The organisation key store in process: the private key sealed under the
 * current master key and opened again, after a master key rotation too;
 * a row whose ciphertext was altered or moved to another fingerprint does
 * not open; an unknown master key and a missing key are named errors that
 * carry no key material.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tailAudit, verifyAuditChain } from '../../src/audit/log.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { SealgateError } from '../../src/errors.js';
import { generateOrgPgpKey } from '../../src/keys/org-pgp.js';
import { loadOrgPgpSigningKey, orgKeyAad, splitCertChain, SqlOrgKeyStore, type NewOrgKey } from '../../src/keys/org-store.js';

let dir: string;
let db: Database;
const T = Date.UTC(2026, 0, 15);
const k1 = masterKeyFromBytes(randomBytes(32));
const k2 = masterKeyFromBytes(randomBytes(32));

const fake = (secret: string, fingerprint = 'ab'.repeat(32)): NewOrgKey => ({
  kind: 'smime',
  fingerprint,
  algorithm: 'RSA 2048',
  createdAt: T,
  expiresAt: T + 1000,
  details: { subject: 'CN=Org' },
  publicMaterial: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  secret,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-org-store-'));
  db = await Database.open(join(dir, 'db.sqlite'));
  await migrate(db);
});

afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

function codeOf(err: unknown): string | undefined {
  return err instanceof SealgateError ? err.code : undefined;
}

describe('SqlOrgKeyStore', () => {
  it('seals and opens a generated OpenPGP key; get/list never return the secret', async () => {
    const store = new SqlOrgKeyStore(db, new Keyring(k1));
    const key = await generateOrgPgpKey({ name: 'Org', email: 'org@example.org', now: T });
    expect(key.fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect(await store.put(key, { operator: 'test', now: T, event: 'keys:org_created' })).toEqual({ replaced: undefined });
    const info = await new SqlOrgKeyStore(db).get('pgp');
    expect(info).toMatchObject({ kind: 'pgp', fingerprint: key.fingerprint, keyId: k1.id, storedAt: T, details: { userIds: ['Org <org@example.org>'] } });
    expect(JSON.stringify(await new SqlOrgKeyStore(db).list())).not.toContain('PRIVATE');
    const loaded = await loadOrgPgpSigningKey(db, new Keyring(k1));
    expect(loaded).toEqual({ fingerprint: key.fingerprint, signingKey: key.secret });
    const raw = await db.get<{ secret_ciphertext: Buffer }>("SELECT secret_ciphertext FROM org_keys WHERE kind = 'pgp'");
    expect(Buffer.from(raw?.secret_ciphertext ?? []).toString('latin1')).not.toContain('PGP');
  });

  it('opens after a master key rotation (old key in previous), and names the master key id when it is missing', async () => {
    await new SqlOrgKeyStore(db, new Keyring(k1)).put(fake('-----BEGIN PRIVATE KEY-----\nsecret-one\n'), { operator: 'test', now: T, event: 'keys:org_imported' });
    const rotated = new SqlOrgKeyStore(db, new Keyring(k2, [k1]));
    expect((await rotated.loadSecret('smime')).secret).toBe('-----BEGIN PRIVATE KEY-----\nsecret-one\n');
    const err = await new SqlOrgKeyStore(db, new Keyring(k2)).loadSecret('smime').catch((e: unknown) => e);
    expect(codeOf(err)).toBe('SG_KEY_UNKNOWN');
    expect(String((err as Error).message)).toContain(k1.id);
    // a new put seals under the current key and records the replaced fingerprint
    const r = await rotated.put(fake('-----BEGIN PRIVATE KEY-----\nsecret-two\n', 'cd'.repeat(32)), { operator: 'test', now: T + 1, event: 'keys:org_imported' });
    expect(r).toEqual({ replaced: 'ab'.repeat(32) });
    expect((await rotated.get('smime'))?.keyId).toBe(k2.id);
  });

  it.for<[string, string]>([
    ['a flipped ciphertext byte', "UPDATE org_keys SET secret_ciphertext = ? WHERE kind = 'smime'"],
    ['the ciphertext moved to another fingerprint (AAD)', "UPDATE org_keys SET fingerprint = 'ef' || substr(fingerprint, 3) WHERE kind = 'smime' AND ? IS NOT NULL"],
  ])('%s: SG_ORG_KEY_CORRUPT, no key material in the message', async ([, sql]) => {
    const store = new SqlOrgKeyStore(db, new Keyring(k2, [k1]));
    await store.put(fake('-----BEGIN PRIVATE KEY-----\nsecret-three\n'), { operator: 'test', now: T + 2, event: 'keys:org_imported' });
    const row = await db.get<{ secret_ciphertext: Buffer }>("SELECT secret_ciphertext FROM org_keys WHERE kind = 'smime'");
    const flipped = Buffer.from(row?.secret_ciphertext ?? []);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    await db.run(sql, [flipped]);
    const err = await store.loadSecret('smime').catch((e: unknown) => e);
    expect(codeOf(err)).toBe('SG_ORG_KEY_CORRUPT');
    expect(String((err as Error).message)).not.toContain('secret');
  });

  it('a missing kind is SG_ORG_KEY_NOT_FOUND; sealing needs a keyring', async () => {
    await db.run("DELETE FROM org_keys WHERE kind = 'pgp'");
    expect(codeOf(await new SqlOrgKeyStore(db, new Keyring(k1)).loadSecret('pgp').catch((e: unknown) => e))).toBe('SG_ORG_KEY_NOT_FOUND');
    await expect(new SqlOrgKeyStore(db).put(fake('x'), { operator: 't', now: T, event: 'keys:org_imported' })).rejects.toThrow(/keyring is needed/);
  });

  it('audit events carry fingerprints only, and the chain verifies', async () => {
    const events = await tailAudit(db, 50);
    const org = events.filter((e) => e.type.startsWith('keys:org_'));
    expect(org.length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(org)).not.toMatch(/secret|PRIVATE|BEGIN/);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('pure helpers: the AAD names kind and fingerprint; stored S/MIME material splits into certificate and chain', () => {
    expect(orgKeyAad('pgp', 'aa').equals(orgKeyAad('smime', 'aa'))).toBe(false);
    const a = '-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n';
    const b = '-----BEGIN CERTIFICATE-----\nBB\n-----END CERTIFICATE-----\n';
    expect(splitCertChain(a + b)).toEqual({ certPem: a, chainPem: b });
    expect(splitCertChain(a)).toEqual({ certPem: a, chainPem: '' });
  });
});
