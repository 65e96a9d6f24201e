/**
 * The operator's read-only view of portal messages (`sealgate portal list`
 * and `status`): ids, times, states, sizes, recipients and what each did.
 * Never content: the rows hold none. Safe while the daemon runs (plain reads
 * on the WAL database).
 */
import type { SqlQueryable } from '../db/sql-database.js';
import { portalNotFound, portalState, type PortalState } from './lifecycle.js';

export interface PortalMessageSummary {
  readonly queueId: string;
  readonly depositId: string;
  /** ms since epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly shreddedAt: number | null;
  readonly state: PortalState;
  readonly recipients: number;
  readonly opened: number;
  /** Bytes of the original MIME. */
  readonly size: number;
}

export interface PortalRecipientStatus {
  readonly address: string;
  readonly bcc: boolean;
  /** ms since epoch, or null: not (yet) notified / opened / replied / expired / revoked. */
  readonly notifiedAt: number | null;
  readonly openedAt: number | null;
  readonly repliedAt: number | null;
  /** The expiry time once it has passed. */
  readonly expiredAt: number | null;
  readonly revokedAt: number | null;
}

export interface PortalDepositStatus extends PortalMessageSummary {
  readonly sender: string;
  readonly revokedBy: string | null;
  readonly recipientStatus: readonly PortalRecipientStatus[];
}

interface SummaryRow {
  queue_id: string;
  deposit_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  shredded_at: number | null;
  size: number;
  recipients: number;
  opened: number;
  sender: string;
  revoked_by: string | null;
}

const SUMMARY_SELECT = `
  SELECT m.queue_id, m.deposit_id, m.created_at, m.expires_at, m.revoked_at, m.shredded_at, m.size, m.sender, m.revoked_by,
         (SELECT COUNT(*) FROM portal_recipients r WHERE r.deposit_id = m.deposit_id) AS recipients,
         (SELECT COUNT(*) FROM portal_recipients r WHERE r.deposit_id = m.deposit_id AND r.opened_at IS NOT NULL) AS opened
    FROM portal_messages m`;

function summaryOf(row: SummaryRow, now: number): PortalMessageSummary {
  return {
    queueId: row.queue_id,
    depositId: row.deposit_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    shreddedAt: row.shredded_at,
    state: portalState({ expiresAt: row.expires_at, revokedAt: row.revoked_at, shreddedAt: row.shredded_at }, now),
    recipients: row.recipients,
    opened: row.opened,
    size: row.size,
  };
}

/** Deposits, newest first, at most `limit`. */
export async function listPortalMessages(db: SqlQueryable, options: { readonly limit: number; readonly now: number }): Promise<PortalMessageSummary[]> {
  const rows = await db.all<SummaryRow>(`${SUMMARY_SELECT} ORDER BY m.created_at DESC, m.deposit_id LIMIT ?`, [options.limit]);
  return rows.map((r) => summaryOf(r, options.now));
}

/**
 * Every deposit of a message (by queue id, or one deposit by its id), oldest
 * first, with each recipient's times. Rejects with SG_PORTAL_NOT_FOUND.
 */
export async function portalStatus(db: SqlQueryable, id: string, now: number): Promise<PortalDepositStatus[]> {
  const rows = await db.all<SummaryRow>(
    `${SUMMARY_SELECT} WHERE m.queue_id = ? OR m.deposit_id = ? ORDER BY m.created_at, m.deposit_id`,
    [id, id],
  );
  if (rows.length === 0) throw portalNotFound(id);
  const out: PortalDepositStatus[] = [];
  for (const row of rows) {
    const recipients = await db.all<{ address: string; bcc: number; notified_at: number | null; opened_at: number | null; replied_at: number | null }>(
      'SELECT address, bcc, notified_at, opened_at, replied_at FROM portal_recipients WHERE deposit_id = ? ORDER BY seq',
      [row.deposit_id],
    );
    const expiredAt = now >= row.expires_at ? row.expires_at : null;
    out.push({
      ...summaryOf(row, now),
      sender: row.sender,
      revokedBy: row.revoked_by,
      recipientStatus: recipients.map((r) => ({
        address: r.address,
        bcc: r.bcc === 1,
        notifiedAt: r.notified_at,
        openedAt: r.opened_at,
        repliedAt: r.replied_at,
        expiredAt,
        revokedAt: row.revoked_at,
      })),
    });
  }
  return out;
}
