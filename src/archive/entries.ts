/**
 * Writing archive rows, always in the caller's write transaction and always
 * with their `archive:record` event in the audit chain (see records.ts):
 * a new entry with its recipients and search terms, a recipient's delivery
 * evidence, and the recipients' states copied from the queue.
 */
import { appendAuditEvent } from '../audit/log.js';
import type { Queryable, SqlValue } from '../db/database.js';
import { FINAL_STATES } from '../queue/states.js';
import { MESSAGE_COLUMNS, RECIPIENT_COLUMNS, recordHash, type ArchiveMessageColumns, type ArchiveRecipientColumns } from './records.js';

/** SQL parameter form of a column value: Uint8Array BLOBs as Buffers. */
function param(value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string' || typeof value === 'number') return value;
  throw new TypeError(`archive column value of type ${typeof value}`);
}

async function recordEvent(tx: Queryable, queueId: string, part: 'message' | 'recipient', seq: number | undefined, sha256: string, now: number): Promise<number> {
  const appended = await appendAuditEvent(tx, { type: 'archive:record', data: { queueId, part, ...(seq !== undefined ? { seq } : {}), sha256 } }, now);
  return appended.seq;
}

async function insertRecipient(tx: Queryable, r: ArchiveRecipientColumns, now: number): Promise<void> {
  const recordSeq = await recordEvent(tx, r.archive_id, 'recipient', r.seq, recordHash('recipient', r as unknown as Record<string, unknown>), now);
  await tx.run(
    `INSERT INTO archive_recipients (${RECIPIENT_COLUMNS.join(', ')}, record_seq) VALUES (${RECIPIENT_COLUMNS.map(() => '?').join(', ')}, ?)`,
    [...RECIPIENT_COLUMNS.map((c) => param(r[c])), recordSeq],
  );
}

/** A new entry: its row, its recipients' rows and its search terms. */
export async function insertArchiveEntry(tx: Queryable, entry: ArchiveMessageColumns, recipients: readonly ArchiveRecipientColumns[], terms: readonly string[], now: number): Promise<void> {
  const recordSeq = await recordEvent(tx, entry.id, 'message', undefined, recordHash('message', entry as unknown as Record<string, unknown>), now);
  await tx.run(`INSERT INTO archive_messages (${MESSAGE_COLUMNS.join(', ')}, record_seq) VALUES (${MESSAGE_COLUMNS.map(() => '?').join(', ')}, ?)`, [
    ...MESSAGE_COLUMNS.map((c) => param(entry[c])),
    recordSeq,
  ]);
  for (const r of recipients) await insertRecipient(tx, r, now);
  for (const term of new Set(terms)) await tx.run('INSERT INTO archive_terms (archive_id, term) VALUES (?, ?)', [entry.id, term]);
}

export type RecipientChanges = Partial<Omit<ArchiveRecipientColumns, 'archive_id' | 'seq' | 'address' | 'domain'>>;

/**
 * Applies `changes` to one archived recipient and records the new row in the
 * chain; nothing when the entry has no such recipient (not archived, or the
 * archive is off) or nothing changed. Returns whether it wrote.
 */
export async function updateArchiveRecipient(tx: Queryable, archiveId: string, seq: number, changes: RecipientChanges, now: number): Promise<boolean> {
  const current = await tx.get<Record<string, unknown>>(`SELECT ${RECIPIENT_COLUMNS.join(', ')} FROM archive_recipients WHERE archive_id = ? AND seq = ?`, [archiveId, seq]);
  if (!current) return false;
  const next: Record<string, unknown> = { ...current };
  let changed = false;
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) continue;
    if (current[k] !== v) {
      next[k] = v;
      changed = true;
    }
  }
  if (!changed) return false;
  const recordSeq = await recordEvent(tx, archiveId, 'recipient', seq, recordHash('recipient', next), now);
  const set = RECIPIENT_COLUMNS.filter((c) => c !== 'archive_id' && c !== 'seq');
  await tx.run(`UPDATE archive_recipients SET ${set.map((c) => `${c} = ?`).join(', ')}, record_seq = ? WHERE archive_id = ? AND seq = ?`, [
    ...set.map((c) => param(next[c])),
    recordSeq,
    archiveId,
    seq,
  ]);
  return true;
}

/** A queue recipient row, as the archive copies it. */
interface QueueRecipientRow {
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

const QUEUE_RECIPIENT_SELECT =
  'SELECT seq, address, domain, bcc, method, requirement, decision, key_fingerprint, key_source, state, attempts, last_attempt_at, finished_at FROM recipients WHERE message_id = ? ORDER BY seq';

/** The queue's recipients of message `id` in the archive's shape (no evidence yet). */
export async function queueRecipientsForArchive(tx: Queryable, id: string): Promise<ArchiveRecipientColumns[]> {
  const rows = await tx.all<QueueRecipientRow>(QUEUE_RECIPIENT_SELECT, [id]);
  return rows.map((r) => ({
    archive_id: id,
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
  }));
}

/**
 * Copies the queue's view of message `id`'s recipients (method, state,
 * attempts, times) into its archive entry, recording each row that changed.
 * `state` overrides the queue state of recipients not yet final (e.g.
 * 'deleted' when an operator deletes the message). Called before the queue
 * rows go away.
 */
export async function syncArchiveRecipients(tx: Queryable, id: string, now: number, state?: string): Promise<void> {
  for (const r of await queueRecipientsForArchive(tx, id)) {
    const { archive_id: _a, seq, address: _ad, domain: _d, evidence: _e, ...changes } = r;
    const override = state !== undefined && !(FINAL_STATES as readonly string[]).includes(changes.state);
    await updateArchiveRecipient(tx, id, seq, override ? { ...changes, state, finished_at: now } : changes, now);
  }
}
