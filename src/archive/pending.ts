/**
 * Archive contents whose object is not stored yet: **pending pieces**.
 *
 * A small message's archive content is sealed (encrypted under its own data
 * key, content.ts) for its place in a pack that does not exist yet, and its
 * ciphertext goes into `archive_pending` in the same transaction as its
 * entry, which names that pack, offset and length. The entry is then
 * complete and durable with no object write of its own on the message's
 * way to delivery. The pack is written later from its pieces, in one put
 * (`flushPendingObject`), and the pieces are deleted once it is stored.
 *
 * Reading: `pendingAware` reads a range from its pending piece while there
 * is one, else from the object store; the flush deletes a piece only after
 * the object holding it is durable, so one of the two always has it.
 *
 * Flushing is safe to repeat: it merges what the object already holds with
 * the pieces still pending, and deletes only the pieces it wrote. A place
 * in a pack whose piece was never committed (the message's transaction
 * failed, its verdict came too late) is left zero: no entry names it.
 *
 * Pure SQL on both dialects; no state here (the packs being filled are
 * pending-packs.ts's).
 */
import { Readable } from 'node:stream';
import { insertRowsChunked, type RowsTable } from '../db/rows-at-commit.js';
import type { SqlDatabase, SqlQueryable, SqlValue } from '../db/sql-database.js';
import type { ObjectStore } from '../objects/object-store.js';
import { readBounded } from '../stream/read-bounded.js';

/** What reading an entry's content needs of the object store. */
export type ArchiveRanges = Pick<ObjectStore, 'getRange'>;

/** Pieces deleted per statement after their pack is stored. */
const DELETE_CHUNK = 200;

/** The table of pending pieces, for a piece's row written now or with the group's commit (entries.ts). */
export const ARCHIVE_PENDING: RowsTable = { name: 'archive_pending', columns: ['object_key', 'object_offset', 'data', 'created_at'], perStatement: 32 };

/** A sealed piece's row of ARCHIVE_PENDING. */
export function pendingPieceRow(piece: { readonly objectKey: string; readonly offset: number; readonly ciphertext: Buffer }, now: number): SqlValue[] {
  return [piece.objectKey, piece.offset, piece.ciphertext, now];
}

/** Stores a sealed piece in `tx` (the transaction that writes the entry naming it). */
export async function insertPendingPiece(tx: SqlQueryable, piece: { readonly objectKey: string; readonly offset: number; readonly ciphertext: Buffer }, now: number): Promise<void> {
  await insertRowsChunked(tx, ARCHIVE_PENDING, [pendingPieceRow(piece, now)]);
}

/** `objects` for reading entries' contents, a range still pending read from its piece. */
export function pendingAware(objects: ArchiveRanges, db: SqlQueryable): ArchiveRanges {
  return {
    getRange(key: string, start: number, length: number): Readable {
      async function* bytes(): AsyncGenerator<Buffer> {
        const row = await db.get<{ data: Buffer | Uint8Array }>('SELECT data FROM archive_pending WHERE object_key = ? AND object_offset = ?', [key, start]);
        if (row && row.data.length === length) {
          yield Buffer.from(row.data);
          return;
        }
        for await (const chunk of objects.getRange(key, start, length)) yield chunk as Buffer;
      }
      return Readable.from(bytes(), { objectMode: false });
    },
  };
}

/** Bytes of an existing object read back to merge pieces into (a pack of pieces stays far below this). */
const MERGE_LIMIT = 64 * 1024 * 1024;

/**
 * Stores the object `key` from its pending pieces (merged into what the
 * object already holds, if it exists), then deletes those pieces. Resolves
 * with the number of pieces stored (0: none pending).
 */
export async function flushPendingObject(db: SqlDatabase, objects: ObjectStore, key: string): Promise<number> {
  const rows = await db.all<{ object_offset: number; data: Buffer | Uint8Array }>('SELECT object_offset, data FROM archive_pending WHERE object_key = ? ORDER BY object_offset', [key]);
  if (rows.length === 0) return 0;
  let existing: Buffer | undefined;
  if (await objects.exists(key)) {
    existing = await readBounded(objects.get(key), MERGE_LIMIT);
    if (!existing) throw new Error(`archive object larger than ${MERGE_LIMIT} bytes: its pending pieces are not merged into it`);
  }
  const pieces = rows.map((r) => ({ offset: Number(r.object_offset), data: r.data }));
  // a new pack is streamed from its pieces as they were read (no copy of the whole pack: it would be one more buffer of
  // every message's size for the collector); one merged into what is already stored is put together in memory
  await objects.put(key, Readable.from((existing ? undefined : packParts(pieces)) ?? [mergedPack(existing, pieces)]));
  const offsets = rows.map((r) => Number(r.object_offset));
  await db.transaction(async (tx) => {
    for (let i = 0; i < offsets.length; i += DELETE_CHUNK) {
      const part = offsets.slice(i, i + DELETE_CHUNK);
      await tx.run(`DELETE FROM archive_pending WHERE object_key = ? AND object_offset IN (${part.map(() => '?').join(', ')})`, [key, ...part]);
    }
  });
  return rows.length;
}

/**
 * Pure: a pack's bytes from its pieces, in offset order — each piece itself,
 * zeros where a place's piece was never committed. undefined when two
 * pieces overlap (mergedPack then lays them out).
 */
export function packParts(pieces: readonly { readonly offset: number; readonly data: Uint8Array }[]): Buffer[] | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (const { offset, data } of [...pieces].sort((a, b) => a.offset - b.offset)) {
    if (offset < at) return undefined;
    if (offset > at) parts.push(Buffer.alloc(offset - at));
    parts.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    at = offset + data.length;
  }
  return parts;
}

/** The bytes of `existing` (what the object holds) with each piece laid over it at its offset, zeros where neither is. */
function mergedPack(existing: Buffer | undefined, pieces: readonly { readonly offset: number; readonly data: Uint8Array }[]): Buffer {
  let end = existing?.length ?? 0;
  for (const p of pieces) end = Math.max(end, p.offset + p.data.length);
  const whole = Buffer.alloc(end);
  existing?.copy(whole);
  for (const p of pieces) whole.set(p.data, p.offset);
  return whole;
}

/** Objects with pieces pending whose newest piece was stored at `notAfter` (ms) or before, at most `limit`: left by a process that stopped. */
export async function stalePendingObjects(db: SqlQueryable, notAfter: number, limit: number): Promise<string[]> {
  const rows = await db.all<{ object_key: string }>('SELECT object_key FROM archive_pending GROUP BY object_key HAVING MAX(created_at) <= ? ORDER BY object_key LIMIT ?', [notAfter, limit]);
  return rows.map((r) => r.object_key);
}

/** Deletes an object's pending pieces (its entries purged: nothing may store them any more). */
export async function deletePendingPieces(tx: SqlQueryable, key: string): Promise<void> {
  await tx.run('DELETE FROM archive_pending WHERE object_key = ?', [key]);
}
