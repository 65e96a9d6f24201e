/**
 * Pending archive pieces (src/archive/pending.ts) on both databases: a
 * piece is read from the database until its pack is stored, the pack is
 * assembled from its pieces (gaps left zero, merged into what the object
 * already holds) and the pieces stored are deleted, and the objects a
 * stopped process left are found by the age of their newest piece. On a
 * real local object store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePendingPieces, flushPendingObject, insertPendingPiece, packParts, pendingAware, stalePendingObjects } from '../../src/archive/pending.js';
import type { Dialect, SqlDatabase } from '../../src/db/sql-database.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function store(): Promise<LocalObjectStore> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-pending-'));
  dirs.push(dir);
  const objects = new LocalObjectStore(join(dir, 'store'));
  await objects.init();
  return objects;
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function pending(db: SqlDatabase): Promise<string[]> {
  return (await db.all<{ object_key: string; object_offset: number }>('SELECT object_key, object_offset FROM archive_pending ORDER BY object_key, object_offset')).map((r) => `${r.object_key}@${Number(r.object_offset)}`);
}

const KEY = 'archive/2026/12/PACK-0001';

describe('packParts: a new pack streamed from its pieces', () => {
  it.each<{ name: string; pieces: [number, string][]; pack: string | undefined }>([
    { name: 'pieces one after another', pieces: [[0, 'alpha'], [5, 'bet']], pack: 'alphabet' },
    { name: 'in any order: laid out by offset', pieces: [[5, 'bet'], [0, 'alpha']], pack: 'alphabet' },
    { name: 'a place never committed stays zero', pieces: [[0, 'ab'], [4, 'cd']], pack: 'ab\0\0cd' },
    { name: 'the first place never committed: zeros before the first piece', pieces: [[3, 'xyz']], pack: '\0\0\0xyz' },
    { name: 'overlapping pieces: not streamed (merged in memory instead)', pieces: [[0, 'abcd'], [2, 'zz']], pack: undefined },
    { name: 'no piece: nothing', pieces: [], pack: '' },
  ])('$name', ({ pieces, pack }) => {
    const parts = packParts(pieces.map(([offset, text]) => ({ offset, data: Buffer.from(text, 'latin1') })));
    expect(parts === undefined ? undefined : Buffer.concat(parts).toString('latin1')).toBe(pack);
  });

  it('each piece is its own bytes, not a copy (a Uint8Array as sqlite3 may return it is viewed, not copied)', () => {
    const a = Buffer.from('alpha');
    const b = new Uint8Array(Buffer.from('bet'));
    const parts = packParts([{ offset: 0, data: a }, { offset: 5, data: b }]) ?? [];
    expect(parts[0]).toBe(a);
    expect((parts[1] as Buffer).buffer).toBe(b.buffer);
  });
});

describe.each(DIALECTS)('pending archive pieces on %s', (kind: Dialect) => {
  it.each<{ name: string; stored?: string; pieces: [number, string][]; object: Buffer | undefined; flushed: number }>([
    { name: 'pieces one after another: the pack is their bytes in order', pieces: [[0, 'alpha'], [5, 'bet']], object: Buffer.from('alphabet'), flushed: 2 },
    { name: 'a place whose piece was never committed stays zero', pieces: [[0, 'abcd'], [10, 'xy']], object: Buffer.concat([Buffer.from('abcd'), Buffer.alloc(6), Buffer.from('xy')]), flushed: 2 },
    { name: 'pieces committed after the pack was stored are merged into it', stored: 'AAAAAA', pieces: [[6, 'bbb']], object: Buffer.from('AAAAAAbbb'), flushed: 1 },
    { name: 'a piece inside what the object holds replaces those bytes (the same bytes, flushed again)', stored: 'AAAAAAbbb', pieces: [[6, 'bbb']], object: Buffer.from('AAAAAAbbb'), flushed: 1 },
    { name: 'nothing pending: nothing stored', pieces: [], object: undefined, flushed: 0 },
  ])('$name', async ({ stored, pieces, object, flushed }) => {
    const db = await dbs.fresh(kind);
    const objects = await store();
    if (stored !== undefined) await objects.put(KEY, Readable.from([Buffer.from(stored)]));
    await db.transaction(async (tx) => {
      for (const [offset, text] of pieces) await insertPendingPiece(tx, { objectKey: KEY, offset, ciphertext: Buffer.from(text) }, 1_000);
    });
    // until the pack is stored, each piece is read from the database
    const reader = pendingAware(objects, db);
    for (const [offset, text] of pieces) expect((await bytesOf(reader.getRange(KEY, offset, text.length))).toString()).toBe(text);
    expect(await flushPendingObject(db, objects, KEY)).toBe(flushed);
    expect(await pending(db)).toEqual([]);
    if (object === undefined) expect(await objects.exists(KEY)).toBe(false);
    else expect((await bytesOf(objects.get(KEY))).equals(object)).toBe(true);
    // and from the object afterwards
    for (const [offset, text] of pieces) expect((await bytesOf(reader.getRange(KEY, offset, text.length))).toString()).toBe(text);
  });

  it('a range neither pending nor stored fails as the store does (SG_OBJECT_NOT_FOUND)', async () => {
    const db = await dbs.fresh(kind);
    const reader = pendingAware(await store(), db);
    await expect(bytesOf(reader.getRange('archive/2026/12/NONE', 0, 4))).rejects.toMatchObject({ code: 'SG_OBJECT_NOT_FOUND' });
  });

  it.each<{ name: string; notAfter: number; stale: string[] }>([
    { name: 'none yet', notAfter: 50, stale: [] },
    { name: 'only the object whose newest piece is old enough', notAfter: 250, stale: ['archive/2026/12/Y'] },
    { name: 'both, at the time of the newest piece', notAfter: 300, stale: ['archive/2026/12/X', 'archive/2026/12/Y'] },
  ])('objects left pending, by their newest piece: $name', async ({ notAfter, stale }) => {
    const db = await dbs.fresh(kind);
    await db.transaction(async (tx) => {
      await insertPendingPiece(tx, { objectKey: 'archive/2026/12/X', offset: 0, ciphertext: Buffer.from('x1') }, 100);
      await insertPendingPiece(tx, { objectKey: 'archive/2026/12/X', offset: 2, ciphertext: Buffer.from('x2') }, 300);
      await insertPendingPiece(tx, { objectKey: 'archive/2026/12/Y', offset: 0, ciphertext: Buffer.from('y1') }, 200);
    });
    expect(await stalePendingObjects(db, notAfter, 10)).toEqual(stale);
  });

  it('an object whose entries are purged loses its pieces, and then nothing is stored for it', async () => {
    const db = await dbs.fresh(kind);
    const objects = await store();
    await db.transaction(async (tx) => {
      await insertPendingPiece(tx, { objectKey: KEY, offset: 0, ciphertext: Buffer.from('gone') }, 1_000);
      await insertPendingPiece(tx, { objectKey: 'archive/2026/12/OTHER', offset: 0, ciphertext: Buffer.from('kept') }, 1_000);
    });
    await db.transaction((tx) => deletePendingPieces(tx, KEY));
    expect(await pending(db)).toEqual(['archive/2026/12/OTHER@0']);
    expect(await flushPendingObject(db, objects, KEY)).toBe(0);
    expect(await objects.exists(KEY)).toBe(false);
  });
});
