/**
 * The delivery step for recipients whose method is `portal` (issue 11, item
 * 1): the delivery engine claims them like any other recipients and hands
 * them here instead of to an SMTP session.
 *
 *   1. one encrypted copy of the spooled original goes to the portal store
 *      (object first, durable);
 *   2. a notification mail per recipient is built and spooled;
 *   3. one transaction: the deposit's rows, each recipient's final state
 *      (`delivered`, to the portal), the notifications' queue rows, the
 *      audit events, and — when every recipient is final — the message's
 *      removal from the queue.
 * A failure before the commit deletes what was written and rethrows (the
 * engine returns the recipients to the queue); a crash before it leaves an
 * object no row names, removed at the next start. So a recipient is
 * "delivered to the portal" exactly when its copy and its notification exist.
 *
 * Nothing of the message is logged or audited: ids, addresses, counts.
 *
 * Its SQL is portable (docs/scale-out.md): the portal rows go through
 * PortalStore (a copy joined by recipients from several nodes at once is
 * locked while they are numbered), the notifications through
 * PortalMailQueue, the audit events through the chain lock. `db` is still
 * SQLite's type because the queue's removeIfFinished (src/queue/store.ts)
 * takes it: the delivery engine that calls this step runs on SQLite until
 * the queue moves.
 */
import type { Config } from '../config/schema.js';
import type { SqlDatabase } from '../db/sql-database.js';
import { appendAuditEvent } from '../audit/log.js';
import { readOriginalHeaders } from '../delivery/notices.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { outerSubject, NEUTRAL_SUBJECT } from '../policy/decide.js';
import type { Spool } from '../spool/spool.js';
import { LOGO_CID } from './logo.js';
import { buildWithdrawMail } from './withdraw-mail.js';
import { parseHeaderBlock } from './reply.js';
import { buildPortalNotification } from './notification.js';
import type { PortalMailQueue, PreparedPortalMail } from './portal-mail.js';
import type { PendingDeposit, PortalStore } from './portal-store.js';
import { removeIfFinished } from '../queue/store.js';
import { END_LEASE, HELD_BY_NODE, LeaseLostError } from '../queue/claim.js';
import { updateArchiveRecipient } from '../archive/entries.js';
import { canonicalJson } from '../audit/chain.js';

export interface PortalDepositRecipient {
  readonly seq: number;
  readonly address: string;
  /** A blind copy: invisible to the other recipients. */
  readonly bcc: boolean;
}

export interface PortalDepositDeps {
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly store: PortalStore;
  readonly mail: PortalMailQueue;
  readonly log: Logger;
  readonly now: () => number;
  /** The portal config in force, and its public URL (publicUrl or the embedded default). */
  readonly portal: () => { readonly config: Config['portal']; readonly publicUrl: string };
  readonly metrics?: Metrics | undefined;
  /** The sender's policy profile's `portalExpiry` (ms), if it sets one: it can only shorten portal.expiry. */
  readonly profileExpiry?: ((who: { sender: string; connector: string }) => number | undefined) | undefined;
}

/** Pure: how long a new deposit stays readable: portal.expiry, shortened by the sender's profile. */
export function depositLifetime(configExpiry: number, profileExpiry: number | undefined): number {
  return profileExpiry === undefined ? configExpiry : Math.min(configExpiry, profileExpiry);
}

/** What the notification shows of the original: From, and the subject when allowed. */
export interface OriginalSummary {
  readonly fromName: string | undefined;
  readonly fromAddress: string | undefined;
  readonly subject: string;
  readonly messageId: string | undefined;
}

/** Parses only the header block (bounded by readOriginalHeaders): no body is ever read here. */
export async function summarizeHeaders(headerBlock: Buffer): Promise<OriginalSummary> {
  const parsed = await parseHeaderBlock(headerBlock);
  const from = parsed.from?.value[0];
  return { fromName: from?.name || undefined, fromAddress: from?.address || undefined, subject: parsed.subject ?? '', messageId: parsed.messageId };
}

/** Pure: the subject the notification may carry: the original only when allowed and not sensitive. */
export function notificationSubject(subject: string, subjectSensitive: boolean, showSubject: boolean): string {
  if (!showSubject || subject.trim() === '') return NEUTRAL_SUBJECT;
  return outerSubject(subject, subjectSensitive, 'portal').outer;
}

/** Pure: the verdict's subjectSensitive flag; a missing or unreadable verdict counts as sensitive. */
export function subjectSensitiveOf(verdictJson: string | null): boolean {
  if (!verdictJson) return true;
  try {
    const v = JSON.parse(verdictJson) as { subjectSensitive?: unknown };
    return v.subjectSensitive !== false;
  } catch {
    return true;
  }
}

export class PortalDepositor {
  constructor(private readonly deps: PortalDepositDeps) {}

  /**
   * Deposits the recipients' copy and queues their notifications; returns whether the message is now finished.
   * `leaseNode`: the delivery node that claimed the recipients; a recipient it no longer holds (another node took
   * it over) undoes the whole deposit with LeaseLostError (src/queue/claim.ts).
   */
  async deposit(messageId: string, recipients: readonly PortalDepositRecipient[], leaseNode?: string): Promise<boolean> {
    const message = await this.deps.db.get<{ sender: string; connector: string; verdict: string | null }>('SELECT sender, connector, verdict FROM messages WHERE id = ?', [messageId]);
    if (!message || recipients.length === 0) return false;
    const { config, publicUrl } = this.deps.portal();
    const now = this.deps.now();
    const original = await summarizeHeaders(await readOriginalHeaders(this.deps.spool, messageId));
    const subject = notificationSubject(original.subject, subjectSensitiveOf(message.verdict), config.showSubject);

    // one copy per message: later recipients (the portal fallback) join the copy already stored
    // (a zero-knowledge copy takes nobody later: openDepositOf never offers one)
    const joined = config.linkKey ? undefined : await this.deps.store.openDepositOf(messageId, now);
    const expiresAt = joined?.expiresAt ?? now + depositLifetime(config.expiry, this.deps.profileExpiry?.({ sender: message.sender, connector: message.connector }));
    const portalRecipients = recipients.map((r) => ({ address: r.address, bcc: r.bcc }));
    const pending: Pick<PendingDeposit, 'result' | 'commit'> & { discard?: () => Promise<void> } = joined
      ? await this.deps.store.prepareRecipients(joined.depositId, portalRecipients)
      : await this.deps.store.prepareDeposit({
          queueId: messageId,
          source: this.deps.spool.read(messageId),
          recipients: portalRecipients,
          expiresAt,
          now,
          sender: message.sender,
          linkKey: config.linkKey,
          // the sender's withdraw link: only for a new copy, and only when there is a sender to tell
          withdrawLink: config.senderRevokeLinks && message.sender !== '' && message.connector !== 'internal',
        });
    const mails: PreparedPortalMail[] = [];
    let finished = false;
    const logo = this.deps.mail.logoFile();
    try {
      for (const r of pending.result.recipients) {
        const n = buildPortalNotification({
          branding: config.branding,
          publicUrl,
          token: r.token,
          linkFragment: r.fragment,
          senderDisplayName: original.fromName,
          senderAddress: original.fromAddress ?? message.sender,
          recipientAddress: r.address,
          subject: { outer: subject },
          expiresAt,
          now,
          logoCid: logo ? LOGO_CID : undefined,
        });
        mails.push(await this.deps.mail.prepare({ to: r.address, subject: n.subject, text: n.text, html: n.html, inline: logo ? { cid: LOGO_CID, file: logo } : undefined }));
      }
      const withdrawToken = pending.result.withdrawToken;
      const senderMail = withdrawToken
        ? await this.deps.mail.prepare({
            to: message.sender,
            ...buildWithdrawMail({ branding: config.branding, publicUrl, token: withdrawToken, sentAt: now, expiresAt }),
            inReplyTo: original.messageId,
          })
        : undefined;
      if (senderMail) mails.push(senderMail);
      await this.deps.db.transaction(async (tx) => {
        await pending.commit(tx);
        const { depositId } = pending.result;
        const lost: number[] = [];
        for (const r of recipients) {
          const done = await tx.run(
            `UPDATE recipients SET state = 'delivered', method = 'portal', attempts = attempts + 1, last_attempt_at = ?, finished_at = ?,
                    last_code = NULL, last_enhanced = NULL, last_mx = NULL, last_error = ?, ${END_LEASE} WHERE message_id = ? AND seq = ?${leaseNode === undefined ? '' : ` AND ${HELD_BY_NODE}`}`,
            [now, now, `delivered to the secure portal (deposit ${depositId})`, messageId, r.seq, ...(leaseNode === undefined ? [] : [leaseNode])],
          );
          if (done.changes === 0 && leaseNode !== undefined) lost.push(r.seq);
          await appendAuditEvent(tx, { type: 'portal:deposited', data: { queueId: messageId, depositId, recipient: r.address } }, now);
        }
        if (lost.length > 0) throw new LeaseLostError(lost);
        for (const m of mails) {
          await this.deps.mail.commit(tx, m);
          if (m === senderMail) continue;
          await tx.run('UPDATE portal_recipients SET notified_at = ? WHERE deposit_id = ? AND lower(address) = lower(?)', [now, depositId, m.to]);
          await appendAuditEvent(tx, { type: 'portal:notification_queued', data: { queueId: messageId, depositId, recipient: m.to, noticeQueueId: m.id } }, now);
        }
        // the archive entry's evidence: which portal copy each recipient got, and the notification queued for them
        for (const r of recipients) {
          const notice = mails.find((m) => m !== senderMail && m.to.toLowerCase() === r.address.toLowerCase());
          await updateArchiveRecipient(tx, messageId, r.seq, { state: 'delivered', method: 'portal', last_attempt_at: now, finished_at: now, evidence: canonicalJson({ portal: { depositId, ...(notice ? { notificationQueueId: notice.id } : {}) }, tls: null }) }, now);
        }
        finished = await removeIfFinished(tx, messageId);
      });
    } catch (err) {
      await this.deps.mail.discard(mails);
      await pending.discard?.();
      throw err;
    }
    this.deps.metrics?.inc('sealgate_portal_deposits_total');
    this.deps.metrics?.inc('sealgate_portal_notifications_total', {}, mails.length);
    this.deps.log.info({ event: 'PORTAL_DEPOSITED', queueId: messageId, depositId: pending.result.depositId, recipients: recipients.length, size: pending.result.size }, 'message stored in the secure portal; recipients notified');
    if (finished) {
      await this.deps.spool.removeFinished(messageId);
      this.deps.log.info({ event: 'MESSAGE_FINISHED', queueId: messageId }, 'every recipient is final; message removed from the queue');
    }
    return finished;
  }
}
