/**
 * Retention on a real SQLite database and a real object store, with entries
 * written as the archiver writes them (encrypted content in packs and alone,
 * rows and records through entries.ts) and an injected clock: entries past
 * retention are purged (key and sealed subject gone, subject terms gone,
 * the object gone when alone or when its whole pack is purged), a pack
 * stays while one of its entries is held or not yet due, release then purge
 * removes it, a dry run changes nothing and predicts the purge, holds per
 * search are bounded, every act is in the audit chain and `archive verify`
 * stays OK; a batch whose object deletion fails leaves its entries due and
 * the next purge finishes. Plus the input checks, table-driven.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/log.js';
import { writeCheckpoint } from '../../src/archive/checkpoints.js';
import { archiveObjectKey, archivePackKey, readArchiveContent, writeArchiveObject, type WrittenContent } from '../../src/archive/content.js';
import { insertPendingPiece, pendingAware } from '../../src/archive/pending.js';
import { insertArchiveEntries, type NewArchiveEntry } from '../../src/archive/entries.js';
import type { ArchiveMessageColumns } from '../../src/archive/records.js';
import {
  checkEntryIds,
  checkHoldReason,
  entryStates,
  holdEntries,
  holdSearch,
  MAX_HOLD_REASON,
  purgeArchive,
  RetentionInputError,
  TooManyMatchesError,
  type PurgeSummary,
} from '../../src/archive/retention.js';
import { parseSearch } from '../../src/archive/search.js';
import { entryKey } from '../../src/archive/show.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../src/archive/signing-key.js';
import { categoryTerm, queryTerms, subjectTerms } from '../../src/archive/terms.js';
import { verifyArchive } from '../../src/archive/verify.js';
import { formatHold, formatPurge } from '../../src/cli/commands/archive-retention.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import type { ObjectStore } from '../../src/objects/object-store.js';
import { writtenEntryColumns } from '../helpers/archive-content.js';

const T0 = Date.UTC(2020, 0, 6, 8, 0, 0);
const DAY = 86_400_000;
const YEARS6 = 6 * 365 * DAY;
/** The purge clock: six years and a bit after T0. */
const NOW = T0 + YEARS6 + 10 * DAY;

/** Queue ids: 20 characters of the queue's alphabet. */
const id = (n: number): string => `01PVRGE${String(n).padStart(13, '0')}`;
const [A, B, C, D, E, F] = [1, 2, 3, 4, 5, 6].map(id) as [string, string, string, string, string, string];

interface Fixture {
  readonly db: Database;
  readonly objects: LocalObjectStore;
  readonly keyring: Keyring;
  readonly key: SigningKey;
  /** Object key of each entry. */
  readonly objectOf: Map<string, string>;
  readonly bytesOf: Map<string, Buffer>;
  /** The database file. */
  readonly dbPath: string;
}

const dirs: string[] = [];
const dbs: Database[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function message(n: number): Buffer {
  return Buffer.from(`Subject: Befund Fall${n}x vertraulich\r\nMessage-ID: <m${n}@example.com>\r\n\r\nbody ${n} ${randomBytes(8).toString('hex')}\r\n`);
}

function columns(entryId: string, receivedAt: number, retainUntil: number, w: WrittenContent): ArchiveMessageColumns {
  return writtenEntryColumns(w, { id: entryId, receivedAt, retainUntil, sender: entryId === F ? 'frank@example.com' : 'alice@example.com', verdict: '{"phi":true,"findings":[{"category":"SSN","count":1}]}' });
}

/**
 * Pack P1 holds A, B, C; D is stored alone; pack P2 holds E and F. All were
 * received at T0 + n days and are due at NOW except F, retained a year longer
 * (as a longer policy retention would). A start checkpoint comes first.
 */
async function fixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-retention-'));
  dirs.push(dir);
  const db = await Database.open(join(dir, 'sealgate.db'));
  dbs.push(db);
  await migrate(db);
  const objects = new LocalObjectStore(join(dir, 'store'));
  await objects.init();
  const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
  const key = await loadOrCreateSigningKey(db, keyring, T0);
  await appendAudit(db, { type: 'daemon:started', data: { version: 'test' } }, T0);
  await writeCheckpoint(db, key, 'start', T0);
  const objectOf = new Map<string, string>();
  const bytesOf = new Map<string, Buffer>();
  const groups: { key: string; ids: string[] }[] = [
    { key: archivePackKey(A, T0), ids: [A, B, C] },
    { key: archiveObjectKey(D, T0), ids: [D] },
    { key: archivePackKey(E, T0), ids: [E, F] },
  ];
  const items: NewArchiveEntry[] = [];
  for (const g of groups) {
    const sources = g.ids.map((entryId) => {
      const n = Number(entryId.slice(-2));
      const bytes = message(n);
      bytesOf.set(entryId, bytes);
      objectOf.set(entryId, g.key);
      return { id: entryId, receivedAt: T0 + n * DAY, open: () => Readable.from([bytes]) };
    });
    const written = await writeArchiveObject(objects, keyring, g.key, sources);
    written.forEach((w, i) => {
      const s = sources[i];
      if (!s) return;
      const retain = s.receivedAt + YEARS6 + (s.id === F ? 365 * DAY : 0);
      items.push({ entry: columns(s.id, s.receivedAt, retain, w), recipients: [], terms: [...subjectTerms(keyring, w.subject), categoryTerm('SSN')] });
    });
  }
  await db.transaction((tx) => insertArchiveEntries(tx, items, T0 + 7 * DAY));
  return { db, objects, keyring, key, objectOf, bytesOf, dbPath: join(dir, 'sealgate.db') };
}

async function row(f: Fixture, entryId: string): Promise<Record<string, unknown>> {
  const r = await f.db.get<Record<string, unknown>>('SELECT * FROM archive_messages WHERE id = ?', [entryId]);
  if (!r) throw new Error(`no row ${entryId}`);
  return r;
}

async function content(f: Fixture, entryId: string): Promise<Buffer> {
  const k = await entryKey(f.db, entryId);
  if (!k || k === 'purged') throw new Error(`entry ${entryId} has no key`);
  const chunks: Buffer[] = [];
  for await (const c of readArchiveContent(pendingAware(f.objects, f.db), f.keyring, k)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function events(f: Fixture, type: string): Promise<Record<string, unknown>[]> {
  const rows = await f.db.all<{ data: string }>('SELECT data FROM audit_log WHERE type = ? ORDER BY seq', [type]);
  return rows.map((r) => JSON.parse(r.data) as Record<string, unknown>);
}

async function terms(f: Fixture, entryId: string): Promise<string[]> {
  return (await f.db.all<{ term: string }>('SELECT term FROM archive_terms WHERE archive_id = ? ORDER BY term', [entryId])).map((r) => r.term);
}

/** A stop checkpoint at `at`, then the whole archive verified. */
async function verifiedAt(f: Fixture, at: number): Promise<{ ok: boolean }> {
  await appendAudit(f.db, { type: 'daemon:stopped', data: { reason: 'test' } }, at);
  await writeCheckpoint(f.db, f.key, 'stop', at);
  return verifyArchive(f.db, { now: at + 60_000 });
}

const ops = { operator: 'auditor', via: 'cli' } as const;

/** Everything a purge could change: audit head, every row, every term, every object. */
async function snapshot(f: Fixture): Promise<string> {
  const head = await f.db.get('SELECT max(seq) AS seq FROM audit_log');
  const rows = await f.db.all('SELECT * FROM archive_messages ORDER BY id');
  const t = await f.db.all('SELECT * FROM archive_terms ORDER BY archive_id, term');
  const objs: string[] = [];
  for await (const k of f.objects.list('')) objs.push(k);
  return JSON.stringify({ head, rows, t, objs }, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? 'blob' : v));
}

describe('archive purge', () => {
  it('shreds the due entries, deletes an object alone and keeps packs with a held or undue entry; verify stays OK', async () => {
    const f = await fixture();
    expect((await holdEntries(f.db, [B], { hold: true, ...ops, reason: 'litigation 2025-17' }, NOW - DAY)).changed).toBe(1);
    const summary = await purgeArchive(f.db, f.objects, { now: NOW, ...ops });
    expect(summary).toEqual<PurgeSummary>({
      dryRun: false, before: NOW, entries: 4, oldestReceived: T0 + DAY, newestReceived: T0 + 5 * DAY, objectsDeleted: 1, objectsKept: 2, heldExpired: 1,
    });
    for (const gone of [A, C, D, E]) {
      expect(await row(f, gone)).toMatchObject({ wrapped_key: null, subject_sealed: null, purged_at: NOW, hold: 0 });
      expect(await entryKey(f.db, gone)).toBe('purged');
      // subject-word hashes go with the subject; the category stays with the verdict
      expect(await terms(f, gone)).toEqual([categoryTerm('SSN')]);
    }
    expect(await f.objects.exists(f.objectOf.get(D) ?? '')).toBe(false);
    // the packs stay: B is held, F is not due; both still read back byte for byte
    expect(await f.objects.exists(f.objectOf.get(A) ?? '')).toBe(true);
    expect(await f.objects.exists(f.objectOf.get(E) ?? '')).toBe(true);
    expect(await content(f, B)).toEqual(f.bytesOf.get(B));
    expect(await content(f, F)).toEqual(f.bytesOf.get(F));
    expect(await row(f, B)).toMatchObject({ hold: 1, purged_at: null });
    expect((await terms(f, B)).length).toBeGreaterThan(1);
    const purged = await events(f, 'archive:purged');
    expect(purged).toEqual([{ queueIds: [A, B, C, D, E].filter((x) => x !== B), count: 4, objects: 1, operator: 'auditor', via: 'cli' }]);
    expect(await verifiedAt(f, NOW + 1000)).toMatchObject({ ok: true, messages: 6 });
  });

  it('an object it deletes loses its pending pieces too (a pack not stored yet is never stored); a pack it keeps keeps them', async () => {
    const f = await fixture();
    await holdEntries(f.db, [B], { hold: true, ...ops }, NOW - DAY);
    const [packOfD, packOfA] = [f.objectOf.get(D) ?? '', f.objectOf.get(A) ?? ''];
    await f.db.transaction(async (tx) => {
      await insertPendingPiece(tx, { objectKey: packOfD, offset: 0, ciphertext: Buffer.from('pending piece of D') }, NOW - DAY);
      await insertPendingPiece(tx, { objectKey: packOfA, offset: 0, ciphertext: Buffer.from('pending piece of A') }, NOW - DAY);
    });
    expect(await purgeArchive(f.db, f.objects, { now: NOW, ...ops })).toMatchObject({ objectsDeleted: 1, objectsKept: 2 });
    const left = await f.db.all<{ object_key: string }>('SELECT object_key FROM archive_pending ORDER BY object_key');
    expect(left).toEqual([{ object_key: packOfA }]);
  });

  it('release then purge removes the held entry and, with it, the whole pack', async () => {
    const f = await fixture();
    await holdEntries(f.db, [B], { hold: true, ...ops }, NOW - DAY);
    await purgeArchive(f.db, f.objects, { now: NOW, ...ops });
    const released = await holdEntries(f.db, [B, A], { hold: false, ...ops, reason: 'matter closed' }, NOW + DAY);
    expect(released).toEqual({ matched: 2, changed: 1, unchanged: 1, purged: 0 });
    expect(await events(f, 'archive:released')).toEqual([{ queueIds: [B], count: 1, operator: 'auditor', via: 'cli', reason: 'matter closed' }]);
    const again = await purgeArchive(f.db, f.objects, { now: NOW + 2 * DAY, ...ops });
    expect(again).toMatchObject({ entries: 1, objectsDeleted: 1, objectsKept: 0, heldExpired: 0 });
    expect(await f.objects.exists(f.objectOf.get(A) ?? '')).toBe(false);
    expect(await row(f, B)).toMatchObject({ wrapped_key: null, purged_at: NOW + 2 * DAY });
    // F's pack goes once F is due too
    const last = await purgeArchive(f.db, f.objects, { now: NOW + 400 * DAY, ...ops });
    expect(last).toMatchObject({ entries: 1, objectsDeleted: 1, objectsKept: 0 });
    expect(await f.objects.exists(f.objectOf.get(F) ?? '')).toBe(false);
    const listed: string[] = [];
    for await (const k of f.objects.list('archive/')) listed.push(k);
    expect(listed).toEqual([]);
    // nothing is left to purge; a run that finds nothing writes nothing
    const head = await f.db.get('SELECT max(seq) AS seq FROM audit_log');
    expect(await purgeArchive(f.db, f.objects, { now: NOW + 400 * DAY, ...ops })).toMatchObject({ entries: 0, objectsDeleted: 0 });
    expect(await f.db.get('SELECT max(seq) AS seq FROM audit_log')).toEqual(head);
    expect(await verifiedAt(f, NOW + 401 * DAY)).toMatchObject({ ok: true });
  });

  it.each([1, 2, 3, 200])('a dry run changes nothing and predicts the purge exactly (batches of %i)', async (batchSize) => {
    const f = await fixture();
    await holdEntries(f.db, [B], { hold: true, ...ops }, NOW - DAY);
    const before = await snapshot(f);
    const dry = await purgeArchive(f.db, f.objects, { now: NOW, dryRun: true, batchSize, ...ops });
    expect(await snapshot(f)).toBe(before);
    const real = await purgeArchive(f.db, f.objects, { now: NOW, batchSize, ...ops });
    expect(dry).toEqual({ ...real, dryRun: true });
    expect(real).toMatchObject({ entries: 4, objectsDeleted: 1, objectsKept: 2 });
    // batches split the packs: still one disposal event per batch, every entry named once
    const named = (await events(f, 'archive:purged')).flatMap((e) => e.queueIds as string[]);
    expect(named.sort()).toEqual([A, C, D, E]);
    expect(await verifiedAt(f, NOW + 1000)).toMatchObject({ ok: true });
  });

  it('a pack whose entries are all due goes in the batch of its last entry, even across batches', async () => {
    const f = await fixture();
    const r = await purgeArchive(f.db, f.objects, { now: NOW, batchSize: 1, ...ops });
    expect(r).toMatchObject({ entries: 5, objectsDeleted: 2, objectsKept: 1 });
    expect(await f.objects.exists(f.objectOf.get(A) ?? '')).toBe(false);
    const batches = await events(f, 'archive:purged');
    expect(batches.map((e) => e.objects)).toEqual([0, 0, 1, 1, 0]);
  });
});

describe('crypto-shredding leaves no key behind', () => {
  it('the purged entries\' wrapped keys and sealed subjects are not in the database file or its WAL afterwards (the purge erases freed space), also for an entry whose pack stays', async () => {
    const f = await fixture();
    const due = [A, B, C, D, E];
    const secrets: Buffer[] = [];
    for (const entryId of due) {
      const r = await row(f, entryId);
      secrets.push(Buffer.from(r.wrapped_key as Uint8Array), Buffer.from(r.subject_sealed as Uint8Array));
    }
    // the secrets are on disk before the purge (so the search below can find them)
    await f.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const before = await readFile(f.dbPath);
    expect(secrets.every((b) => before.includes(b))).toBe(true);

    await purgeArchive(f.db, f.objects, { now: NOW, ...ops });
    // E's pack stays for F (not due): E's ciphertext is still there, so its key must really be gone
    expect(await f.objects.exists(f.objectOf.get(E) ?? '')).toBe(true);
    // once the WAL is checkpointed into the database file (SQLite does it every 1000 pages by itself)
    await f.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const after = await readFile(f.dbPath);
    expect(secrets.filter((b) => after.includes(b))).toEqual([]);
    // the live entry (F) keeps its key and content
    expect((await content(f, F)).equals(f.bytesOf.get(F) ?? Buffer.alloc(1))).toBe(true);
  });
});

describe('archive purge interrupted', () => {
  it('an object store that fails mid-batch rolls the batch back: its entries stay due, and the next purge finishes', async () => {
    const f = await fixture();
    let deletes = 0;
    // the real store, whose second deletion fails (a full or failing disk)
    const failing: ObjectStore = {
      put: (key, source) => f.objects.put(key, source),
      get: (key) => f.objects.get(key),
      getRange: (key, start, length) => f.objects.getRange(key, start, length),
      list: (prefix) => f.objects.list(prefix),
      listInfo: (prefix) => f.objects.listInfo(prefix),
      exists: (key) => f.objects.exists(key),
      delete: async (key) => {
        if (++deletes === 2) throw new Error('storage failed');
        await f.objects.delete(key);
      },
    };
    const head = await f.db.get('SELECT max(seq) AS seq FROM audit_log');
    await expect(purgeArchive(f.db, failing, { now: NOW, ...ops })).rejects.toThrow('storage failed');
    // nothing committed: no key destroyed, no record, no disposal event; the first object is gone already
    expect(await f.db.get('SELECT COUNT(*) AS n FROM archive_messages WHERE purged_at IS NOT NULL OR wrapped_key IS NULL')).toEqual({ n: 0 });
    expect(await f.db.get('SELECT max(seq) AS seq FROM audit_log')).toEqual(head);
    expect(await f.objects.exists(f.objectOf.get(A) ?? '')).toBe(false);
    expect(await f.objects.exists(f.objectOf.get(D) ?? '')).toBe(true);
    const again = await purgeArchive(f.db, f.objects, { now: NOW, ...ops });
    expect(again).toMatchObject({ entries: 5, objectsDeleted: 2, objectsKept: 1 });
    expect(await f.objects.exists(f.objectOf.get(D) ?? '')).toBe(false);
    expect(await verifiedAt(f, NOW + 1000)).toMatchObject({ ok: true });
  });
});

describe('legal hold', () => {
  it('records each changed row and one event per act; a second hold changes nothing', async () => {
    const f = await fixture();
    const seqBefore = (await row(f, A)).record_seq;
    expect(await holdEntries(f.db, [A, C], { hold: true, ...ops, reason: 'subpoena' }, NOW)).toEqual({ matched: 2, changed: 2, unchanged: 0, purged: 0 });
    expect((await row(f, A)).record_seq).not.toBe(seqBefore);
    expect(await holdEntries(f.db, [A], { hold: true, ...ops }, NOW)).toEqual({ matched: 1, changed: 0, unchanged: 1, purged: 0 });
    expect(await events(f, 'archive:held')).toEqual([
      { queueIds: [A, C], count: 2, operator: 'auditor', via: 'cli', reason: 'subpoena' },
      { queueIds: [], count: 0, operator: 'auditor', via: 'cli' },
    ]);
    expect(await verifiedAt(f, NOW + 1000)).toMatchObject({ ok: true });
  });

  it('per search: every match on every page, the filter names recorded; over the bound nothing changes', async () => {
    const f = await fixture();
    const search = parseSearch({ from: 'alice@example.com' }, NOW, (s) => queryTerms(f.keyring, s));
    await expect(holdSearch(f.db, search, { hold: true, ...ops, reason: 'r', filters: ['from'] }, NOW, 4, 2)).rejects.toBeInstanceOf(TooManyMatchesError);
    expect(await f.db.get('SELECT COUNT(*) AS n FROM archive_messages WHERE hold = 1')).toEqual({ n: 0 });
    const held = await holdSearch(f.db, search, { hold: true, ...ops, reason: 'r', filters: ['from'] }, NOW, 5, 2);
    expect(held).toEqual({ matched: 5, changed: 5, unchanged: 0, purged: 0 });
    expect((await f.db.all<{ id: string }>('SELECT id FROM archive_messages WHERE hold = 1 ORDER BY id')).map((r) => r.id)).toEqual([A, B, C, D, E]);
    expect((await events(f, 'archive:held')).every((e) => (e.filters as string[]).join() === 'from' && e.reason === 'r')).toBe(true);
    // a subject word finds its entry through the keyed terms
    const bySubject = parseSearch({ subject: 'fall6x' }, NOW, (s) => queryTerms(f.keyring, s));
    expect(await holdSearch(f.db, bySubject, { hold: true, ...ops, reason: 'r', filters: ['subject'] }, NOW, 10)).toMatchObject({ matched: 1, changed: 1 });
    expect(await purgeArchive(f.db, f.objects, { now: NOW + 400 * DAY, ...ops })).toMatchObject({ entries: 0, heldExpired: 6 });
    // released per search, they go
    const all = parseSearch({ domain: 'example.com' }, NOW, (s) => queryTerms(f.keyring, s));
    expect(await holdSearch(f.db, all, { hold: false, ...ops, reason: 'closed', filters: ['domain'] }, NOW, 10)).toMatchObject({ matched: 6, changed: 6 });
    expect(await purgeArchive(f.db, f.objects, { now: NOW + 400 * DAY, ...ops })).toMatchObject({ entries: 6, objectsDeleted: 3, objectsKept: 0 });
  });

  it('a purged entry is not held again; unknown ids are told apart', async () => {
    const f = await fixture();
    await purgeArchive(f.db, f.objects, { now: NOW, ...ops });
    expect(await entryStates(f.db, [A, F, id(99)])).toEqual({ missing: [id(99)], purged: [A] });
    expect(await holdEntries(f.db, [A, F], { hold: true, ...ops }, NOW)).toEqual({ matched: 2, changed: 1, unchanged: 0, purged: 1 });
    expect(await row(f, A)).toMatchObject({ hold: 0 });
  });
});

describe('input checks', () => {
  it.each<[string, string | undefined, boolean, string | undefined | RegExp]>([
    ['absent, optional', undefined, false, undefined],
    ['blank, optional', '  ', false, undefined],
    ['trimmed', '  case 17 ', false, 'case 17'],
    ['absent, required per search', undefined, true, /needs --reason/],
    ['too long', 'x'.repeat(MAX_HOLD_REASON + 1), false, /longer than 500/],
    ['two lines', 'a\nb', false, /one line/],
    ['at the bound', 'x'.repeat(MAX_HOLD_REASON), true, 'x'.repeat(MAX_HOLD_REASON)],
  ])('reason: %s', (_name, reason, required, want) => {
    if (want instanceof RegExp) expect(() => checkHoldReason(reason, required)).toThrow(want);
    else expect(checkHoldReason(reason, required)).toBe(want);
  });

  it.each<[string, string[], string[] | RegExp]>([
    ['upper-cased and deduplicated', [id(1).toLowerCase(), id(1), ` ${id(2)} `], [id(1), id(2)]],
    ['none', [], /name the entries/],
    ['not a queue id', ['bob@example.org'], /queue id/],
    ['too many', Array.from({ length: 1001 }, (_x, i) => id(i)), /at most 1000/],
  ])('ids: %s', (_name, ids, want) => {
    if (want instanceof RegExp) {
      expect(() => checkEntryIds(ids)).toThrow(RetentionInputError);
      expect(() => checkEntryIds(ids)).toThrow(want);
    } else {
      expect(checkEntryIds(ids)).toEqual(want);
    }
  });

  it('text forms', () => {
    expect(formatHold(true, { matched: 3, changed: 2, unchanged: 1, purged: 0 }, false)).toBe('held 2 entries (1 already held)');
    expect(formatHold(false, { matched: 9, changed: 1, unchanged: 8, purged: 0 }, true)).toBe('released 1 entry of 9 matching (8 not held)');
    expect(formatHold(true, { matched: 0, changed: 0, unchanged: 0, purged: 0 }, true)).toMatch(/no archive entry matches/);
    const s: PurgeSummary = { dryRun: true, before: NOW, entries: 4, oldestReceived: T0, newestReceived: T0 + DAY, objectsDeleted: 1, objectsKept: 2, heldExpired: 1 };
    expect(formatPurge(s)).toBe(
      [
        `would purge 4 entries retained until before ${new Date(NOW).toISOString()}, received 2020-01-06T08:00:00.000Z to 2020-01-07T08:00:00.000Z`,
        'would delete 1 object; 2 packs stay for entries in them still retained or held',
        '1 entry past retention kept under legal hold',
      ].join('\n'),
    );
    expect(formatPurge({ ...s, dryRun: false, entries: 0, heldExpired: 0 })).toMatch(/^nothing purged: no entry is past its retention/);
  });
});
