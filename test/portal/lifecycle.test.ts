/**
 * Portal lifecycle with real SQLite, a real object store directory and real
 * keys: revoke and the expiry purge crypto-shred (object gone, wrapped key
 * gone, a saved copy of the ciphertext undecryptable even with the master
 * key), write PHI-free audit records in the same transaction as the key's
 * destruction, are idempotent, and a dry run changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tailAudit, verifyAuditChain } from '../../src/audit/log.js';
import { Keyring, masterKeyFromBytes, unwrapKey } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { isSealgateError } from '../../src/errors.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { CodeStore } from '../../src/portal/code-store.js';
import { PORTAL_SESSION_IDLE_MS, PortalLifecycle, portalState, shredReason, type PortalTimes } from '../../src/portal/lifecycle.js';
import { deriveCodeKey } from '../../src/portal/one-time-code.js';
import { PortalStore } from '../../src/portal/portal-store.js';
import { createKeyedDecryptStream } from '../../src/spool/crypt-stream.js';
import { filesUnder } from '../helpers/files.js';

const NOW = Date.UTC(2026, 11, 4, 9, 0, 0);
const HOUR = 3600 * 1000;
const SECRET = 'Diagnosis: zebra-fever-7731 for patient Jane Roe';
const Q1 = '01JABCDEFGHJKMNPQRST';
const Q2 = '01JABCDEFGHJKMNPQRSV';

let dir: string;
let db: Database;
let objects: LocalObjectStore;
let keyring: Keyring;
let portal: PortalStore;
let codes: CodeStore;
let life: PortalLifecycle;
let clock: number;

const recipients = [
  { address: 'pat@gmail.example', bcc: false },
  { address: 'hidden@bcc.example', bcc: true },
];

function mime(): Buffer {
  return Buffer.from(`From: dr@clinic.example\r\nSubject: results\r\n\r\n${SECRET}\r\n${'x'.repeat(5000)}\r\n`);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-life-'));
  db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
  objects = new LocalObjectStore(join(dir, 'store'));
  await objects.init();
  keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
  portal = new PortalStore({ db, objects, keyring });
  codes = new CodeStore({ db, key: deriveCodeKey(keyring.current.key) });
  clock = NOW;
  life = new PortalLifecycle({ db, portal, objects, codes, now: () => clock });
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function deposit(queueId: string, expiresAt = NOW + 24 * HOUR, now = NOW): Promise<string> {
  return (await portal.deposit({ queueId, source: Readable.from([mime()]), recipients, expiresAt, now })).depositId;
}

interface Row {
  deposit_id: string;
  object_key: string;
  key_id: string;
  wrapped_key: Buffer | null;
  revoked_at: number | null;
  revoked_by: string | null;
  shredded_at: number | null;
}

async function row(depositId: string): Promise<Row> {
  const r = await db.get<Row>('SELECT deposit_id, object_key, key_id, wrapped_key, revoked_at, revoked_by, shredded_at FROM portal_messages WHERE deposit_id = ?', [
    depositId,
  ]);
  if (!r) throw new Error('no row');
  return r;
}

const objectFile = (objectKey: string): string => join(dir, 'store', 'objects', `${objectKey}@`);

async function audit(): Promise<{ type: string; data: Record<string, unknown> }[]> {
  return (await tailAudit(db, 1000)).map((r) => ({ type: r.type, data: r.data as Record<string, unknown> }));
}

async function keysOf(): Promise<string[]> {
  const out: string[] = [];
  for await (const k of objects.list('')) out.push(k);
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/**
 * Everything an attacker holding the master key and a saved ciphertext could
 * try: the portal itself (with the ciphertext put back), the row's wrapped
 * key, and the master key used directly as the data key. All must fail.
 */
async function expectUndecryptable(r: Row, savedCiphertext: string): Promise<void> {
  await copyFile(savedCiphertext, objectFile(r.object_key)); // put the old ciphertext back
  const err = await errorOf(portal.open(r.deposit_id));
  expect(isSealgateError(err, 'SG_PORTAL_SHREDDED')).toBe(true);
  const now = await row(r.deposit_id);
  expect(now.wrapped_key).toBeNull(); // nothing to unwrap
  expect(() => unwrapKey(keyring, now.key_id, Buffer.alloc(0), Buffer.from('sealgate-portal-key-v1'))).toThrow(/too short/);
  const naive = createKeyedDecryptStream(keyring.current.key, `portal:${r.deposit_id}:${r.object_key}`);
  const drain = async (src: AsyncIterable<Buffer>): Promise<void> => {
    for await (const _ of src) void _;
  };
  await expect(pipeline(Readable.from([await readFile(savedCiphertext)]), naive, drain)).rejects.toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
}

describe('portalState and shredReason', () => {
  const t = (expiresAt: number, revokedAt: number | null = null, shreddedAt: number | null = null): PortalTimes => ({ expiresAt, revokedAt, shreddedAt });
  it.each([
    ['before expiry → active', t(NOW + 1), NOW, 'active', undefined],
    ['at the expiry time → expired', t(NOW), NOW, 'expired', 'expired'],
    ['after expiry → expired', t(NOW - 1), NOW, 'expired', 'expired'],
    ['revoked before expiry → revoked', t(NOW + HOUR, NOW - 5), NOW, 'revoked', 'revoked'],
    ['revoked and past expiry → revoked (the operator acted)', t(NOW - HOUR, NOW - 5), NOW, 'revoked', 'revoked'],
    ['shredded after expiry → shredded, nothing due', t(NOW - HOUR, null, NOW - 1), NOW, 'shredded', undefined],
    ['shredded after revocation → shredded', t(NOW + HOUR, NOW - 5, NOW - 5), NOW, 'shredded', undefined],
    ['shredded before expiry (purged) → shredded', t(NOW + HOUR, null, NOW - 5), NOW, 'shredded', undefined],
  ] as const)('%s', (_name, times, now, state, reason) => {
    expect(portalState(times, now)).toBe(state);
    expect(shredReason(times, now)).toBe(reason);
  });
});

describe('PortalLifecycle.revoke', () => {
  it('revokes and shreds every deposit of the message at once: object gone, key gone, saved ciphertext undecryptable', async () => {
    const a = await deposit(Q1);
    const b = await deposit(Q1, NOW + 24 * HOUR, NOW + 1); // oldest first
    const other = await deposit(Q2);
    const saved: Record<string, string> = {};
    const wrappedBefore: Buffer[] = [];
    for (const id of [a, b]) {
      const r = await row(id);
      saved[id] = join(dir, `saved-${id}`);
      await copyFile(objectFile(r.object_key), saved[id]);
      wrappedBefore.push(Buffer.from(r.wrapped_key ?? Buffer.alloc(0)));
    }
    clock = NOW + 10 * 60 * 1000;

    const out = await life.revoke(Q1, 'alice');
    expect(out).toEqual([a, b].map((depositId) => ({
      depositId,
      queueId: Q1,
      size: mime().length,
      revoked: true,
      shredded: true,
      revokedAt: clock,
      revokedBy: 'alice',
      shreddedAt: clock,
    })));
    for (const id of [a, b]) {
      const r = await row(id);
      expect(r).toMatchObject({ wrapped_key: null, revoked_at: clock, revoked_by: 'alice', shredded_at: clock });
      expect(await objects.exists(r.object_key)).toBe(false);
      await expectUndecryptable(r, saved[id] ?? '');
    }
    // the other message is untouched and still opens
    expect((await row(other)).wrapped_key).not.toBeNull();
    expect(await objects.exists((await row(other)).object_key)).toBe(true);

    // no copy of the old wrapped keys anywhere on disk (database, WAL)
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    for (const f of await filesUnder(dir)) for (const w of wrappedBefore) expect(f.bytes.includes(w), f.path).toBe(false);

    const events = await audit();
    expect(events.filter((e) => e.type.startsWith('portal:'))).toEqual([
      { type: 'portal:revoked', data: { depositId: a, queueId: Q1, operator: 'alice' } },
      { type: 'portal:revoked', data: { depositId: b, queueId: Q1, operator: 'alice' } },
      { type: 'portal:shredded', data: { depositId: a, queueId: Q1, reason: 'revoked' } },
      { type: 'portal:shredded', data: { depositId: b, queueId: Q1, reason: 'revoked' } },
    ]);
    const text = JSON.stringify(events);
    for (const banned of [SECRET, 'zebra', 'pat@gmail.example', 'hidden@bcc.example']) expect(text).not.toContain(banned);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('is idempotent: a second revoke changes nothing and writes no audit event', async () => {
    const a = await deposit(Q1);
    await life.revoke(Q1, 'alice');
    const before = (await audit()).length;
    clock += 1000;
    const again = await life.revoke(Q1, 'bob');
    expect(again).toEqual([{ depositId: a, queueId: Q1, size: mime().length, revoked: false, shredded: false, revokedAt: NOW, revokedBy: 'alice', shreddedAt: NOW }]);
    expect((await audit()).length).toBe(before);
  });

  it('a deposit id revokes that deposit only', async () => {
    const a = await deposit(Q1);
    const b = await deposit(Q1);
    const out = await life.revoke(a, 'alice');
    expect(out.map((o) => [o.depositId, o.revoked])).toEqual([[a, true]]);
    expect((await row(b)).revoked_at).toBeNull();
  });

  it('an expired and shredded message is reported, not revoked', async () => {
    const a = await deposit(Q1, NOW + HOUR);
    expect((await life.purgeDue(NOW + HOUR)).shredded.map((s) => s.reason)).toEqual(['expired']);
    const before = (await audit()).length;
    const out = await life.revoke(Q1, 'alice');
    expect(out).toEqual([{ depositId: a, queueId: Q1, size: mime().length, revoked: false, shredded: false, revokedAt: null, revokedBy: null, shreddedAt: NOW + HOUR }]);
    expect((await audit()).length).toBe(before);
  });

  it('an unknown id is SG_PORTAL_NOT_FOUND, naming the id', async () => {
    await deposit(Q1);
    const err = await errorOf(life.revoke(Q2, 'alice'));
    expect(isSealgateError(err, 'SG_PORTAL_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toBe(`no portal message with queue id ${Q2}`);
    const hex = await errorOf(life.revoke('ab'.repeat(16), 'alice'));
    expect((hex as Error).message).toBe(`no portal message with queue id or deposit id ${'ab'.repeat(16)}`);
    const odd = await errorOf(life.revoke('x\ny\u202e', 'alice'));
    expect((odd as Error).message).toBe('no portal message with queue id x?y?');
  });

  it('finishes a revocation a crash interrupted (revoked, key not yet destroyed)', async () => {
    const a = await deposit(Q1);
    await db.run('UPDATE portal_messages SET revoked_at = ?, revoked_by = ? WHERE deposit_id = ?', [NOW - 5, 'alice', a]);
    const again = await life.revoke(Q1, 'bob');
    expect(again[0]).toMatchObject({ revoked: false, shredded: true, revokedBy: 'alice', shreddedAt: NOW });
    expect((await audit()).map((e) => [e.type, e.data.reason])).toEqual([['portal:shredded', 'revoked']]);
  });
});

describe('PortalLifecycle.purgeDue', () => {
  it('shreds what expired (at its expiry time), audits it, and leaves the rest; a dry run changes nothing', async () => {
    const soon = await deposit(Q1, NOW + HOUR);
    const later = await deposit(Q2, NOW + 2 * HOUR);
    const r = await row(soon);
    const saved = join(dir, 'saved');
    await copyFile(objectFile(r.object_key), saved);

    const snapshot = async (): Promise<unknown> => ({
      rows: await db.all('SELECT * FROM portal_messages ORDER BY deposit_id'),
      audit: await audit(),
      objects: await keysOf(),
    });
    const before = await snapshot();
    const dry = await life.purgeDue(NOW + HOUR, { dryRun: true });
    expect(dry).toEqual({ dryRun: true, shredded: [{ depositId: soon, queueId: Q1, reason: 'expired', size: mime().length }], failed: [], codes: null, sessions: null });
    expect(await snapshot()).toEqual(before);

    expect((await life.purgeDue(NOW + HOUR - 1)).shredded).toEqual([]);
    const run = await life.purgeDue(NOW + HOUR);
    expect(run.shredded).toEqual(dry.shredded);
    expect(run.failed).toEqual([]);
    expect(await row(soon)).toMatchObject({ wrapped_key: null, shredded_at: NOW + HOUR, revoked_at: null });
    expect(await objects.exists(r.object_key)).toBe(false);
    await expectUndecryptable(r, saved);
    expect((await row(later)).wrapped_key).not.toBeNull();
    expect((await audit()).map((e) => e)).toEqual([{ type: 'portal:shredded', data: { depositId: soon, queueId: Q1, reason: 'expired' } }]);

    // idempotent
    expect((await life.purgeDue(NOW + HOUR)).shredded).toEqual([]);
    expect((await audit()).length).toBe(1);
  });

  it('the key is destroyed only together with its audit record', async () => {
    const a = await deposit(Q1, NOW + HOUR);
    await db.exec('ALTER TABLE audit_log RENAME TO audit_log_away');
    const failedRun = await life.purgeDue(NOW + HOUR);
    expect(failedRun.shredded).toEqual([]);
    expect(failedRun.failed).toEqual([{ depositId: a, queueId: Q1, reason: 'expired', size: mime().length, error: 'Error' }]);
    expect((await row(a)).wrapped_key).not.toBeNull(); // rolled back: no key destroyed without its record
    expect(await objects.exists((await row(a)).object_key)).toBe(true);
    await db.exec('ALTER TABLE audit_log_away RENAME TO audit_log');
    expect((await life.purgeDue(NOW + HOUR)).shredded.map((s) => s.depositId)).toEqual([a]);
    expect((await audit()).map((e) => e.type)).toEqual(['portal:shredded']);
  });

  it('removes spent sign-in codes and idle sessions, and the sessions of a shredded deposit', async () => {
    const a = await deposit(Q1, NOW + 10 * HOUR);
    const b = await deposit(Q2, NOW + HOUR);
    expect((await codes.requestCode(a, 'pat@gmail.example', NOW)).outcome).toBe('issued');
    expect((await codes.requestCode(a, 'pat@gmail.example', NOW + 2 * HOUR)).outcome).toBe('issued');
    const session = (hash: string, depositId: string, lastSeen: number): Promise<unknown> =>
      db.run(
        `INSERT INTO portal_sessions (session_hash, deposit_id, recipient, method, csrf_token, created_at, last_seen_at, remote_ip)
         VALUES (?, ?, 'pat@gmail.example', 'code', 'csrf', ?, ?, '127.0.0.1')`,
        [hash, depositId, lastSeen, lastSeen],
      );
    const at = NOW + 2 * HOUR + 5 * 60 * 1000;
    await session('idle', a, at - PORTAL_SESSION_IDLE_MS - 1);
    await session('fresh', a, at - 1000);
    await session('on-expired', b, at - 1000);
    const run = await life.purgeDue(at);
    expect(run.shredded.map((s) => s.depositId)).toEqual([b]);
    expect(run.codes).toBe(1); // the first code: expired more than the rate window ago; the current one stays
    expect(run.sessions).toBe(1);
    expect((await db.all<{ session_hash: string }>('SELECT session_hash FROM portal_sessions')).map((s) => s.session_hash)).toEqual(['fresh']);
    expect(await db.get('SELECT COUNT(*) AS n FROM portal_codes')).toEqual({ n: 1 });
  });
});

describe('PortalLifecycle.removeLeftovers', () => {
  it('deletes objects whose key a crash destroyed before the object went, and nothing else', async () => {
    const gone = await deposit(Q1, NOW + HOUR);
    const live = await deposit(Q2);
    const r = await row(gone);
    const saved = join(dir, 'saved');
    await copyFile(objectFile(r.object_key), saved);
    await life.purgeDue(NOW + HOUR);
    await copyFile(saved, objectFile(r.object_key)); // what a crash after the key's commit leaves
    await objects.put('portal/ab/ab000000000000000000000000000000', Readable.from([Buffer.from('no row: removeOrphans at start handles it')]));
    expect(await life.removeLeftovers()).toBe(1);
    expect(await objects.exists(r.object_key)).toBe(false);
    expect(await objects.exists((await row(live)).object_key)).toBe(true);
    expect(await objects.exists('portal/ab/ab000000000000000000000000000000')).toBe(true);
  });
});
