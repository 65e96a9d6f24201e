/**
 * Alert state in the database (portable SQL): when each cause last alerted,
 * and the monitor's cursor over the audit log.
 */
import type { SqlQueryable } from '../db/sql-database.js';

export interface AlertCursor {
  readonly auditSeq: number;
  readonly verifiedSeq: number;
  readonly verifiedHash: string;
  readonly fullVerifyAt: number;
}

export async function readCursor(db: SqlQueryable): Promise<AlertCursor | undefined> {
  const r = await db.get<{ audit_seq: number; verified_seq: number; verified_hash: string; full_verify_at: number }>('SELECT audit_seq, verified_seq, verified_hash, full_verify_at FROM alert_cursor WHERE id = 1');
  return r ? { auditSeq: r.audit_seq, verifiedSeq: r.verified_seq, verifiedHash: r.verified_hash, fullVerifyAt: r.full_verify_at } : undefined;
}

export async function writeCursor(tx: SqlQueryable, c: AlertCursor): Promise<void> {
  await tx.run(
    `INSERT INTO alert_cursor (id, audit_seq, verified_seq, verified_hash, full_verify_at) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET audit_seq = excluded.audit_seq, verified_seq = excluded.verified_seq, verified_hash = excluded.verified_hash, full_verify_at = excluded.full_verify_at`,
    [c.auditSeq, c.verifiedSeq, c.verifiedHash, c.fullVerifyAt],
  );
}

export async function lastSent(db: SqlQueryable, key: string): Promise<{ sentAt: number; suppressed: number } | undefined> {
  const r = await db.get<{ sent_at: number; suppressed: number }>('SELECT sent_at, suppressed FROM alert_state WHERE cause_key = ?', [key]);
  return r ? { sentAt: r.sent_at, suppressed: r.suppressed } : undefined;
}

export async function recordSent(tx: SqlQueryable, key: string, now: number): Promise<void> {
  await tx.run('INSERT INTO alert_state (cause_key, sent_at, suppressed) VALUES (?, ?, 0) ON CONFLICT (cause_key) DO UPDATE SET sent_at = excluded.sent_at, suppressed = 0', [key, now]);
}

export async function recordSuppressed(tx: SqlQueryable, key: string): Promise<void> {
  await tx.run('UPDATE alert_state SET suppressed = suppressed + 1 WHERE cause_key = ?', [key]);
}
