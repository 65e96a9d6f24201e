/**
 * The orphan sweep: archive objects that no entry needs any more.
 *
 * The archive stage stores a message's ciphertext (a pack, or an object of
 * its own) before the transaction that writes its entry; a crash or a
 * failed commit in between leaves an object that no row names. It can
 * never be read (the data keys were only ever in that transaction), so it
 * is only space — but PHI-bearing ciphertext kept past anyone's intent. The
 * sweep lists `archive/`, and deletes an object when
 *   - it is older than the grace period (an hour): a younger one may be a
 *     put whose entry is about to commit, and
 *   - no live entry (not purged) names it: an object whose entries are all
 *     purged is what `archive purge` deletes anyway (their keys are gone), and
 *   - for an object of one message (key `archive/yyyy/mm/<queue id>`), that
 *     message is not waiting in the queue to be archived: its retry stores
 *     the object again under the same key and then commits, and must not
 *     lose it in between. A pack's key has a random part and is never
 *     stored twice.
 * Safe while the daemon archives. Each sweep that deletes something leaves
 * one `archive:orphans_removed` audit event with the count, written after
 * the deletions (a crash part way leaves them unrecorded; the next sweep
 * finds nothing more to do there).
 */
import { appendAudit } from '../audit/log.js';
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import type { ObjectInfo, ObjectStore } from '../objects/object-store.js';
import { isQueueId } from '../queue/ids.js';

/** Objects younger than this are kept (their entry may be committing). */
export const ORPHAN_GRACE_MS = 3_600_000;

/** Where archive objects live in the object store (content.ts). */
const ARCHIVE_PREFIX = 'archive/';

export interface SweepOptions {
  readonly now: number;
  readonly graceMs?: number;
  /** Count what would go; delete and record nothing. */
  readonly dryRun?: boolean;
  /** Who ran it (the operating-system user for the CLI), and how: daemon | cli. */
  readonly operator?: string;
  readonly via: string;
  /** Checked before each object: true stops the sweep there (the daemon stopping). */
  readonly stopped?: () => boolean;
}

export interface SweepSummary {
  /** Archive objects listed. */
  readonly objects: number;
  /** Objects deleted (or that would be). */
  readonly removed: number;
  /** Their bytes. */
  readonly bytes: number;
  /** Objects younger than the grace period (not judged yet). */
  readonly young: number;
}

/** Pure: the queue id an object of one message is named by, or undefined for a pack (`<first id>-<random>`) or any other key. */
export function singleEntryId(key: string): string | undefined {
  const last = key.slice(key.lastIndexOf('/') + 1);
  return isQueueId(last) ? last : undefined;
}

/** Pure: whether an object is old enough to be judged an orphan. */
export function pastGrace(info: ObjectInfo, now: number, graceMs: number): boolean {
  return now - info.modifiedAt >= graceMs;
}

/**
 * Whether the object must stay: its message's archiving is still to come,
 * or a live entry names it. In that order: a retry that commits between the
 * two reads is then seen by the second.
 */
async function needed(db: SqlQueryable, key: string): Promise<boolean> {
  const id = singleEntryId(key);
  if (id !== undefined && (await db.get('SELECT 1 AS x FROM messages WHERE id = ? AND archived = 0', [id])) !== undefined) return true;
  // the partial index of live entries per object (migration 20)
  return (await db.get('SELECT 1 AS x FROM archive_messages WHERE object_key = ? AND purged_at IS NULL LIMIT 1', [key])) !== undefined;
}

/** Lists the archive's objects and deletes the orphans among them (see the header); one audit event with the count when any went. */
export async function sweepArchiveOrphans(db: SqlDatabase, objects: ObjectStore, options: SweepOptions): Promise<SweepSummary> {
  const grace = options.graceMs ?? ORPHAN_GRACE_MS;
  let listed = 0;
  let removed = 0;
  let bytes = 0;
  let young = 0;
  for await (const info of objects.listInfo(ARCHIVE_PREFIX)) {
    if (options.stopped?.()) break;
    listed++;
    if (!pastGrace(info, options.now, grace)) {
      young++;
      continue;
    }
    if (await needed(db, info.key)) continue;
    if (!options.dryRun) await objects.delete(info.key);
    removed++;
    bytes += info.bytes;
  }
  if (removed > 0 && !options.dryRun) {
    await appendAudit(db, { type: 'archive:orphans_removed', data: { objects: removed, bytes, via: options.via, ...(options.operator !== undefined ? { operator: options.operator } : {}) } }, options.now);
  }
  return { objects: listed, removed, bytes, young };
}
