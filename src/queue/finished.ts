/**
 * Finished messages: when every recipient of a message is final and its
 * queue rows go, one row in `finished_messages` keeps what happened — the
 * envelope, the times and each recipient's outcome and last reply, never
 * content or subject — so `sealgate queue show ID` can still explain a
 * bounce. Kept for `queue.keepFinished`, pruned by the daemon.
 */
import type { Dialect, SqlQueryable } from '../db/sql-database.js';
import type { RecipientState } from './states.js';

/** The keys of a recipient in the stored JSON, and the `recipients` column each comes from. */
const RECIPIENT_FIELDS: readonly (readonly [string, string])[] = [
  ['address', 'address'],
  ['state', 'state'],
  ['attempts', 'attempts'],
  ['finishedAt', 'finished_at'],
  ['lastAttemptAt', 'last_attempt_at'],
  ['lastCode', 'last_code'],
  ['lastEnhanced', 'last_enhanced'],
  ['lastMx', 'last_mx'],
  ['lastError', 'last_error'],
  ['method', 'method'],
  ['requirement', 'requirement'],
];

/**
 * Pure: the SQL expression for message `m`'s recipients as one JSON array
 * text, in RCPT order (an empty array when it has none). The engines name
 * their JSON aggregates differently; the text differs in whitespace only
 * (PostgreSQL writes `"key" : value`), which JSON.parse does not see.
 */
export function recipientsJsonSql(dialect: Dialect): string {
  const pairs = RECIPIENT_FIELDS.map(([key, column]) => `'${key}', r.${column}`).join(', ');
  return dialect === 'postgres'
    ? `(SELECT coalesce(json_agg(json_build_object(${pairs}) ORDER BY r.seq), '[]'::json)::text FROM recipients r WHERE r.message_id = m.id)`
    : `(SELECT json_group_array(json_object(${pairs})) FROM (SELECT * FROM recipients WHERE message_id = m.id ORDER BY seq) r)`;
}

const FINISHED_COLUMNS = ['created_at', 'finished_at', 'sender', 'size', 'connector', 'client_ip', 'recipients'] as const;

/**
 * In the caller's transaction (removeIfFinished, on the delivery hot path):
 * copies message `id` and its recipients into one finished row with a single
 * INSERT … SELECT, before its queue rows are deleted. A row already there
 * (a message id is never reused) is replaced (an upsert both engines run:
 * ON CONFLICT … DO UPDATE).
 */
export async function recordFinished(tx: SqlQueryable, id: string, finishedAt: number | null): Promise<void> {
  await tx.run(
    `INSERT INTO finished_messages (id, ${FINISHED_COLUMNS.join(', ')})
     SELECT m.id, m.created_at, coalesce(?, m.created_at), m.sender, m.size, m.connector, m.client_ip, ${recipientsJsonSql(tx.dialect)}
       FROM messages m WHERE m.id = ?
     ON CONFLICT (id) DO UPDATE SET ${FINISHED_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`,
    [finishedAt, id],
  );
}

/**
 * In the caller's transaction: message `id`'s finished row written
 * (recordFinished) and its queue rows deleted — its recipients' rows and a
 * small message's content kept in the database go with it (ON DELETE
 * CASCADE, trigger messages_inline_gone). On SQLite one statement does
 * both (the view queue_message_finish, migration 38): the single writer's
 * statements are what bounds the relay (docs/performance.md). Nothing, and
 * no error, when the message is gone.
 */
export async function finishMessage(tx: SqlQueryable, id: string, finishedAt: number | null): Promise<void> {
  if (tx.dialect === 'sqlite') {
    await tx.run('INSERT INTO queue_message_finish (id, finished_at) VALUES (?, ?)', [id, finishedAt]);
    return;
  }
  await recordFinished(tx, id, finishedAt);
  await tx.run('DELETE FROM messages WHERE id = ?', [id]);
}

export interface FinishedRecipient {
  readonly address: string;
  readonly state: RecipientState;
  readonly attempts: number;
  readonly finishedAt: number | null;
  readonly lastAttemptAt: number | null;
  readonly lastCode: number | null;
  readonly lastEnhanced: string | null;
  readonly lastMx: string | null;
  readonly lastError: string | null;
  readonly method: string | null;
  readonly requirement: string;
}

export interface FinishedMessage {
  readonly id: string;
  /** Always true: tells a finished message's JSON from a queued one's. */
  readonly finished: true;
  /** delivered, bounced or expired when every recipient agrees; else mixed. */
  readonly outcome: 'delivered' | 'bounced' | 'expired' | 'mixed';
  readonly createdAt: number;
  readonly finishedAt: number;
  readonly sender: string;
  readonly size: number;
  readonly connector: string;
  readonly clientIp: string;
  readonly recipients: readonly FinishedRecipient[];
}

/** Pure: one word for a finished message's recipients. */
export function finishedOutcome(states: readonly string[]): FinishedMessage['outcome'] {
  const first = states[0];
  if (first !== undefined && states.every((s) => s === first) && (first === 'delivered' || first === 'bounced' || first === 'expired')) return first;
  return 'mixed';
}

export async function showFinished(db: SqlQueryable, id: string): Promise<FinishedMessage | undefined> {
  const row = await db.get<{ id: string; created_at: number; finished_at: number; sender: string; size: number; connector: string; client_ip: string; recipients: string }>(
    'SELECT * FROM finished_messages WHERE id = ?',
    [id],
  );
  if (!row) return undefined;
  const recipients = JSON.parse(row.recipients) as FinishedRecipient[];
  return {
    id: row.id,
    finished: true,
    outcome: finishedOutcome(recipients.map((r) => r.state)),
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    sender: row.sender,
    size: row.size,
    connector: row.connector,
    clientIp: row.client_ip,
    recipients,
  };
}

/** Deletes finished rows older than `before` (ms), at most `max` per call so one prune never holds the write lock long. Returns how many. */
export async function pruneFinished(db: SqlQueryable, before: number, max = 5000): Promise<number> {
  const r = await db.run('DELETE FROM finished_messages WHERE id IN (SELECT id FROM finished_messages WHERE finished_at < ? ORDER BY finished_at LIMIT ?)', [before, max]);
  return r.changes;
}
