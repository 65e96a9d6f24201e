/**
 * Archive contents sealed ahead (Archiver.storeAhead): a small message's
 * content is sealed while it is being inspected for its place in a pack
 * not stored yet; its entry, written once it is inspected, names that place
 * and carries the ciphertext as a pending piece (src/archive/pending.ts),
 * and the pack is written from its pieces once every piece sealed into it
 * is settled — unless the content was sealed longer ago than AHEAD_TTL_MS,
 * when the entry's batch stores it anew. On a real SQLite database, spool,
 * keyring and local object store; the archived bytes are read back through
 * the archive's own code, before and after the pack is stored.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AHEAD_MAX_BYTES, AHEAD_TTL_MS, Archiver, type MessageRow } from '../../src/archive/archiver.js';
import { entryKeyOf, readArchiveContent } from '../../src/archive/content.js';
import { QUEUE_RECIPIENT_COLUMNS, type QueueRecipientRow } from '../../src/archive/entries.js';
import { pendingAware } from '../../src/archive/pending.js';
import { recordHash } from '../../src/archive/records.js';
import type { Keyring } from '../../src/crypto/keyring.js';
import type { Database } from '../../src/db/database.js';
import { createLogger } from '../../src/log/logger.js';
import type { LocalObjectStore } from '../../src/objects/local-store.js';
import { generateQueueId } from '../../src/queue/ids.js';
import { insertQueuedMessage, internalMessage, MESSAGE_FACTS_COLUMNS, messageFactsRow, type MessageFactsRow } from '../../src/queue/store.js';
import type { Spool } from '../../src/spool/spool.js';
import { archiveEnvironment } from '../helpers/archive-environment.js';

const T0 = Date.UTC(2026, 11, 6, 12);

interface World {
  readonly dir: string;
  readonly db: Database;
  readonly spool: Spool;
  readonly objects: LocalObjectStore;
  readonly keyring: Keyring;
  readonly archiver: Archiver;
  readonly lines: string[];
  clock: number;
  /** archive.journalTo as the archiver reads it. */
  journalTo: string | null;
}

let world: World;

beforeEach(async () => {
  const { dir, db, spool, objects, keyring } = await archiveEnvironment('sealgate-ahead-');
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(...c.toString('utf8').split('\n').filter(Boolean)), cb()) }) });
  const partial = { dir, db, spool, objects, keyring, lines, clock: T0, journalTo: null } as Omit<World, 'archiver'>;
  const w = partial as World;
  (w as { archiver: Archiver }).archiver = new Archiver({
    db,
    spool,
    objects,
    keyring,
    log,
    now: () => w.clock,
    retentionMs: () => 86_400_000,
    journal: { to: () => w.journalTo, hostname: 'gw.test', random: randomBytes, spoolKeyId: () => keyring.current.id },
  });
  world = w;
});

afterEach(async () => {
  world.archiver.stop();
  await world.db.close();
  await rm(world.dir, { recursive: true, force: true });
});

/** Queues a message as the ingress does (spooled, not inspected, not archived); returns its id, bytes and the facts the ingress hands on. */
async function queue(n: number, bodyBytes = 600): Promise<{ id: string; bytes: Buffer; facts: MessageFactsRow }> {
  const id = generateQueueId(world.clock + n, randomBytes);
  const bytes = Buffer.from(`From: alice@example.com\r\nTo: bob@example.net\r\nSubject: ahead ${n}\r\nMessage-ID: <ahead-${n}@example.com>\r\n\r\n${randomBytes(bodyBytes).toString('base64')}\r\n`);
  const file = await world.spool.write(id, Readable.from([bytes]));
  await file.commit();
  const message = {
    ...internalMessage({ id, createdAt: world.clock, size: bytes.length, spoolKeyId: world.keyring.current.id, helo: 'client.test', requirement: 'may', recipients: ['bob@example.net'] }),
    sender: 'alice@example.com',
    connector: 'loopback',
    inspected: false,
    archived: false,
  };
  await world.db.transaction((tx) => insertQueuedMessage(tx, message));
  return { id, bytes, facts: messageFactsRow(message) };
}

async function archiveKeys(): Promise<string[]> {
  const out: string[] = [];
  for await (const k of world.objects.list('archive/')) out.push(k);
  return out.sort();
}

async function entryOf(id: string): Promise<{ id: string; object_key: string; object_offset: number; object_length: number; wrapped_key: Buffer; key_id: string } | undefined> {
  return world.db.get('SELECT id, object_key, object_offset, object_length, wrapped_key, key_id FROM archive_messages WHERE id = ?', [id]);
}

async function archivedBytes(id: string): Promise<Buffer> {
  const row = await entryOf(id);
  if (!row) throw new Error(`no archive entry for ${id}`);
  const chunks: Buffer[] = [];
  for await (const c of readArchiveContent(pendingAware(world.objects, world.db), world.keyring, entryKeyOf(row))) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Seals the contents of `ids` ahead (as the daemon does when they are queued: with their facts, when given); returns the archive objects then. */
async function storeAhead(ids: readonly string[], facts?: readonly MessageFactsRow[]): Promise<string[]> {
  await Promise.all(ids.map((id, i) => world.archiver.storeAhead(id, facts?.[i])));
  return archiveKeys();
}

/** The pending pieces, as (object key, offset) pairs. */
async function pendingPieces(): Promise<{ object_key: string; object_offset: number }[]> {
  return world.db.all('SELECT object_key, object_offset FROM archive_pending ORDER BY object_key, object_offset');
}

async function inspectAndArchive(ids: readonly string[]): Promise<void> {
  await world.db.run(`UPDATE messages SET inspected = 1 WHERE id IN (${ids.map(() => '?').join(', ')})`, [...ids]);
  await world.archiver.archiveBatch(ids);
}

/** Every archive object's stored bytes (ciphertext), by key. */
async function rawObjects(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const key of await archiveKeys()) {
    const chunks: Buffer[] = [];
    for await (const c of world.objects.get(key)) chunks.push(c as Buffer);
    out.set(key, Buffer.concat(chunks));
  }
  return out;
}

describe('archive contents sealed ahead of their entries', () => {
  it.each<{ name: string; messages: number; laterMs: number; reused: boolean; handed?: boolean }>([
    { name: 'one message, archived at once: its entry names its place in the pack, which is stored once its piece is settled', messages: 1, laterMs: 0, reused: true },
    { name: 'one message handed over with its facts (its row not read): the same', messages: 1, laterMs: 0, reused: true, handed: true },
    { name: 'three messages handed over with their facts: one pack for the three', messages: 3, laterMs: 0, reused: true, handed: true },
    { name: 'three messages sealed ahead: one pack for the three', messages: 3, laterMs: 0, reused: true },
    { name: 'archived just inside the time limit: still what was sealed ahead', messages: 2, laterMs: AHEAD_TTL_MS - 1, reused: true },
    { name: 'archived once the time limit is over: stored again, and the pack is never written', messages: 1, laterMs: AHEAD_TTL_MS, reused: false },
    { name: 'two messages archived once the time limit is over: stored again', messages: 2, laterMs: AHEAD_TTL_MS, reused: false },
  ])('$name', async ({ messages, laterMs, reused, handed }) => {
    const queued = await Promise.all(Array.from({ length: messages }, (_, n) => queue(n)));
    const ids = queued.map((q) => q.id);
    // sealed only: no object written, nothing in the database yet
    expect(await storeAhead(ids, handed ? queued.map((q) => q.facts) : undefined)).toEqual([]);
    expect(await pendingPieces()).toEqual([]);
    world.clock += laterMs;
    await inspectAndArchive(ids);
    const rows = await Promise.all(ids.map(entryOf));
    const named = new Set(rows.map((r) => r?.object_key ?? ''));
    for (const { id, bytes } of queued) expect((await archivedBytes(id)).equals(bytes), id).toBe(true);
    if (reused) {
      // one pack, each entry at its own place; read from the pieces until the pack is stored
      expect(named.size).toBe(1);
      expect((await pendingPieces()).map((p) => `${p.object_key}@${p.object_offset}`).sort()).toEqual(rows.map((r) => `${r?.object_key}@${r?.object_offset}`).sort());
      expect(await archiveKeys()).toEqual([]);
      await world.archiver.flushPending();
      expect(await archiveKeys()).toEqual([...named]);
      expect(await pendingPieces()).toEqual([]);
      const pack = (await rawObjects()).get([...named][0] ?? '') ?? Buffer.alloc(0);
      expect(pack.length).toBe(rows.reduce((sum, r) => sum + (r?.object_length ?? 0), 0));
      for (const { id, bytes } of queued) expect((await archivedBytes(id)).equals(bytes), id).toBe(true);
    } else {
      // every entry names content the stage stored after the limit; the pieces were given up
      expect(await pendingPieces()).toEqual([]);
      const stored = await archiveKeys();
      expect([...named].sort()).toEqual(stored);
      await world.archiver.flushPending();
      expect(await archiveKeys()).toEqual(stored);
    }
    expect(world.lines.filter((l) => l.includes('ARCHIVE_FAILED') || l.includes('ARCHIVE_PACK_FAILED') || l.includes('ARCHIVE_FLUSH_FAILED'))).toEqual([]);
  });

  it('a message never stored ahead is archived as before; one deleted after its content was stored ahead gets no entry', async () => {
    const plain = await queue(0);
    await inspectAndArchive([plain.id]);
    expect((await archivedBytes(plain.id)).equals(plain.bytes)).toBe(true);
    expect(await archiveKeys()).toHaveLength(1);

    const gone = await queue(1);
    expect(await storeAhead([gone.id])).toHaveLength(1);
    await world.db.transaction(async (tx) => {
      await tx.run('DELETE FROM recipients WHERE message_id = ?', [gone.id]);
      await tx.run('DELETE FROM messages WHERE id = ?', [gone.id]);
    });
    await world.archiver.archiveBatch([gone.id]);
    expect(await entryOf(gone.id)).toBeUndefined();
    // its content was only sealed: nothing was stored for it, and nothing is
    await world.archiver.flushPending();
    expect(await archiveKeys()).toHaveLength(1);
    expect(await pendingPieces()).toEqual([]);
  });

  it('a content that could not be stored ahead (its spool file unreadable then) is stored with its entry; storing ahead reports nothing', async () => {
    const { id, bytes } = await queue(0);
    // the spool file is unreadable while the content would be stored ahead: nothing is stored, nothing reported
    const path = join(world.dir, 'spool', 'msg', id.slice(-2), id);
    await rename(path, `${path}.away`);
    await world.archiver.storeAhead(id);
    expect(await archiveKeys()).toEqual([]);
    expect(world.lines.filter((l) => l.includes('ARCHIVE_FAILED'))).toEqual([]);
    await rename(`${path}.away`, path);
    await inspectAndArchive([id]);
    expect((await archivedBytes(id)).equals(bytes)).toBe(true);
    expect(await archiveKeys()).toHaveLength(1);
  });
});

/** What the inspection does with withVerdict: the verdict recorded, the message marked inspected and archived, and the entry written, in one transaction. */
async function recordVerdictWithEntry(id: string, verdict: object, returning = false): Promise<{ written: boolean; finished: boolean }> {
  const archiving = await world.archiver.withVerdict(id);
  if (!archiving) return { written: false, finished: false };
  const facts = await world.db.get<Omit<MessageRow, 'verdict'>>(`SELECT ${MESSAGE_FACTS_COLUMNS} FROM messages WHERE id = ?`, [id]);
  if (!facts) throw new Error(`no message ${id}`);
  const json = JSON.stringify(verdict);
  let finished = false;
  await world.db.transaction(async (tx) => {
    await tx.run('UPDATE messages SET inspected = 1, archived = 1, verdict = ? WHERE id = ? AND inspected = 0', [json, id]);
    // as the inspection does it: the rows its UPDATEs returned make the entry, without a read of its own
    const update = `UPDATE recipients SET method = 'tls-verified', requirement = 'verify' WHERE message_id = ?`;
    const rows = returning ? await tx.all<QueueRecipientRow>(`${update} RETURNING ${QUEUE_RECIPIENT_COLUMNS}`, [id]) : (await tx.run(update, [id]), undefined);
    finished = (await archiving.write(tx, world.clock, { ...facts, verdict: json }, rows)).finished;
  });
  archiving.committed();
  return { written: true, finished };
}

describe('an archive entry written with the verdict (withVerdict)', () => {
  it('made from the rows its UPDATEs returned, the entry is the one made from a read of them', async () => {
    const read = await queue(0);
    const returned = await queue(1);
    for (const { id } of [read, returned]) await world.archiver.storeAhead(id);
    expect(await recordVerdictWithEntry(read.id, { phi: false })).toMatchObject({ written: true });
    expect(await recordVerdictWithEntry(returned.id, { phi: false }, true)).toMatchObject({ written: true });
    const recipients = (id: string) => world.db.all<Record<string, unknown>>('SELECT * FROM archive_recipients WHERE archive_id = ? ORDER BY seq', [id]);
    const [a, b] = [await recipients(read.id), await recipients(returned.id)];
    expect(a).toHaveLength(1);
    const without = (rows: Record<string, unknown>[]) => rows.map(({ archive_id: _id, record_seq: _seq, ...rest }) => rest);
    expect(without(b)).toEqual(without(a));
    expect(b[0]).toMatchObject({ archive_id: returned.id, method: 'tls-verified', requirement: 'verify', address: 'bob@example.net' });
    // each row's archive:record event in the audit chain names the row as it is stored
    for (const row of [...a, ...b]) {
      const event = await world.db.get<{ data: string }>('SELECT data FROM audit_log WHERE seq = ?', [row.record_seq as number]);
      expect(JSON.parse(event?.data ?? '{}')).toMatchObject({ queueId: row.archive_id, part: 'recipient', sha256: recordHash('recipient', row) });
    }
  });

  it.each<{ name: string; ahead: boolean; before?: () => Promise<void>; written: boolean; bodyBytes?: number }>([
    { name: 'content stored ahead: the entry goes in with the verdict', ahead: true, written: true },
    { name: 'a message just under AHEAD_MAX_BYTES: the same', ahead: true, written: true, bodyBytes: Math.floor((AHEAD_MAX_BYTES - 400) * 0.75) },
    { name: 'a message larger than AHEAD_MAX_BYTES is not sealed ahead: left to the stage', ahead: true, written: false, bodyBytes: Math.ceil(AHEAD_MAX_BYTES * 0.75) },
    { name: 'nothing stored ahead: left to the stage', ahead: false, written: false },
    { name: 'stored ahead longer ago than the time limit: left to the stage', ahead: true, before: async () => void (world.clock += AHEAD_TTL_MS), written: false },
    { name: 'a journal report to spool first (archive.journalTo): left to the stage', ahead: true, before: async () => void (world.journalTo = 'journal@example.org'), written: false },
    {
      name: 'the store ahead failed (the spool file unreadable then): left to the stage',
      ahead: false,
      before: async () => {
        const id = (await world.db.get<{ id: string }>('SELECT id FROM messages'))?.id ?? '';
        const path = join(world.dir, 'spool', 'msg', id.slice(-2), id);
        await rename(path, `${path}.away`);
        await world.archiver.storeAhead(id);
        await rename(`${path}.away`, path);
      },
      written: false,
    },
  ])('$name', async ({ ahead, before, written, bodyBytes }) => {
    const { id, bytes } = await queue(0, bodyBytes);
    if (ahead) await world.archiver.storeAhead(id);
    await before?.();
    const outcome = await recordVerdictWithEntry(id, { phi: true, categories: ['SSN'] });
    expect(outcome.written).toBe(written);
    if (!written) {
      expect(await entryOf(id)).toBeUndefined();
      // the stage archives it after the verdict, as before
      await inspectAndArchive([id]);
    }
    expect((await archivedBytes(id)).equals(bytes)).toBe(true);
    const row = await world.db.get<{ verdict: string; recipients: number }>('SELECT verdict, (SELECT count(*) FROM archive_recipients r WHERE r.archive_id = m.id) AS recipients FROM archive_messages m WHERE id = ?', [id]);
    expect(row?.recipients).toBe(1);
    if (written) {
      expect(JSON.parse(row?.verdict ?? '{}')).toMatchObject({ phi: true });
      expect(await world.db.get('SELECT archived, inspected FROM messages WHERE id = ?', [id])).toEqual({ archived: 1, inspected: 1 });
      // used once: the same content is not offered again
      expect(await world.archiver.withVerdict(id)).toBeUndefined();
      // its ciphertext went in with the entry; the pack is stored from it, and the entry reads the same from there
      const entry = await entryOf(id);
      expect(await pendingPieces()).toEqual([{ object_key: entry?.object_key, object_offset: entry?.object_offset }]);
      await world.archiver.flushPending();
      expect(await pendingPieces()).toEqual([]);
      expect(await archiveKeys()).toEqual([entry?.object_key]);
      expect((await archivedBytes(id)).equals(bytes)).toBe(true);
    }
    expect(world.lines.filter((l) => l.includes('ARCHIVE_FAILED'))).toEqual([]);
  });

  it('a message whose recipients were all final already leaves the queue with its entry', async () => {
    const { id } = await queue(0);
    await world.archiver.storeAhead(id);
    await world.db.run(`UPDATE recipients SET state = 'bounced', finished_at = ? WHERE message_id = ?`, [world.clock, id]);
    const outcome = await recordVerdictWithEntry(id, { phi: false });
    expect(outcome).toEqual({ written: true, finished: true });
    expect(await entryOf(id)).toBeDefined();
    expect(await world.db.get('SELECT id FROM messages WHERE id = ?', [id])).toBeUndefined();
    expect(await world.db.get<{ state: string }>('SELECT state FROM archive_recipients WHERE archive_id = ?', [id])).toEqual({ state: 'bounced' });
  });
});

/** A new archiver on the same database, spool and store (the daemon after a restart). */
function restartedArchiver(): Archiver {
  const log = createLogger({ level: 'debug', destination: new Writable({ write: (c: Buffer, _e, cb) => (world.lines.push(...c.toString('utf8').split('\n').filter(Boolean)), cb()) }) });
  return new Archiver({ db: world.db, spool: world.spool, objects: world.objects, keyring: world.keyring, log, now: () => world.clock, retentionMs: () => 86_400_000 });
}

describe('packs of pieces sealed ahead', () => {
  it('a pack is stored once every piece sealed into it is settled; a piece given up leaves zeros no entry names', async () => {
    const queued = await Promise.all([0, 1, 2].map((n) => queue(n)));
    const [a, gone, b] = queued;
    if (!a || !b || !gone) throw new Error('three messages');
    // one after another: the one to be given up gets the place between the others
    for (const q of [a, gone, b]) await world.archiver.storeAhead(q.id);
    expect(await archiveKeys()).toEqual([]);
    for (const q of [a, b]) expect((await recordVerdictWithEntry(q.id, { phi: false })).written).toBe(true);
    // the third message's piece is neither committed nor given up yet: the pack waits for it
    await world.archiver.flushPending();
    expect(await archiveKeys()).toEqual([]);
    expect(await pendingPieces()).toHaveLength(2);
    // it is deleted from the queue; once its piece is past the time limit (found when the next message is sealed) the pack goes
    await world.db.transaction(async (tx) => {
      await tx.run('DELETE FROM recipients WHERE message_id = ?', [gone.id]);
      await tx.run('DELETE FROM messages WHERE id = ?', [gone.id]);
    });
    world.clock += AHEAD_TTL_MS;
    const next = await queue(3);
    await world.archiver.storeAhead(next.id);
    await world.archiver.flushPending();
    const [ea, eb] = [await entryOf(a.id), await entryOf(b.id)];
    expect(ea?.object_key).toBe(eb?.object_key);
    const keys = await archiveKeys();
    expect(keys).toContain(ea?.object_key);
    const pack = (await rawObjects()).get(ea?.object_key ?? '') ?? Buffer.alloc(0);
    // the pieces at their places; the given-up one's place, between them, holds zeros
    const named = [ea, eb].map((e) => [e?.object_offset ?? 0, e?.object_length ?? 0] as const).sort((x, y) => x[0] - y[0]);
    const namedBytes = named.reduce((sum, [, len]) => sum + len, 0);
    expect(pack.length).toBeGreaterThanOrEqual(namedBytes);
    let zeros = 0;
    let at = 0;
    for (const [offset, length] of named) {
      zeros += pack.subarray(at, offset).filter((x) => x !== 0).length;
      at = offset + length;
    }
    zeros += pack.subarray(at).filter((x) => x !== 0).length;
    expect(zeros).toBe(0);
    expect(pack.length - namedBytes).toBeGreaterThan(0);
    for (const q of [a, b]) expect((await archivedBytes(q.id)).equals(q.bytes)).toBe(true);
    expect(await pendingPieces()).toEqual([]);
  });

  it('pieces a stopped daemon left pending are stored by the next one when its stage starts; read from the database until then', async () => {
    const { id, bytes } = await queue(0);
    await world.archiver.storeAhead(id);
    expect((await recordVerdictWithEntry(id, { phi: false })).written).toBe(true);
    // stopped before its pack was stored
    world.archiver.stop();
    expect(await archiveKeys()).toEqual([]);
    expect(await pendingPieces()).toHaveLength(1);
    expect((await archivedBytes(id)).equals(bytes)).toBe(true);
    const next = restartedArchiver();
    try {
      next.start();
      const deadline = Date.now() + 10_000;
      while ((await pendingPieces()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await pendingPieces()).toEqual([]);
      expect(await archiveKeys()).toEqual([(await entryOf(id))?.object_key]);
      expect((await archivedBytes(id)).equals(bytes)).toBe(true);
    } finally {
      next.stop();
    }
  });
});
