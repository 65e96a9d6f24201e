/**
 * Finished messages: when every recipient of a message is final and its
 * queue rows go, one row in `finished_messages` keeps what happened — the
 * envelope, the times and each recipient's outcome and last reply, never
 * content or subject — so `sealgate queue show ID` can still explain a
 * bounce. Kept for `queue.keepFinished`, pruned by the daemon.
 */
import type { Queryable } from '../db/database.js';
import type { RecipientState } from './states.js';

/**
 * In the caller's transaction (removeIfFinished, on the delivery hot path):
 * copies message `id` and its recipients into one finished row with a single
 * INSERT … SELECT, before its queue rows are deleted. A row already there
 * (a message id is never reused) is replaced.
 */
export async function recordFinished(tx: Queryable, id: string, finishedAt: number | null): Promise<void> {
  await tx.run(
    `INSERT OR REPLACE INTO finished_messages (id, created_at, finished_at, sender, size, connector, client_ip, recipients)
     SELECT m.id, m.created_at, coalesce(?, m.created_at), m.sender, m.size, m.connector, m.client_ip,
            (SELECT json_group_array(json_object('address', r.address, 'state', r.state, 'attempts', r.attempts, 'finishedAt', r.finished_at,
                      'lastAttemptAt', r.last_attempt_at, 'lastCode', r.last_code, 'lastEnhanced', r.last_enhanced, 'lastMx', r.last_mx,
                      'lastError', r.last_error, 'method', r.method, 'requirement', r.requirement))
               FROM (SELECT * FROM recipients WHERE message_id = m.id ORDER BY seq) r)
       FROM messages m WHERE m.id = ?`,
    [finishedAt, id],
  );
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

export async function showFinished(db: Queryable, id: string): Promise<FinishedMessage | undefined> {
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
export async function pruneFinished(db: Queryable, before: number, max = 5000): Promise<number> {
  const r = await db.run('DELETE FROM finished_messages WHERE id IN (SELECT id FROM finished_messages WHERE finished_at < ? ORDER BY finished_at LIMIT ?)', [before, max]);
  return r.changes;
}
