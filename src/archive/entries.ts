/**
 * Writing archive rows, always in the caller's write transaction and always
 * with their `archive:record` event in the audit chain (see records.ts):
 * a new entry with its recipients and search terms, a recipient's delivery
 * evidence, and the recipients' states copied from the queue.
 */
import { appendAuditEvent, appendAuditEvents, deferAuditEvent, type AuditTx } from '../audit/log.js';
import { deferredWriter, type SqlValue } from '../db/database.js';
import { insertRowsChunked, RowsAtCommit, type RowsTable } from '../db/rows-at-commit.js';
import type { SqlQueryable } from '../db/sql-database.js';
import { forNoKeyUpdate } from '../db/locks.js';
import { isFinalState } from '../queue/states.js';
import { ARCHIVE_PENDING } from './pending.js';
import { MESSAGE_COLUMNS, RECIPIENT_COLUMNS, recordHash, type ArchiveMessageColumns, type ArchiveRecipientColumns } from './records.js';

/** SQL parameter form of a column value: Uint8Array BLOBs as Buffers. */
function param(value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string' || typeof value === 'number') return value;
  throw new TypeError(`archive column value of type ${typeof value}`);
}

function recordData(queueId: string, part: 'message' | 'recipient', seq: number | undefined, sha256: string): { queueId: string; part: string; seq?: number; sha256: string } {
  return { queueId, part, ...(seq !== undefined ? { seq } : {}), sha256 };
}

export interface NewArchiveEntry {
  readonly entry: ArchiveMessageColumns;
  readonly recipients: readonly ArchiveRecipientColumns[];
  readonly terms: readonly string[];
}

/** The archive's tables a new entry writes to, in the order their rows go in (recipients and terms name their entry). */
const ARCHIVE_MESSAGES: RowsTable = { name: 'archive_messages', columns: [...MESSAGE_COLUMNS, 'record_seq'], perStatement: 40 };
const ARCHIVE_RECIPIENTS: RowsTable = { name: 'archive_recipients', columns: [...RECIPIENT_COLUMNS, 'record_seq'], perStatement: 100 };
const ARCHIVE_TERMS: RowsTable = { name: 'archive_terms', columns: ['archive_id', 'term'], perStatement: 400 };
/** With the entries' pending pieces (pending.ts), which nothing references. */
const ENTRY_TABLES = [ARCHIVE_PENDING, ARCHIVE_MESSAGES, ARCHIVE_RECIPIENTS, ARCHIVE_TERMS];

/** The group commit's held entry rows (SQLite's group commit only), made at their first use in the group. */
export function entryRowsAtCommit(tx: AuditTx): RowsAtCommit | undefined {
  return tx.deferred ? deferredWriter(tx.deferred, 'archive-entries', () => new RowsAtCommit(ENTRY_TABLES)) : undefined;
}

export interface EntryWriteOptions {
  /**
   * Hand the rows to the group commit, written with its COMMIT together with
   * the other transactions' (one INSERT a table for the group), when there is
   * one (SQLite): only for entries nothing reads again before the commit
   * (the verdict's entry of a message that stays queued). Written now
   * otherwise.
   */
  readonly atCommit?: boolean | undefined;
}

/**
 * New entries: their rows, their recipients' rows and their search terms,
 * each row with its `archive:record` event (in the order entry, its
 * recipients, next entry …). A handful of statements whatever the number
 * of entries: the archive stage writes a whole batch in one transaction.
 */
export async function insertArchiveEntries(tx: AuditTx, items: readonly NewArchiveEntry[], now: number, options: EntryWriteOptions = {}): Promise<void> {
  const events: { type: 'archive:record'; data: ReturnType<typeof recordData> }[] = [];
  for (const { entry, recipients } of items) {
    events.push({ type: 'archive:record', data: recordData(entry.id, 'message', undefined, recordHash('message', entry as unknown as Record<string, unknown>)) });
    for (const r of recipients) events.push({ type: 'archive:record', data: recordData(r.archive_id, 'recipient', r.seq, recordHash('recipient', r as unknown as Record<string, unknown>)) });
  }
  const appended = await appendAuditEvents(tx, events, now);
  const messageRows: SqlValue[][] = [];
  const recipientRows: SqlValue[][] = [];
  const termRows: SqlValue[][] = [];
  let e = 0;
  for (const { entry, recipients, terms } of items) {
    messageRows.push([...MESSAGE_COLUMNS.map((c) => param(entry[c])), appended[e++]?.seq ?? null]);
    for (const r of recipients) recipientRows.push([...RECIPIENT_COLUMNS.map((c) => param(r[c])), appended[e++]?.seq ?? null]);
    for (const term of new Set(terms)) termRows.push([entry.id, term]);
  }
  const held = options.atCommit ? entryRowsAtCommit(tx) : undefined;
  if (held) {
    held.add(ARCHIVE_MESSAGES, messageRows);
    held.add(ARCHIVE_RECIPIENTS, recipientRows);
    held.add(ARCHIVE_TERMS, termRows);
    return;
  }
  await insertRowsChunked(tx, ARCHIVE_MESSAGES, messageRows);
  await insertRowsChunked(tx, ARCHIVE_RECIPIENTS, recipientRows);
  await insertRowsChunked(tx, ARCHIVE_TERMS, termRows);
}

/** A new entry: its row, its recipients' rows and its search terms. */
export async function insertArchiveEntry(tx: SqlQueryable, entry: ArchiveMessageColumns, recipients: readonly ArchiveRecipientColumns[], terms: readonly string[], now: number): Promise<void> {
  await insertArchiveEntries(tx, [{ entry, recipients, terms }], now);
}

export type RecipientChanges = Partial<Omit<ArchiveRecipientColumns, 'archive_id' | 'seq' | 'address' | 'domain'>>;

/**
 * Applies `changes` to one archived recipient and records the new row in the
 * chain; nothing when the entry has no such recipient (not archived, or the
 * archive is off) or nothing changed. Returns whether it wrote.
 */
export async function updateArchiveRecipient(tx: SqlQueryable, archiveId: string, seq: number, changes: RecipientChanges, now: number): Promise<boolean> {
  const current = await tx.get<Record<string, unknown>>(`SELECT ${RECIPIENT_COLUMNS.join(', ')} FROM archive_recipients WHERE archive_id = ? AND seq = ?`, [archiveId, seq]);
  if (!current) return false;
  return (await updateArchiveRecipientRow(tx, archiveId, seq, current, changes, now)) !== undefined;
}

/**
 * updateArchiveRecipient on a read of message `archiveId` already made in
 * this transaction (readQueuedWithArchive) instead of a read of its own; the
 * read's copy of the row becomes the row written, so a later use of the
 * same read (syncArchiveFrom, removeIfFinished) sees it.
 */
export async function updateArchiveRecipientIn(tx: SqlQueryable, archiveId: string, read: QueuedWithArchive, seq: number, changes: RecipientChanges, now: number): Promise<boolean> {
  const entry = read.recipients.find((r) => Number(r.queued.seq) === seq);
  return entry ? updateReadRecipient(tx, archiveId, entry, changes, now) : false;
}

/** One recipient of a read (readQueuedWithArchive): its archive row updated, and the read's copy made the row written. */
async function updateReadRecipient(tx: SqlQueryable, archiveId: string, entry: QueuedWithArchive['recipients'][number], changes: RecipientChanges, now: number): Promise<boolean> {
  if (!entry.archive) return false;
  const next = await updateArchiveRecipientRow(tx, archiveId, Number(entry.queued.seq), entry.archive, changes, now);
  if (next) entry.archive = next;
  return next !== undefined;
}

/** updateArchiveRecipient on a row the caller has just read (`current`: its RECIPIENT_COLUMNS); the row written, or undefined when nothing changed. */
async function updateArchiveRecipientRow(tx: SqlQueryable, archiveId: string, seq: number, current: Record<string, unknown>, changes: RecipientChanges, now: number): Promise<Record<string, unknown> | undefined> {
  const next: Record<string, unknown> = { ...current };
  let changed = false;
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) continue;
    if (current[k] !== v) {
      next[k] = v;
      changed = true;
    }
  }
  if (!changed) return undefined;
  const set = RECIPIENT_COLUMNS.filter((c) => c !== 'archive_id' && c !== 'seq');
  const record = { type: 'archive:record' as const, data: recordData(archiveId, 'recipient', seq, recordHash('recipient', next)) };
  // PostgreSQL: the event goes with the COMMIT (the chain's lock held for no round trip), and sets record_seq then
  if (deferAuditEvent(tx, record, now, { archiveId, seq })) {
    await tx.run(`UPDATE archive_recipients SET ${set.map((c) => `${c} = ?`).join(', ')} WHERE archive_id = ? AND seq = ?`, [...set.map((c) => param(next[c])), archiveId, seq]);
    return next;
  }
  const recordSeq = (await appendAuditEvent(tx, record, now)).seq;
  await tx.run(`UPDATE archive_recipients SET ${set.map((c) => `${c} = ?`).join(', ')}, record_seq = ? WHERE archive_id = ? AND seq = ?`, [
    ...set.map((c) => param(next[c])),
    recordSeq,
    archiveId,
    seq,
  ]);
  return next;
}

export type MessageChanges = Partial<Pick<ArchiveMessageColumns, 'hold' | 'wrapped_key' | 'subject_sealed' | 'purged_at'>>;

const MESSAGE_CHANGE_COLUMNS = ['hold', 'wrapped_key', 'subject_sealed', 'purged_at'] as const;

/** Most entries one updateArchiveMessages call takes (keeps every statement under any engine's parameter limit). */
export const MESSAGE_UPDATE_BATCH = 500;

/**
 * Applies the same `changes` (retention: legal hold, purge) to the entries
 * `ids` and records each new row in the chain: one read, one run of audit
 * events and one UPDATE whatever the number of entries. Entries that do not
 * exist or that `changes` would not change are left alone (no record).
 * Returns the ids it changed, in the order given.
 */
export async function updateArchiveMessages(tx: SqlQueryable, ids: readonly string[], changes: MessageChanges, now: number): Promise<string[]> {
  if (ids.length > MESSAGE_UPDATE_BATCH) throw new RangeError(`updateArchiveMessages takes at most ${MESSAGE_UPDATE_BATCH} entries at a time`);
  // the column names go into the SQL: only the retention columns, whatever a caller passes
  const set = Object.entries(changes).filter(([k, v]) => v !== undefined && (MESSAGE_CHANGE_COLUMNS as readonly string[]).includes(k));
  if (ids.length === 0 || set.length === 0) return [];
  // locked as read (PostgreSQL; in id order): the record hashed below is the row the UPDATE changes, even with several writers
  const rows = await tx.all<Record<string, unknown>>(
    `SELECT ${MESSAGE_COLUMNS.join(', ')} FROM archive_messages WHERE id IN (${ids.map(() => '?').join(', ')}) ORDER BY id${forNoKeyUpdate(tx)}`,
    [...ids],
  );
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  const changed: { id: string; sha256: string }[] = [];
  for (const id of new Set(ids)) {
    const current = byId.get(id);
    // only null and numbers are set here, so === tells a change (a BLOB set to null is a change)
    if (!current || set.every(([k, v]) => current[k] === v)) continue;
    changed.push({ id, sha256: recordHash('message', { ...current, ...Object.fromEntries(set) }) });
  }
  if (changed.length === 0) return [];
  const appended = await appendAuditEvents(tx, changed.map((c) => ({ type: 'archive:record' as const, data: recordData(c.id, 'message', undefined, c.sha256) })), now);
  // the cast: PostgreSQL types a bare parameter in THEN as text, which a BIGINT column does not take (SQLite: INTEGER)
  const seqCase = changed.map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ');
  await tx.run(
    `UPDATE archive_messages SET ${set.map(([k]) => `${k} = ?`).join(', ')}, record_seq = CASE id ${seqCase} END WHERE id IN (${changed.map(() => '?').join(', ')})`,
    [...set.map(([, v]) => param(v)), ...changed.flatMap((c, i) => [c.id, appended[i]?.seq ?? null]), ...changed.map((c) => c.id)],
  );
  return changed.map((c) => c.id);
}

/** A recipient's queue row as an archive entry takes it (QUEUE_RECIPIENT_COLUMNS). */
export interface QueueRecipientRow {
  message_id: string;
  seq: number;
  address: string;
  domain: string;
  bcc: number | null;
  method: string | null;
  requirement: string | null;
  decision: string | null;
  key_fingerprint: string | null;
  key_source: string | null;
  state: string;
  attempts: number;
  last_attempt_at: number | null;
  finished_at: number | null;
}

/** The queue columns an archive recipient row is made of (a SELECT's list, or an UPDATE's RETURNING). */
export const QUEUE_RECIPIENT_COLUMNS = 'message_id, seq, address, domain, bcc, method, requirement, decision, key_fingerprint, key_source, state, attempts, last_attempt_at, finished_at';

function archiveRecipientOf(r: QueueRecipientRow): ArchiveRecipientColumns {
  return {
    archive_id: r.message_id,
    seq: r.seq,
    address: r.address,
    domain: r.domain,
    bcc: r.bcc ?? 0,
    method: r.method,
    requirement: r.requirement,
    decision: r.decision,
    key_fingerprint: r.key_fingerprint,
    key_source: r.key_source,
    state: r.state,
    attempts: r.attempts,
    last_attempt_at: r.last_attempt_at,
    finished_at: r.finished_at,
    evidence: null,
  };
}

/** Archive recipient rows of one message's queue rows (read, or returned by the UPDATEs that just wrote them), in RCPT order. */
export function archiveRecipientsOf(rows: readonly QueueRecipientRow[]): ArchiveRecipientColumns[] {
  return [...rows].sort((a, b) => Number(a.seq) - Number(b.seq)).map(archiveRecipientOf);
}

/** The queue's recipients of several messages in the archive's shape (no evidence yet), in one query: by message id, each list in recipient order. */
export async function queueRecipientsForArchiveOf(tx: SqlQueryable, ids: readonly string[]): Promise<Map<string, ArchiveRecipientColumns[]>> {
  const out = new Map<string, ArchiveRecipientColumns[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const rows = await tx.all<QueueRecipientRow>(`SELECT ${QUEUE_RECIPIENT_COLUMNS} FROM recipients WHERE message_id IN (${ids.map(() => '?').join(', ')}) ORDER BY message_id, seq`, [...ids]);
  for (const r of rows) out.get(r.message_id)?.push(archiveRecipientOf(r));
  return out;
}

/**
 * Copies the queue's view of message `id`'s recipients (method, state,
 * attempts, times) into its archive entry, recording each row that changed.
 * `state` overrides the queue state of recipients not yet final (e.g.
 * 'deleted' when an operator deletes the message). Called before the queue
 * rows go away.
 */
export async function syncArchiveRecipients(tx: SqlQueryable, id: string, now: number, state?: string): Promise<void> {
  await syncArchiveFrom(tx, id, await readQueuedWithArchive(tx, id), now, state);
}

/** A queued message as finishing it needs it: whether it is archived, and each recipient beside its archive row. */
export interface QueuedWithArchive {
  /** null: no queue row (deleted meanwhile). */
  readonly archived: number | null;
  /** Recipients not final yet, and when the last one finished. */
  readonly open: number;
  readonly lastFinished: number | null;
  /** Whether a recipient has an end-to-end copy in the spool (its e2e_copy names one; 'passthrough' is none). */
  readonly copies: boolean;
  /** `archive`: the row as read, or as this transaction then wrote it (updateArchiveRecipientIn). */
  readonly recipients: readonly { readonly queued: QueueRecipientRow; archive: Record<string, unknown> | undefined }[];
}

/**
 * One read of message `id`: its archived flag, its recipients and each one's
 * archive row (none before it is archived) — what deciding whether it is
 * finished, and copying its final states into the archive, both need.
 */
export async function readQueuedWithArchive(tx: SqlQueryable, id: string): Promise<QueuedWithArchive> {
  const rows = await tx.all<Record<string, unknown>>(QUEUED_WITH_ARCHIVE_SQL, [id]);
  const recipients = rows
    .filter((row) => row.q_seq !== null && row.q_seq !== undefined)
    .map((row) => ({
      queued: Object.fromEntries(QUEUE_RECIPIENT_COLUMN_LIST.map((c) => [c, row[`q_${c}`]])) as unknown as QueueRecipientRow,
      archive: row.a_archive_id === null || row.a_archive_id === undefined ? undefined : Object.fromEntries(RECIPIENT_COLUMNS.map((c) => [c, row[`a_${c}`]])),
    }));
  let open = 0;
  let lastFinished: number | null = null;
  for (const { queued } of recipients) {
    if (!isFinalState(queued.state)) open++;
    const at = queued.finished_at === null ? null : Number(queued.finished_at);
    if (at !== null && (lastFinished === null || at > lastFinished)) lastFinished = at;
  }
  const first = rows[0];
  const copies = rows.some((row) => typeof row.q_e2e_copy === 'string' && row.q_e2e_copy !== 'passthrough');
  return { archived: first === undefined ? null : Number(first.m_archived), open, lastFinished, copies, recipients };
}

const QUEUE_RECIPIENT_COLUMN_LIST = QUEUE_RECIPIENT_COLUMNS.split(', ');

/** readQueuedWithArchive's one statement: the message, each recipient (q_…, and its end-to-end copy) and its archive row (a_…, none before archiving). */
const QUEUED_WITH_ARCHIVE_SQL = `SELECT m.archived AS m_archived, ${QUEUE_RECIPIENT_COLUMN_LIST.map((c) => `q.${c} AS q_${c}`).join(', ')}, q.e2e_copy AS q_e2e_copy, ${RECIPIENT_COLUMNS.map((c) => `a.${c} AS a_${c}`).join(', ')}
   FROM messages m LEFT JOIN recipients q ON q.message_id = m.id LEFT JOIN archive_recipients a ON a.archive_id = q.message_id AND a.seq = q.seq
  WHERE m.id = ? ORDER BY q.seq`;

/** Copies the queue's view of the recipients read into the archive entry (syncArchiveRecipients on a read already made). */
export async function syncArchiveFrom(tx: SqlQueryable, id: string, read: QueuedWithArchive, now: number, state?: string): Promise<void> {
  for (const entry of read.recipients) {
    if (!entry.archive) continue;
    const { archive_id: _a, seq: _s, address: _ad, domain: _d, evidence: _e, ...changes } = archiveRecipientOf(entry.queued);
    const override = state !== undefined && !isFinalState(changes.state);
    await updateReadRecipient(tx, id, entry, override ? { ...changes, state, finished_at: now } : changes, now);
  }
}
