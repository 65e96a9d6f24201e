/**
 * The portal's own mail — notifications and sign-in codes — turned into MIME
 * and queued like any other message the gateway sends itself (null envelope
 * sender, already inspected, the delivery's default transport requirement:
 * neither carries anything of the message). Two steps, as for DSNs
 * (src/delivery/notices.ts): `prepare` writes the encrypted spool file,
 * `commit(tx)` inserts its queue rows in the caller's transaction, so the
 * mail exists exactly when the state change that calls for it commits.
 */
import { Readable } from 'node:stream';
import MimeNode from 'nodemailer/lib/mime-node';
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import { rfc5322Date } from '../delivery/dsn.js';
import { generateQueueId, type RandomBytes } from '../queue/ids.js';
import { insertQueuedMessage, internalMessage } from '../queue/store.js';
import type { PendingSpoolFile, Spool } from '../spool/spool.js';
import { buildCodeMail } from './code-mail.js';
import type { CodeMailInput, PortalMailer, ReadReceiptMailInput } from './mailer.js';
import { buildReadReceipt } from './read-receipt.js';
import type { LogoFile } from './logo.js';
import type { PortalBranding } from './notification.js';

export interface PortalMailDeps {
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly hostname: string;
  readonly now: () => number;
  readonly random: RandomBytes;
  readonly spoolKeyId: () => string;
  /** Transport requirement of the portal's own mail (delivery.defaultRequirement). */
  readonly requirement: () => string;
  readonly branding: () => PortalBranding;
  /** From address of the portal's mail (portal.notificationFrom, default portal@<hostname>). */
  readonly fromAddress: () => string;
  /** The logo file (portal.branding.logo as a path), sent as a cid: part of notifications. */
  readonly logo?: (() => LogoFile | undefined) | undefined;
  /** Called after a mail's rows committed outside a caller's transaction (wakes delivery). */
  readonly onQueued?: (() => void) | undefined;
}

export interface OutgoingPortalMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** An inline image the HTML shows as `cid:<cid>` (the logo). */
  readonly inline?: { readonly cid: string; readonly file: LogoFile } | undefined;
  /** A Message-ID this mail answers (threads a read receipt with the sent message). */
  readonly inReplyTo?: string | undefined;
}

/** A mail written to the spool, waiting for its rows. */
export interface PreparedPortalMail {
  readonly id: string;
  readonly to: string;
  readonly size: number;
  readonly file: PendingSpoolFile;
}

/** Pure over its input: the MIME bytes (multipart/alternative, text then HTML). */
export async function composePortalMail(mail: OutgoingPortalMail, headers: { from: string; fromName: string; messageId: string; now: number }): Promise<Buffer> {
  const root = new MimeNode('multipart/alternative');
  root.setHeader({
    From: { name: headers.fromName, address: headers.from },
    To: { name: '', address: mail.to },
    Subject: mail.subject,
    Date: rfc5322Date(headers.now),
    'Message-ID': headers.messageId,
    'Auto-Submitted': 'auto-generated',
  });
  if (mail.inReplyTo && /^<[^<>\s]{1,250}>$/.test(mail.inReplyTo)) root.setHeader({ 'In-Reply-To': mail.inReplyTo, References: mail.inReplyTo });
  root.createChild('text/plain; charset=utf-8').setContent(mail.text);
  if (mail.inline) {
    // HTML and the image it shows as cid:, together (RFC 2387)
    const related = root.createChild('multipart/related; type="text/html"');
    related.createChild('text/html; charset=utf-8').setContent(mail.html);
    related
      .createChild(mail.inline.file.contentType, { filename: mail.inline.file.filename })
      .setHeader({ 'Content-ID': `<${mail.inline.cid}>`, 'Content-Disposition': `inline; filename="${mail.inline.file.filename}"` })
      .setContent(mail.inline.file.bytes);
  } else {
    root.createChild('text/html; charset=utf-8').setContent(mail.html);
  }
  return root.build();
}

export class PortalMailQueue implements PortalMailer {
  constructor(private readonly deps: PortalMailDeps) {}

  /** Builds and spools one mail. Call `commit` in the transaction that calls for it, `discard` if it fails. */
  async prepare(mail: OutgoingPortalMail): Promise<PreparedPortalMail> {
    const now = this.deps.now();
    const id = generateQueueId(now, this.deps.random);
    const bytes = await composePortalMail(mail, {
      from: this.deps.fromAddress(),
      fromName: this.deps.branding().organisationName,
      messageId: `<${id}.portal@${this.deps.hostname}>`,
      now,
    });
    const file = await this.deps.spool.write(id, Readable.from([bytes]));
    await file.commit();
    return { id, to: mail.to, size: bytes.length, file };
  }

  async commit(tx: SqlQueryable, mail: PreparedPortalMail): Promise<void> {
    await insertQueuedMessage(
      tx,
      internalMessage({ id: mail.id, createdAt: this.deps.now(), size: mail.size, spoolKeyId: this.deps.spoolKeyId(), helo: this.deps.hostname, requirement: this.deps.requirement(), recipients: [mail.to] }),
    );
  }

  /** The logo file to send inside notifications, if the branding names one. */
  logoFile(): LogoFile | undefined {
    return this.deps.logo?.();
  }

  async discard(mails: readonly PreparedPortalMail[]): Promise<void> {
    await Promise.all(mails.map((m) => m.file.discard()));
  }

  /** The sign-in code mail, queued in a transaction of its own. */
  async sendCode(input: CodeMailInput): Promise<string> {
    const built = buildCodeMail({ branding: this.deps.branding(), code: input.code, expiresAt: input.expiresAt, now: this.deps.now() });
    return this.queueAlone({ to: input.recipient, ...built });
  }

  /** A read receipt to the original sender, queued in a transaction of its own. */
  async sendReadReceipt(input: ReadReceiptMailInput): Promise<string> {
    const built = buildReadReceipt({ branding: this.deps.branding(), recipient: input.recipient, openedAt: input.openedAt, sentAt: input.sentAt });
    return this.queueAlone({ to: input.to, ...built, inReplyTo: input.inReplyTo });
  }

  private async queueAlone(mail: OutgoingPortalMail): Promise<string> {
    const prepared = await this.prepare(mail);
    try {
      await this.deps.db.transaction((tx) => this.commit(tx, prepared));
    } catch (err) {
      await this.discard([prepared]);
      throw err;
    }
    this.deps.onQueued?.();
    return prepared.id;
  }
}
