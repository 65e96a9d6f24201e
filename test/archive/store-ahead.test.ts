/**
 * Archive contents stored ahead (Archiver.storeAhead): a message's content
 * is stored in the object store while it is being inspected, and its entry,
 * written once it is inspected, names that object instead of storing the
 * content again — unless the content was stored longer ago than
 * AHEAD_TTL_MS (well inside the orphan sweep's grace period), when the
 * entry's batch stores it anew. On a real SQLite database, spool, keyring
 * and local object store; the archived bytes are read back through the
 * archive's own code.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AHEAD_TTL_MS, Archiver, type MessageRow } from '../../src/archive/archiver.js';
import { entryKeyOf, readArchiveContent } from '../../src/archive/content.js';
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
async function queue(n: number): Promise<{ id: string; bytes: Buffer; facts: MessageFactsRow }> {
  const id = generateQueueId(world.clock + n, randomBytes);
  const bytes = Buffer.from(`From: alice@example.com\r\nTo: bob@example.net\r\nSubject: ahead ${n}\r\nMessage-ID: <ahead-${n}@example.com>\r\n\r\n${randomBytes(600).toString('base64')}\r\n`);
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
  for await (const c of readArchiveContent(world.objects, world.keyring, entryKeyOf(row))) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Stores the contents of `ids` ahead (as the daemon does when they are queued: with their facts, when given); returns the archive objects then. */
async function storeAhead(ids: readonly string[], facts?: readonly MessageFactsRow[]): Promise<string[]> {
  await Promise.all(ids.map((id, i) => world.archiver.storeAhead(id, facts?.[i])));
  return archiveKeys();
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

describe('archive contents stored ahead of their entries', () => {
  it.each<{ name: string; messages: number; laterMs: number; reused: boolean; handed?: boolean }>([
    { name: 'one message, archived at once: its entry names the object stored ahead, and nothing is stored again', messages: 1, laterMs: 0, reused: true },
    { name: 'one message handed over with its facts (its row not read): the same', messages: 1, laterMs: 0, reused: true, handed: true },
    { name: 'three messages handed over with their facts: the same', messages: 3, laterMs: 0, reused: true, handed: true },
    { name: 'three messages stored ahead: their entries name the objects stored ahead, and nothing is stored again', messages: 3, laterMs: 0, reused: true },
    { name: 'archived just inside the time limit: still what was stored ahead', messages: 2, laterMs: AHEAD_TTL_MS - 1, reused: true },
    { name: 'archived once the time limit is over: stored again (what was stored ahead is the orphan sweep’s)', messages: 1, laterMs: AHEAD_TTL_MS, reused: false },
    { name: 'two messages archived once the time limit is over: stored again', messages: 2, laterMs: AHEAD_TTL_MS, reused: false },
  ])('$name', async ({ messages, laterMs, reused, handed }) => {
    const queued = await Promise.all(Array.from({ length: messages }, (_, n) => queue(n)));
    const ids = queued.map((q) => q.id);
    await storeAhead(ids, handed ? queued.map((q) => q.facts) : undefined);
    const ahead = await rawObjects();
    expect(ahead.size).toBeGreaterThan(0);
    world.clock += laterMs;
    await inspectAndArchive(ids);
    const named = new Set<string>();
    for (const { id, bytes } of queued) {
      const row = await entryOf(id);
      expect(row, id).toBeDefined();
      named.add(row?.object_key ?? '');
      expect((await archivedBytes(id)).equals(bytes)).toBe(true);
    }
    const after = await rawObjects();
    const storedAhead = (key: string): boolean => [...ahead.values()].some((b) => b.equals(after.get(key) ?? Buffer.alloc(0)));
    if (reused) {
      // the same objects, byte for byte, and no other
      expect([...named].sort()).toEqual([...ahead.keys()]);
      expect([...after.keys()]).toEqual([...ahead.keys()]);
      expect([...named].every(storedAhead)).toBe(true);
    } else {
      // every entry names content stored after the limit (a fresh data key: other ciphertext)
      expect([...named].some(storedAhead)).toBe(false);
    }
    expect(world.lines.filter((l) => l.includes('ARCHIVE_FAILED') || l.includes('ARCHIVE_PACK_FAILED'))).toEqual([]);
  });

  it('a message never stored ahead is archived as before; one deleted after its content was stored ahead gets no entry', async () => {
    const plain = await queue(0);
    await inspectAndArchive([plain.id]);
    expect((await archivedBytes(plain.id)).equals(plain.bytes)).toBe(true);
    expect(await archiveKeys()).toHaveLength(1);

    const gone = await queue(1);
    expect(await storeAhead([gone.id])).toHaveLength(2);
    await world.db.transaction(async (tx) => {
      await tx.run('DELETE FROM recipients WHERE message_id = ?', [gone.id]);
      await tx.run('DELETE FROM messages WHERE id = ?', [gone.id]);
    });
    await world.archiver.archiveBatch([gone.id]);
    expect(await entryOf(gone.id)).toBeUndefined();
    // its object is one no entry names: the orphan sweep's to delete once past its grace period
    expect(await archiveKeys()).toHaveLength(2);
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
async function recordVerdictWithEntry(id: string, verdict: object): Promise<{ written: boolean; finished: boolean }> {
  const archiving = await world.archiver.withVerdict(id);
  if (!archiving) return { written: false, finished: false };
  const facts = await world.db.get<Omit<MessageRow, 'verdict'>>(`SELECT ${MESSAGE_FACTS_COLUMNS} FROM messages WHERE id = ?`, [id]);
  if (!facts) throw new Error(`no message ${id}`);
  const json = JSON.stringify(verdict);
  let finished = false;
  await world.db.transaction(async (tx) => {
    await tx.run('UPDATE messages SET inspected = 1, archived = 1, verdict = ? WHERE id = ? AND inspected = 0', [json, id]);
    await tx.run(`UPDATE recipients SET method = 'tls-verified', requirement = 'verify' WHERE message_id = ?`, [id]);
    finished = (await archiving.write(tx, world.clock, { ...facts, verdict: json })).finished;
  });
  archiving.committed();
  return { written: true, finished };
}

describe('an archive entry written with the verdict (withVerdict)', () => {
  it.each<{ name: string; ahead: boolean; before?: () => Promise<void>; written: boolean }>([
    { name: 'content stored ahead: the entry goes in with the verdict', ahead: true, written: true },
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
  ])('$name', async ({ ahead, before, written }) => {
    const { id, bytes } = await queue(0);
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
