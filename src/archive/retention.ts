/**
 * Retention of the archive (docs/archive.md, "Retention, legal hold and
 * purge"): legal holds placed and released per entry or per search, and the
 * purge of entries past their retain_until by crypto-shredding.
 *
 * Every change goes through entries.ts (updateArchiveMessages), so each new
 * row version is recorded in the audit chain (`archive:record`) and `archive
 * verify` keeps holding; each transaction also appends the operator's act
 * (`archive:held`, `archive:released`, `archive:purged`) naming the entries
 * it changed. Rows are never deleted: a purged entry keeps its metadata and
 * evidence, and loses its data key (wrapped_key), its sealed subject and its
 * subject-word terms; its ciphertext goes with the object that holds it.
 *
 * Packs: several entries share one object. The object is deleted in the
 * transaction that purges its last live (not purged) entry; while one entry
 * of a pack is held or not yet due, the pack stays, and the purged entries'
 * ranges in it can no longer be decrypted (their keys are gone: the purge
 * runs with secure_delete, so the destroyed keys' bytes do not linger in
 * the database's free space either). Packs are not rewritten: see
 * docs/archive.md, "Why a purged range left in a pack is disposed of".
 *
 * Crash safety: objects are deleted inside the purge transaction, before it
 * commits. If the transaction does not commit (a crash, a full disk), its
 * entries are still due (retain_until passed, no hold, not purged) and the
 * next purge shreds them and deletes again (deleting a missing object is no
 * error); an object is never left behind with nothing pointing at it.
 *
 * Memory is bounded at any archive size: every pass reads and writes in
 * batches (PURGE_BATCH entries, HOLD_BATCH for holds; a search is paged).
 *
 * Several nodes (PostgreSQL, docs/scale-out.md): every hold, release and
 * purge transaction first takes one advisory lock (`LOCK_SPACES.archiveRetention`),
 * so operators on several machines (or the console beside the CLI) decide
 * one after the other, each on what the previous one committed: a purge
 * never shreds an entry a hold placed a moment before, two purges never
 * shred one entry twice, and the last live entry of a pack is seen as the
 * last by exactly one of them. The nodes' archiving takes no such lock: it
 * only adds entries and objects. On SQLite the write transaction is alone
 * already. PostgreSQL keeps a replaced row's old version (the wrapped key)
 * until VACUUM: a purge that shredded anything vacuums the tables it changed
 * (docs/scale-out.md, the WAL and backups caveat).
 */
import { deletePendingPieces } from './pending.js';
import { appendAuditEvent } from '../audit/log.js';
import { LOCK_SPACES, lockKey, type SqlDatabase, type SqlQueryable } from '../db/sql-database.js';
import type { ObjectStore } from '../objects/object-store.js';
import { isQueueId } from '../queue/ids.js';
import { MESSAGE_UPDATE_BATCH, updateArchiveMessages } from './entries.js';
import { searchArchive, SEARCH_MAX_LIMIT, type parseSearch } from './search.js';
import { SUBJECT_TERM_PREFIX } from './terms.js';

/** Entries per purge transaction: each may delete an object, and the daemon's writes wait meanwhile. */
export const PURGE_BATCH = 200;
/** Entries per hold or release transaction. */
export const HOLD_BATCH = 200;
/** Longest hold or release reason (characters): an auditor's words, kept in the audit chain. */
export const MAX_HOLD_REASON = 500;
/** Most ids one hold or release command names. */
export const MAX_HOLD_IDS = 1000;
/** A hold per search stops (changing nothing) when the search matches more than this, unless raised. */
export const HOLD_SEARCH_DEFAULT_MAX = 10_000;
/** The highest the per-search bound may be raised to. */
export const HOLD_SEARCH_MAX = 1_000_000;

/** A bad hold, release or purge input: the message names the flag or the entry, never an address or subject. */
export class RetentionInputError extends Error {}

/**
 * A hold or release reason: optional unless `required` (a change per
 * search must say why), one line, at most MAX_HOLD_REASON characters.
 */
export function checkHoldReason(reason: string | undefined, required: boolean): string | undefined {
  const r = reason?.trim() ?? '';
  if (r.length === 0) {
    if (required) throw new RetentionInputError('a hold or release per search needs --reason TEXT (why; it is recorded in the audit log)');
    return undefined;
  }
  if (r.length > MAX_HOLD_REASON) throw new RetentionInputError(`--reason is longer than ${MAX_HOLD_REASON} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(r)) throw new RetentionInputError('--reason must be one line of text');
  return r;
}

/** Entry ids as given on the command line: queue ids, upper-cased, duplicates dropped, at most MAX_HOLD_IDS. */
export function checkEntryIds(ids: readonly string[]): string[] {
  if (ids.length === 0) throw new RetentionInputError('name the entries (queue ids, as archive search shows them) or give search filters');
  if (ids.length > MAX_HOLD_IDS) throw new RetentionInputError(`at most ${MAX_HOLD_IDS} entry ids at a time; use search filters for more`);
  const out = new Set<string>();
  for (const id of ids) {
    const upper = id.trim().toUpperCase();
    if (!isQueueId(upper)) throw new RetentionInputError('an entry id is a queue id (20 characters, 0-9 and A-Z), as archive search shows it');
    out.add(upper);
  }
  return [...out];
}

/** Who changes a hold, how, and why. */
export interface HoldRequest {
  /** true: place a legal hold; false: release it. */
  readonly hold: boolean;
  readonly operator: string;
  /** cli | console */
  readonly via: string;
  readonly reason?: string | undefined;
  /** The search's filter names (never their values), when the change is per search. */
  readonly filters?: readonly string[] | undefined;
}

export interface HoldOutcome {
  /** Entries named or matched. */
  readonly matched: number;
  /** Entries whose hold this changed. */
  readonly changed: number;
  /** Entries already in the wanted state. */
  readonly unchanged: number;
  /** Entries skipped because they were purged (nothing is left to hold). */
  readonly purged: number;
}

/**
 * Sets or clears the hold of `ids` (at most HOLD_BATCH) in one transaction:
 * the rows with their records, and one `archive:held` / `archive:released`
 * event naming the entries changed (written even when none changed: the
 * operator's act is on record). A purged entry is never held (checked inside
 * the transaction, so a purge running beside cannot slip in between).
 */
async function holdBatch(db: SqlDatabase, ids: readonly string[], request: HoldRequest, now: number): Promise<HoldOutcome> {
  return db.transaction(async (tx) => {
    await lockRetention(tx);
    const marks = ids.map(() => '?').join(', ');
    const live = await tx.all<{ id: string }>(`SELECT id FROM archive_messages WHERE id IN (${marks}) AND purged_at IS NULL`, [...ids]);
    const eligible = request.hold ? live.map((r) => r.id) : [...ids];
    const changed = await updateArchiveMessages(tx, eligible, { hold: request.hold ? 1 : 0 }, now);
    await appendAuditEvent(
      tx,
      {
        type: request.hold ? 'archive:held' : 'archive:released',
        data: {
          queueIds: changed,
          count: changed.length,
          operator: request.operator,
          via: request.via,
          ...(request.reason !== undefined ? { reason: request.reason } : {}),
          ...(request.filters !== undefined ? { filters: [...request.filters] } : {}),
        },
      },
      now,
    );
    const purged = request.hold ? ids.length - live.length : 0;
    return { matched: ids.length, changed: changed.length, unchanged: ids.length - purged - changed.length, purged };
  });
}

/** The one retention lock (see the header), taken first in every hold, release and purge transaction. */
async function lockRetention(tx: SqlQueryable): Promise<void> {
  await lockKey(tx, LOCK_SPACES.archiveRetention, 'archive');
}

function add(a: HoldOutcome, b: HoldOutcome): HoldOutcome {
  return { matched: a.matched + b.matched, changed: a.changed + b.changed, unchanged: a.unchanged + b.unchanged, purged: a.purged + b.purged };
}

const NONE: HoldOutcome = { matched: 0, changed: 0, unchanged: 0, purged: 0 };

/** Which of `ids` are not archive entries, and which were purged (one query per HOLD_BATCH ids). */
export async function entryStates(db: SqlQueryable, ids: readonly string[]): Promise<{ missing: string[]; purged: string[] }> {
  const missing: string[] = [];
  const purged: string[] = [];
  for (let at = 0; at < ids.length; at += HOLD_BATCH) {
    const chunk = ids.slice(at, at + HOLD_BATCH);
    const rows = await db.all<{ id: string; purged_at: number | null }>(`SELECT id, purged_at FROM archive_messages WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk);
    const found = new Map(rows.map((r) => [r.id, r.purged_at]));
    for (const id of chunk) {
      if (!found.has(id)) missing.push(id);
      else if (found.get(id) !== null) purged.push(id);
    }
  }
  return { missing, purged };
}

/** Holds or releases the entries `ids` (checked by the caller: they exist), HOLD_BATCH per transaction. */
export async function holdEntries(db: SqlDatabase, ids: readonly string[], request: HoldRequest, now: number): Promise<HoldOutcome> {
  let out = NONE;
  for (let at = 0; at < ids.length; at += HOLD_BATCH) out = add(out, await holdBatch(db, ids.slice(at, at + HOLD_BATCH), request, now));
  return out;
}

export type ParsedSearch = ReturnType<typeof parseSearch>;

/** The search matches more entries than the bound: nothing was changed. */
export class TooManyMatchesError extends RetentionInputError {
  constructor(readonly max: number) {
    super(`the search matches more than ${max} entries: nothing was changed; narrow the search or raise --max (up to ${HOLD_SEARCH_MAX})`);
  }
}

/** Every entry a search matches, page by page (newest first), as lists of ids; at most `pageSize` ids in memory. */
async function* searchPages(db: SqlQueryable, search: ParsedSearch, pageSize: number): AsyncGenerator<string[]> {
  let after: string | undefined;
  for (;;) {
    const { afterId: _a, offset: _o, ...rest } = search;
    const page = await searchArchive(db, { ...rest, limit: pageSize, ...(after !== undefined ? { afterId: after } : {}) });
    if (page.entries.length > 0) yield page.entries.map((e) => e.id);
    if (!page.next) return;
    after = page.next;
  }
}

/**
 * Holds or releases every entry `search` matches, all pages. First counts
 * the matches and refuses (changing nothing) when there are more than
 * `max`: a legal hold must not silently cover only part of a search. Then
 * applies it page by page; entries archived meanwhile (newer than the
 * first page) are not included.
 */
export async function holdSearch(db: SqlDatabase, search: ParsedSearch, request: HoldRequest, now: number, max: number, pageSize = SEARCH_MAX_LIMIT): Promise<HoldOutcome> {
  let count = 0;
  for await (const ids of searchPages(db, search, pageSize)) {
    count += ids.length;
    if (count > max) throw new TooManyMatchesError(max);
  }
  let out = NONE;
  for await (const ids of searchPages(db, search, pageSize)) {
    for (let at = 0; at < ids.length; at += HOLD_BATCH) out = add(out, await holdBatch(db, ids.slice(at, at + HOLD_BATCH), request, now));
  }
  return out;
}

// ---- purge ---------------------------------------------------------------------------------------

export interface PurgeOptions {
  /** ms since the epoch: entries with retain_until before this are due. */
  readonly now: number;
  /** Report what would go; change nothing (no object, no row, no audit event). */
  readonly dryRun?: boolean;
  readonly batchSize?: number;
  readonly operator: string;
  readonly via: string;
  /** Called after each batch with the entries done so far. */
  readonly onProgress?: (entries: number) => void;
}

export interface PurgeSummary {
  readonly dryRun: boolean;
  /** The cut-off: entries retained until before this were due (ms). */
  readonly before: number;
  /** Entries purged (or that would be). */
  readonly entries: number;
  /** The oldest and newest receipt time among them (ms), null when none. */
  readonly oldestReceived: number | null;
  readonly newestReceived: number | null;
  /** Objects deleted (or that would be): entries stored alone, and packs whose every entry is purged. */
  readonly objectsDeleted: number;
  /** Packs that stay because another entry in them is held or not yet due. */
  readonly objectsKept: number;
  /** Entries past retention that are kept because of a legal hold. */
  readonly heldExpired: number;
}

interface DueRow {
  id: string;
  object_key: string;
  received_at: number;
  retain_until: number;
}

/** The condition of an entry due for purge; written out in full so that the partial index archive_messages_due serves it. */
const DUE = 'retain_until < ? AND hold = 0 AND purged_at IS NULL';

/** An object's live entries: how many, and how many of them are due at `now`. */
async function objectState(tx: SqlQueryable, objectKey: string, now: number): Promise<{ live: number; due: number }> {
  const row = await tx.get<{ live: number; due: number | null }>(
    'SELECT COUNT(*) AS live, SUM(CASE WHEN retain_until < ? AND hold = 0 THEN 1 ELSE 0 END) AS due FROM archive_messages WHERE object_key = ? AND purged_at IS NULL',
    [now, objectKey],
  );
  return { live: row?.live ?? 0, due: row?.due ?? 0 };
}

/** What a dry run says of an object: its entries after `last` in purge order that are due, and its live entries that are not. */
async function objectPlan(db: SqlQueryable, objectKey: string, now: number, last: DueRow): Promise<{ later: number; kept: number }> {
  const row = await db.get<{ later: number | null; kept: number | null }>(
    `SELECT SUM(CASE WHEN retain_until < ? AND hold = 0 AND (retain_until > ? OR (retain_until = ? AND id > ?)) THEN 1 ELSE 0 END) AS later,
            SUM(CASE WHEN retain_until < ? AND hold = 0 THEN 0 ELSE 1 END) AS kept
       FROM archive_messages WHERE object_key = ? AND purged_at IS NULL`,
    [now, last.retain_until, last.retain_until, last.id, now, objectKey],
  );
  return { later: row?.later ?? 0, kept: row?.kept ?? 0 };
}

/** The last row of each object in a batch (rows in purge order). */
function lastPerObject(rows: readonly DueRow[]): Map<string, DueRow> {
  const out = new Map<string, DueRow>();
  for (const r of rows) out.set(r.object_key, r);
  return out;
}

class Tally {
  entries = 0;
  oldest: number | null = null;
  newest: number | null = null;
  deleted = 0;
  kept = 0;

  count(rows: readonly DueRow[]): void {
    for (const r of rows) {
      this.entries++;
      if (this.oldest === null || r.received_at < this.oldest) this.oldest = r.received_at;
      if (this.newest === null || r.received_at > this.newest) this.newest = r.received_at;
    }
  }
}

/** One purge transaction: up to `size` due entries shredded and recorded, their objects deleted when nothing live is left in them. */
async function purgeBatch(db: SqlDatabase, objects: ObjectStore, options: PurgeOptions, size: number, tally: Tally): Promise<number> {
  const { now } = options;
  return db.transaction(async (tx) => {
    await lockRetention(tx);
    const rows = await tx.all<DueRow>(`SELECT id, object_key, received_at, retain_until FROM archive_messages WHERE ${DUE} ORDER BY retain_until, id LIMIT ?`, [now, size]);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    const changed = await updateArchiveMessages(tx, ids, { wrapped_key: null, subject_sealed: null, purged_at: now }, now);
    if (changed.length !== ids.length) throw new Error('archive purge: an entry changed under the purge transaction');
    // the keyed hashes of the subject's words go with the subject; category terms mirror the verdict, which stays
    await tx.run(`DELETE FROM archive_terms WHERE archive_id IN (${ids.map(() => '?').join(', ')}) AND term LIKE ?`, [...ids, `${SUBJECT_TERM_PREFIX}%`]);
    let deleted = 0;
    let kept = 0;
    for (const objectKey of lastPerObject(rows).keys()) {
      const state = await objectState(tx, objectKey, now);
      if (state.live === 0) {
        // inside the transaction: if it does not commit, these entries are still due and the next purge deletes again
        await objects.delete(objectKey);
        // a pack not stored yet: its pieces go with it (a flush then finds none to store)
        await deletePendingPieces(tx, objectKey);
        deleted++;
      } else if (state.due === 0) {
        kept++;
      }
    }
    await appendAuditEvent(tx, { type: 'archive:purged', data: { queueIds: ids, count: ids.length, objects: deleted, operator: options.operator, via: options.via } }, now);
    tally.count(rows);
    tally.deleted += deleted;
    tally.kept += kept;
    return rows.length;
  });
}

/** A dry run: the due entries walked in purge order (keyset pages), each object judged once, at its last due entry. */
async function planPurge(db: SqlQueryable, options: PurgeOptions, size: number, tally: Tally): Promise<void> {
  const { now } = options;
  let cursor: { retainUntil: number; id: string } = { retainUntil: -1, id: '' };
  for (;;) {
    const rows = await db.all<DueRow>(
      // the first term starts the index range at the cursor; the second breaks ties on the time
      `SELECT id, object_key, received_at, retain_until FROM archive_messages WHERE ${DUE} AND retain_until >= ? AND (retain_until > ? OR id > ?) ORDER BY retain_until, id LIMIT ?`,
      [now, cursor.retainUntil, cursor.retainUntil, cursor.id, size],
    );
    for (const [objectKey, last] of lastPerObject(rows)) {
      const plan = await objectPlan(db, objectKey, now, last);
      if (plan.later > 0) continue;
      if (plan.kept > 0) tally.kept++;
      else tally.deleted++;
    }
    tally.count(rows);
    options.onProgress?.(tally.entries);
    const last = rows[rows.length - 1];
    if (!last || rows.length < size) return;
    cursor = { retainUntil: last.retain_until, id: last.id };
  }
}

/**
 * Purges every entry whose retain_until is before `options.now`, that is not
 * under legal hold and not yet purged; with `dryRun`, only reports what
 * would go. Rows stay (see the header): `archive verify` keeps verifying.
 */
export async function purgeArchive(db: SqlDatabase, objects: ObjectStore, options: PurgeOptions): Promise<PurgeSummary> {
  const size = Math.min(options.batchSize ?? PURGE_BATCH, MESSAGE_UPDATE_BATCH);
  if (!Number.isSafeInteger(options.now) || options.now < 0) throw new TypeError('purge time must be a whole number of ms since the epoch');
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('purge batch size must be a positive whole number');
  const tally = new Tally();
  if (options.dryRun) {
    // one consistent picture while the gateway (every node) writes; nothing is written
    const held = await db.readSnapshot(async (q) => {
      await planPurge(q, options, size, tally);
      return heldExpired(q, options.now);
    });
    return summaryOf(options, tally, held);
  }
  if (db.dialect === 'postgres') {
    for (;;) {
      const n = await purgeBatch(db, objects, options, size, tally);
      options.onProgress?.(tally.entries);
      if (n < size) break;
    }
    // The old row versions still hold the destroyed keys until VACUUM removes them (outside a transaction,
    // after the batches committed). What PostgreSQL's WAL and backups keep is the operator's retention: docs/scale-out.md.
    if (tally.entries > 0) await db.exec(`VACUUM ${PURGED_TABLES.join(', ')}`);
  } else {
    // Crypto-shredding is only as good as the key's erasure: without secure_delete SQLite leaves a
    // replaced row's bytes (the wrapped key, the sealed subject) in the page's free space, where the
    // master key could still unwrap them for a pack that outlives the entry. With it, freed space is
    // overwritten with zeros (this connection only; restored after).
    // read on the connection that writes (a SqlDatabase reads through a connection of its own: database.ts)
    const was = (await db.transaction((tx) => tx.get<{ secure_delete: number }>('PRAGMA secure_delete')))?.secure_delete ?? 0;
    await db.exec('PRAGMA secure_delete = ON');
    try {
      for (;;) {
        const n = await purgeBatch(db, objects, options, size, tally);
        options.onProgress?.(tally.entries);
        if (n < size) break;
      }
    } finally {
      await db.exec(`PRAGMA secure_delete = ${was === 1 ? 'ON' : 'OFF'}`);
    }
  }
  return summaryOf(options, tally, await heldExpired(db, options.now));
}

/** The tables a purge changes the rows of (the shredded keys' old versions live there until VACUUM on PostgreSQL). */
export const PURGED_TABLES = ['archive_messages', 'archive_terms'] as const;

/** Entries past retention kept under legal hold: through the partial index of held entries (few), not the years of purged ones. */
async function heldExpired(q: SqlQueryable, now: number): Promise<number> {
  const held = await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM archive_messages WHERE retain_until < ? AND hold = 1 AND purged_at IS NULL', [now]);
  return held?.n ?? 0;
}

function summaryOf(options: PurgeOptions, tally: Tally, held: number): PurgeSummary {
  return {
    dryRun: options.dryRun === true,
    before: options.now,
    entries: tally.entries,
    oldestReceived: tally.oldest,
    newestReceived: tally.newest,
    objectsDeleted: tally.deleted,
    objectsKept: tally.kept,
    heldExpired: held,
  };
}
