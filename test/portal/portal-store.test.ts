/**
 * Portal storage with a real object store directory, real SQLite and real
 * crypto: deposit → findByToken → open gives back the original MIME; nothing
 * readable is stored (no plaintext in the object, no token in the database);
 * BCC visibility; shredding destroys the key and the object.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, pipeline, Readable } from 'node:stream';
import { createKeyedDecryptStream } from '../../src/spool/crypt-stream.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keyring, masterKeyFromBytes, unwrapKey } from '../../src/crypto/keyring.js';
import { Database, type Queryable } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { isSealgateError } from '../../src/errors.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { hashPortalToken, PortalStore } from '../../src/portal/portal-store.js';
import { openFds } from '../helpers/fds.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { filesUnder } from '../helpers/files.js';

const NOW = Date.UTC(2026, 11, 4, 9, 0, 0);
const DAY = 24 * 3600 * 1000;
const SECRET = 'Diagnosis: zebra-fever-7731 for patient Jane Roe';

let dir: string;
let db: Database;
let objects: LocalObjectStore;
let keyring: Keyring;
let portal: PortalStore;

function mime(size = 200_000): Buffer {
  const head = `From: dr@clinic.example\r\nTo: pat@gmail.example\r\nSubject: results\r\nContent-Type: text/plain\r\n\r\n${SECRET}\r\n`;
  const filler = Buffer.alloc(Math.max(0, size - head.length), 'lorem ipsum dolor sit amet\r\n');
  return Buffer.concat([Buffer.from(head), filler]);
}

/** Deterministic random source (a SHA-256 counter stream) and a record of what it gave out. */
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-portal-'));
  db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
  objects = new LocalObjectStore(join(dir, 'portal'));
  await objects.init();
  keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
  portal = new PortalStore({ db, objects, keyring });
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function errorCode(p: Promise<unknown>): Promise<unknown> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return isSealgateError(err) ? err.code : err;
}

async function objectKeys(): Promise<string[]> {
  const out: string[] = [];
  for await (const k of objects.list('')) out.push(k);
  return out;
}

const recipients = [
  { address: 'pat@gmail.example', bcc: false },
  { address: 'carer@outlook.example', bcc: false },
  { address: 'hidden@bcc.example', bcc: true },
];

describe('PortalStore', () => {
  it('deposit → findByToken → open gives back the original MIME, byte for byte', async () => {
    const body = mime();
    const dep = await portal.deposit({ queueId: 'Q1', source: Readable.from([body]), recipients, expiresAt: NOW + 30 * DAY, now: NOW });
    expect(dep.size).toBe(body.length);
    expect(dep.recipients.map((r) => [r.address, r.bcc])).toEqual(recipients.map((r) => [r.address, r.bcc]));
    expect(new Set(dep.recipients.map((r) => r.token)).size).toBe(3);
    expect(await objectKeys()).toHaveLength(1);
    for (const [i, r] of dep.recipients.entries()) {
      expect(r.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
      const match = await portal.findByToken(r.token);
      expect(match).toMatchObject({
        depositId: dep.depositId,
        queueId: 'Q1',
        recipient: { seq: i, address: r.address, bcc: r.bcc, notifiedAt: null, openedAt: null },
        createdAt: NOW,
        expiresAt: NOW + 30 * DAY,
        revokedAt: null,
        shreddedAt: null,
      });
    }
    const opened = await readAll(await portal.open(dep.depositId));
    expect(opened.equals(body)).toBe(true);
  });

  it('stores no plaintext and no token: not in the object, the database, its WAL or anywhere under the data directory', async () => {
    const body = mime(3000);
    const dep = await portal.deposit({ queueId: 'Q2', source: Readable.from([body]), recipients, expiresAt: NOW + DAY, now: NOW });
    const files = await filesUnder(dir);
    expect(files.map((f) => f.path.slice(dir.length + 1)).sort()).toEqual(
      expect.arrayContaining(['sealgate.db', `portal/objects/portal/${dep.depositId.slice(0, 2)}/${dep.depositId}@`]),
    );
    const object = files.find((f) => f.path.endsWith('@'));
    expect(object?.bytes.subarray(0, 8).toString('latin1')).toBe('SGOBJK01');
    for (const f of files) {
      expect(f.bytes.includes(SECRET), f.path).toBe(false);
      expect(f.bytes.includes('zebra-fever'), f.path).toBe(false);
      for (const r of dep.recipients) {
        expect(f.bytes.includes(r.token), f.path).toBe(false);
        expect(f.bytes.includes(Buffer.from(r.token, 'base64url')), f.path).toBe(false);
      }
    }
    // what is stored is the hash
    const rows = await db.all<{ token_hash: string }>('SELECT token_hash FROM portal_recipients ORDER BY seq');
    expect(rows.map((r) => r.token_hash)).toEqual(dep.recipients.map((r) => hashPortalToken(r.token)));
  });

  it('a wrong, malformed or altered token finds nothing', async () => {
    const dep = await portal.deposit({ queueId: 'Q3', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW });
    const token = dep.recipients[0]?.token ?? '';
    const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    for (const t of [randomBytes(32).toString('base64url'), flipped, token.slice(1), `${token}x`, token.toLowerCase() === token ? '' : token.toLowerCase(), '', '../../etc', hashPortalToken(token)]) {
      expect(await portal.findByToken(t)).toBeUndefined();
    }
    expect(await portal.findByToken(token)).toBeDefined();
  });

  it('BCC recipients see only themselves; the others never see them', async () => {
    const dep = await portal.deposit({ queueId: 'Q4', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW });
    const visible = [
      { address: 'pat@gmail.example', bcc: false },
      { address: 'carer@outlook.example', bcc: false },
    ];
    expect(await portal.recipientsVisibleTo(dep.depositId, 'pat@gmail.example')).toEqual(visible);
    expect(await portal.recipientsVisibleTo(dep.depositId, 'Carer@Outlook.EXAMPLE')).toEqual(visible);
    expect(await portal.recipientsVisibleTo(dep.depositId, 'hidden@bcc.example')).toEqual([{ address: 'hidden@bcc.example', bcc: true }]);
    expect(await portal.recipientsVisibleTo(dep.depositId, 'stranger@evil.example')).toEqual([]);
    expect(await errorCode(portal.recipientsVisibleTo('0'.repeat(32), 'pat@gmail.example'))).toBe('SG_PORTAL_NOT_FOUND');
  });

  it('an address listed both visibly and as BCC is one visible recipient', async () => {
    const dep = await portal.deposit({
      queueId: 'Q5',
      source: Readable.from([mime(100)]),
      recipients: [
        { address: 'a@x.example', bcc: true },
        { address: 'A@X.example', bcc: false },
        { address: 'b@y.example', bcc: true },
        { address: 'b@y.example', bcc: true },
      ],
      expiresAt: NOW + DAY,
      now: NOW,
    });
    expect(dep.recipients.map((r) => [r.address, r.bcc])).toEqual([
      ['a@x.example', false],
      ['b@y.example', true],
    ]);
  });

  it('shred destroys the wrapped key and the object; open then fails with SG_PORTAL_SHREDDED', async () => {
    const dep = await portal.deposit({ queueId: 'Q6', source: Readable.from([mime()]), recipients, expiresAt: NOW + DAY, now: NOW });
    const before = await db.get<{ wrapped_key: Buffer; object_key: string; key_id: string }>(
      'SELECT wrapped_key, object_key, key_id FROM portal_messages WHERE deposit_id = ?',
      [dep.depositId],
    );
    const wrapped = Buffer.from(before?.wrapped_key ?? Buffer.alloc(0));
    expect(wrapped.length).toBe(12 + 16 + 32);
    const ciphertext = await readAll(objects.get(before?.object_key ?? ''));

    await portal.shred(dep.depositId, NOW + 5);
    await portal.shred(dep.depositId, NOW + 9); // idempotent, keeps the first time

    expect(await errorCode(portal.open(dep.depositId))).toBe('SG_PORTAL_SHREDDED');
    expect(await objects.exists(before?.object_key ?? '')).toBe(false);
    expect(await objectKeys()).toEqual([]);
    const after = await db.get<{ wrapped_key: Buffer | null; shredded_at: number }>(
      'SELECT wrapped_key, shredded_at FROM portal_messages WHERE deposit_id = ?',
      [dep.depositId],
    );
    expect(after).toEqual({ wrapped_key: null, shredded_at: NOW + 5 });
    // the link still resolves (so a later page can say "expired or revoked"), marked shredded
    expect(await portal.findByToken(dep.recipients[0]?.token ?? '')).toMatchObject({ shreddedAt: NOW + 5 });

    // even with the master key and a copy of the ciphertext, nothing in the store holds the data key any more
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    for (const f of await filesUnder(dir)) {
      expect(f.bytes.includes(wrapped), f.path).toBe(false);
      expect(f.bytes.includes(ciphertext.subarray(0, 64)), f.path).toBe(false);
    }
    // the wrapped key was what opened it: proof that it was the only way in
    expect(unwrapKey(keyring, before?.key_id ?? '', wrapped, Buffer.from(`sealgate-portal-key-v1\0${dep.depositId}\0${before?.object_key ?? ''}`))).toHaveLength(32);
  });

  it('shred runs its transaction hook once, in the call that shreds; a failing hook keeps the key and the object', async () => {
    const dep = await portal.deposit({ queueId: 'QH', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW });
    const failing = portal.shred(dep.depositId, NOW, {
      inTransaction: () => Promise.reject(new Error('audit append failed')),
    });
    await expect(failing).rejects.toThrow('audit append failed');
    expect(await db.get('SELECT shredded_at, wrapped_key IS NOT NULL AS keyed FROM portal_messages WHERE deposit_id = ?', [dep.depositId])).toEqual({ shredded_at: null, keyed: 1 });
    expect(await objectKeys()).toHaveLength(1);

    const calls: number[] = [];
    const hook = async (tx: Queryable): Promise<void> => {
      const row = await tx.get<{ wrapped_key: Buffer | null }>('SELECT wrapped_key FROM portal_messages WHERE deposit_id = ?', [dep.depositId]);
      calls.push(row?.wrapped_key === null ? 1 : 0); // sees the key already gone, inside the same transaction
    };
    expect(await portal.shred(dep.depositId, NOW + 1, { inTransaction: hook })).toBe(true);
    expect(await portal.shred(dep.depositId, NOW + 2, { inTransaction: hook })).toBe(false);
    expect(calls).toEqual([1]);
    expect(await objectKeys()).toEqual([]);
  });

  it('open of an unknown deposit fails with SG_PORTAL_NOT_FOUND; a missing object errors the stream', async () => {
    expect(await errorCode(portal.open('f'.repeat(32)))).toBe('SG_PORTAL_NOT_FOUND');
    expect(await errorCode(portal.open('../x'))).toBe('SG_PORTAL_NOT_FOUND');
    expect(await errorCode(portal.shred('f'.repeat(32), NOW))).toBe('SG_PORTAL_NOT_FOUND');
    const dep = await portal.deposit({ queueId: 'Q7', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW });
    for (const k of await objectKeys()) await objects.delete(k);
    expect(await errorCode(readAll(await portal.open(dep.depositId)))).toBe('SG_OBJECT_NOT_FOUND');
  });

  it('the wrapped key is bound to its deposit: swapped between two deposits, neither opens', async () => {
    const a = await portal.deposit({ queueId: 'QA', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW });
    const b = await portal.deposit({ queueId: 'QB', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW });
    const key = async (id: string): Promise<Buffer> =>
      (await db.get<{ wrapped_key: Buffer }>('SELECT wrapped_key FROM portal_messages WHERE deposit_id = ?', [id]))?.wrapped_key ?? Buffer.alloc(0);
    const [ka, kb] = [await key(a.depositId), await key(b.depositId)];
    await db.run('UPDATE portal_messages SET wrapped_key = ? WHERE deposit_id = ?', [kb, a.depositId]);
    await db.run('UPDATE portal_messages SET wrapped_key = ? WHERE deposit_id = ?', [ka, b.depositId]);
    expect(await errorCode(portal.open(a.depositId))).toBe('SG_SPOOL_CORRUPT');
    expect(await errorCode(portal.open(b.depositId))).toBe('SG_SPOOL_CORRUPT');
    // and a copy moved onto another deposit's object key fails its tags
    await db.run('UPDATE portal_messages SET wrapped_key = ? WHERE deposit_id = ?', [ka, a.depositId]);
    const keysNow = await objectKeys();
    const objA = keysNow.find((k) => k.endsWith(a.depositId)) ?? '';
    const objB = keysNow.find((k) => k.endsWith(b.depositId)) ?? '';
    await objects.put(objA, objects.get(objB));
    expect(await errorCode(readAll(await portal.open(a.depositId)))).toBe('SG_SPOOL_CORRUPT');
  });

  it('a failing source stores nothing: no object, no temp file, no rows', async () => {
    const src = new PassThrough();
    src.on('error', () => undefined);
    src.write(Buffer.from(SECRET));
    setImmediate(() => src.destroy(new Error('spool read failed')));
    expect(await errorCode(portal.deposit({ queueId: 'Q8', source: src, recipients, expiresAt: NOW + DAY, now: NOW }))).toBe('SG_STORAGE_FAILED');
    expect(await objectKeys()).toEqual([]);
    expect(await readdir(objects.tmpDir)).toEqual([]);
    expect(await db.get('SELECT COUNT(*) AS n FROM portal_messages')).toEqual({ n: 0 });
    expect(await db.get('SELECT COUNT(*) AS n FROM portal_recipients')).toEqual({ n: 0 });
  });

  it('rejects a deposit without recipients or with expiry not after now', async () => {
    await expect(portal.deposit({ queueId: 'Q9', source: Readable.from([]), recipients: [], expiresAt: NOW + DAY, now: NOW })).rejects.toThrow(RangeError);
    await expect(portal.deposit({ queueId: 'Q9', source: Readable.from([]), recipients, expiresAt: NOW, now: NOW })).rejects.toThrow(RangeError);
    expect(await objectKeys()).toEqual([]);
  });

  it('takes every random value from the injected source', async () => {
    const seeded = seededBytes('portal-test');
    const store = new PortalStore({ db, objects, keyring, random: seeded.random });
    const dep = await store.deposit({ queueId: 'QS', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW });
    // deposit id, data key, then one token per recipient
    expect(seeded.given.map((b) => b.length)).toEqual([16, 32, 32, 32, 32]);
    expect(dep.depositId).toBe(seeded.given[0]?.toString('hex'));
    expect(dep.recipients.map((r) => r.token)).toEqual(seeded.given.slice(2).map((b) => b.toString('base64url')));
    expect((await readAll(await store.open(dep.depositId))).equals(mime(100))).toBe(true);
  });

  it('start-up cleanup deletes portal objects no deposit row names, and nothing else', async () => {
    const dep = await portal.deposit({ queueId: 'QO', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW });
    // what a crash between the object's put and the rows' commit leaves
    await objects.put('portal/ab/ab000000000000000000000000000000', Readable.from([Buffer.from('SGOBJK01…')]));
    await objects.put('other/not-portal', Readable.from([Buffer.from('x')]));
    expect(await portal.removeOrphans()).toBe(1);
    expect(await objectKeys()).toEqual(['other/not-portal', `portal/${dep.depositId.slice(0, 2)}/${dep.depositId}`].sort());
    expect((await readAll(await portal.open(dep.depositId))).equals(mime(100))).toBe(true);
  });

  it('rows that fail to commit take the object with them', async () => {
    await db.exec('DROP TABLE portal_recipients');
    await expect(portal.deposit({ queueId: 'QF', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW })).rejects.toThrow();
    expect(await objectKeys()).toEqual([]);
    expect(await db.get('SELECT COUNT(*) AS n FROM portal_messages')).toEqual({ n: 0 });
  });

  it('releases every descriptor: deposits, full and abandoned reads, shreds', async () => {
    // warm up lazily opened handles (WAL, shm)
    await portal.deposit({ queueId: 'QW', source: Readable.from([mime(100)]), recipients, expiresAt: NOW + DAY, now: NOW });
    const before = await openFds();
    for (let i = 0; i < 5; i++) {
      const dep = await portal.deposit({ queueId: `QD${i}`, source: Readable.from([mime(300_000)]), recipients, expiresAt: NOW + DAY, now: NOW });
      await readAll(await portal.open(dep.depositId));
      const s = await portal.open(dep.depositId);
      await new Promise<void>((resolve) => s.once('data', () => resolve()));
      s.destroy();
      await new Promise((resolve) => s.once('close', resolve));
      await portal.shred(dep.depositId, NOW);
    }
    // the object stream behind an abandoned read closes on its own schedule
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await openFds()).toBe(before);
  });

  it('concurrent deposits each get their own copy and key', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.concat([mime(50_000 + i * 7919), Buffer.from(`#${i}`)]));
    const deps = await Promise.all(
      bodies.map((b, i) => portal.deposit({ queueId: `QC${i}`, source: Readable.from([b]), recipients, expiresAt: NOW + DAY, now: NOW })),
    );
    expect(await objectKeys()).toHaveLength(8);
    for (const [i, d] of deps.entries()) expect((await readAll(await portal.open(d.depositId))).equals(bodies[i] ?? Buffer.alloc(0))).toBe(true);
    const keys = await db.all<{ wrapped_key: Buffer }>('SELECT wrapped_key FROM portal_messages');
    expect(new Set(keys.map((k) => k.wrapped_key.toString('hex'))).size).toBe(8);
  });

  it('an empty message round-trips', async () => {
    const dep = await portal.deposit({ queueId: 'QE', source: Readable.from([]), recipients, expiresAt: NOW + DAY, now: NOW });
    expect(dep.size).toBe(0);
    expect((await readAll(await portal.open(dep.depositId))).length).toBe(0);
  });
});

describe('zero-knowledge links (linkKey)', () => {
  const recipients = [
    { address: 'pat@gmail.example', bcc: false },
    { address: 'carer@outlook.example', bcc: false },
  ];

  async function zkDeposit() {
    return portal.deposit({ queueId: 'QZK', source: Readable.from([mime(50_000)]), recipients, expiresAt: NOW + DAY, now: NOW, linkKey: true });
  }

  it('opens only with the recipient seq and fragment of a link; the fragments are stored nowhere', async () => {
    const dep = await zkDeposit();
    const [pat, carer] = dep.recipients;
    expect(pat?.fragment).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(carer?.fragment).not.toBe(pat?.fragment);
    expect((await readAll(await portal.open(dep.depositId, { seq: 0, fragment: pat?.fragment ?? '' }))).toString()).toContain(SECRET);
    expect((await readAll(await portal.open(dep.depositId, { seq: 1, fragment: carer?.fragment ?? '' }))).toString()).toContain(SECRET);
    for (const { path, bytes } of await filesUnder(dir)) {
      for (const f of [pat?.fragment ?? 'x', carer?.fragment ?? 'x']) {
        expect(bytes.includes(Buffer.from(f)), `fragment in ${path}`).toBe(false);
        expect(bytes.includes(Buffer.from(f, 'base64url')), `fragment bytes in ${path}`).toBe(false);
      }
    }
    expect((await portal.findByToken(pat?.token ?? ''))?.linkKey).toBe(true);
  });

  it.each<[string, (f: { pat: string; carer: string }) => { seq: number; fragment: string } | undefined]>([
    ['no link at all (the server alone, with the master key)', () => undefined],
    ['another recipient\'s fragment', (f) => ({ seq: 0, fragment: f.carer })],
    ['a fragment one character off', (f) => ({ seq: 0, fragment: `${f.pat.startsWith('A') ? 'B' : 'A'}${f.pat.slice(1)}` })],
    ['a non-canonical spelling of the right fragment', (f) => ({ seq: 0, fragment: `${f.pat.slice(0, -1)}${String.fromCharCode(f.pat.charCodeAt(42) + 1)}` })],
    ['a malformed fragment', () => ({ seq: 0, fragment: 'short' })],
    ['a recipient that does not exist', (f) => ({ seq: 7, fragment: f.pat })],
  ])('refuses %s with SG_PORTAL_LINK_KEY', async (_name, access) => {
    const dep = await zkDeposit();
    const f = { pat: dep.recipients[0]?.fragment ?? '', carer: dep.recipients[1]?.fragment ?? '' };
    expect(await errorCode(portal.open(dep.depositId, access(f)))).toBe('SG_PORTAL_LINK_KEY');
  });

  it('the master key opens only the server part: it is not the data key', async () => {
    const dep = await zkDeposit();
    const row = await db.get<{ wrapped_key: Buffer; key_id: string; object_key: string }>('SELECT wrapped_key, key_id, object_key FROM portal_messages WHERE deposit_id = ?', [dep.depositId]);
    const serverPart = unwrapKey(keyring, row?.key_id ?? '', Buffer.from(row?.wrapped_key ?? Buffer.alloc(0)), Buffer.from(`sealgate-portal-key-v1\0${dep.depositId}\0${row?.object_key}`));
    expect(serverPart).toHaveLength(32);
    // the server part used as the data key fails authentication: the master key alone opens nothing
    const asDataKey = pipeline(objects.get(row?.object_key ?? ''), createKeyedDecryptStream(serverPart, `portal:${dep.depositId}:${row?.object_key}`), () => undefined);
    await expect(readAll(asDataKey)).rejects.toThrow();
    await expect(portal.open(dep.depositId)).rejects.toThrow(/key part/);
  });

  it('shredding destroys the server part and every sealed key: the fragments open nothing', async () => {
    const dep = await zkDeposit();
    await portal.shred(dep.depositId, NOW + 1);
    const sealed = await db.all<{ link_wrapped_key: Buffer | null }>('SELECT link_wrapped_key FROM portal_recipients WHERE deposit_id = ?', [dep.depositId]);
    expect(sealed.every((r) => r.link_wrapped_key === null)).toBe(true);
    expect(await errorCode(portal.open(dep.depositId, { seq: 0, fragment: dep.recipients[0]?.fragment ?? '' }))).toBe('SG_PORTAL_SHREDDED');
  });

  it('takes no later recipients (a new copy is deposited instead) and is not offered to join', async () => {
    const dep = await zkDeposit();
    expect(await portal.openDepositOf('QZK', NOW)).toBeUndefined();
    await expect(portal.prepareRecipients(dep.depositId, [{ address: 'late@x.example', bcc: false }])).rejects.toThrow(RangeError);
  });

  it('a deposit without linkKey has no fragments and opens without a link', async () => {
    const dep = await portal.deposit({ queueId: 'QN', source: Readable.from([mime(1000)]), recipients, expiresAt: NOW + DAY, now: NOW });
    expect(dep.recipients.every((r) => r.fragment === undefined)).toBe(true);
    expect((await readAll(await portal.open(dep.depositId))).toString()).toContain(SECRET);
    expect((await portal.findByToken(dep.recipients[0]?.token ?? ''))?.linkKey).toBe(false);
  });
});
