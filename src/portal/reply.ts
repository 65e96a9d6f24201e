/**
 * Secure reply from the portal (issue 11, item 5): a signed-in recipient
 * answers the original sender (or, reply-all, the message's visible
 * participants too — never an address the recipient typed). The reply is a
 * new message from the recipient, accepted into our own queue like mail
 * from a client (encrypted spool, queue rows and audit event in one
 * transaction), always delivered over verified TLS: by MX routing, or to
 * `portal.replyRoute` (the organisation's own mail system). A copy is kept
 * in the portal for the recipient's thread, under the original's expiry.
 *
 * Nothing of the reply is logged or audited: ids, addresses, sizes, counts.
 */
import { Readable } from 'node:stream';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import MimeNode from 'nodemailer/lib/mime-node';
import { appendAuditEvent } from '../audit/log.js';
import type { SqlDatabase } from '../db/sql-database.js';
import { rfc5322Date } from '../delivery/dsn.js';
import { readHeaderBlock } from '../delivery/notices.js';
import { SealgateError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { withClosingBlankLine } from '../mime/closing-blank-line.js';
import { generateQueueId, type RandomBytes } from '../queue/ids.js';
import { insertQueuedMessage } from '../queue/store.js';
import type { Spool } from '../spool/spool.js';
import type { LinkAccess, PortalStore } from './portal-store.js';

/** Longest header block read from the original to address the reply. */
const HEADER_LIMIT = 64 * 1024;
/** At most this many attachments per reply. */
export const REPLY_MAX_ATTACHMENTS = 20;
/** Longest reply text (characters). */
export const REPLY_MAX_TEXT = 100_000;

export interface ReplyAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
}

export interface ReplyRequest {
  readonly depositId: string;
  /** The signed-in recipient who replies. */
  readonly recipient: string;
  /** Reply-all: the original's visible participants too. */
  readonly all: boolean;
  readonly body: string;
  readonly attachments: readonly ReplyAttachment[];
  readonly remoteIp: string;
  /** A zero-knowledge copy: the recipient's link key part (to read the original's headers). */
  readonly link?: LinkAccess | undefined;
}

export interface ReplyResult {
  readonly queueId: string;
  readonly recipients: readonly string[];
  readonly size: number;
}

/** What a reply may be addressed from: the original's envelope sender and visible header addresses. */
export interface OriginalParticipants {
  readonly sender: string;
  readonly visible: readonly string[];
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Pure: who a reply goes to. To: the original's envelope sender (the address
 * our connector accepted it from). Reply-all adds the visible participants
 * (the original's To and Cc) except the replier. A blind-copy recipient's
 * reply-all stays a reply to the sender: it would reveal that they were
 * copied. Never an address from anywhere else.
 */
export function replyAddressees(original: OriginalParticipants, replier: string, all: boolean, replierIsBcc: boolean): { to: string[]; cc: string[] } {
  if (!original.sender) return { to: [], cc: [] };
  const to = [original.sender];
  if (!all || replierIsBcc) return { to, cc: [] };
  const cc: string[] = [];
  for (const a of original.visible) {
    if (same(a, replier) || same(a, original.sender) || cc.some((c) => same(c, a))) continue;
    cc.push(a);
  }
  return { to, cc };
}

/** Pure: "Re: " once. */
export function replySubject(subject: string): string {
  const s = subject.replace(/[\r\n]+/g, ' ').trim();
  return /^re:/i.test(s) ? s : `Re: ${s}`.trim();
}

/** Pure: a reply's input within bounds, or the problem. */
export function replyProblem(req: Pick<ReplyRequest, 'body' | 'attachments'>, maxBytes: number): 'empty' | 'too-large' | 'too-many-attachments' | undefined {
  if (req.body.trim() === '' && req.attachments.length === 0) return 'empty';
  if (req.attachments.length > REPLY_MAX_ATTACHMENTS) return 'too-many-attachments';
  if (req.body.length > REPLY_MAX_TEXT) return 'too-large';
  const bytes = Buffer.byteLength(req.body, 'utf8') + req.attachments.reduce((n, a) => n + a.content.length, 0);
  return bytes > maxBytes ? 'too-large' : undefined;
}

/** The addresses of an address header as mailparser gives it (groups flattened). */
export function headerAddresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  const out: string[] = [];
  const walk = (values: readonly { address?: string | undefined; group?: readonly { address?: string | undefined }[] | undefined }[]): void => {
    for (const v of values) {
      if (v.address) out.push(v.address);
      if (v.group) walk(v.group);
    }
  };
  for (const a of list) walk(a.value);
  return out;
}

/**
 * A header block parsed on its own (an empty body after it): no body is ever
 * read or converted. The block is closed with a blank line: one cut at its
 * size limit, with an inline message/rfc822 type, made mailparser wait forever.
 */
export function parseHeaderBlock(block: Buffer): Promise<ParsedMail> {
  return simpleParser(withClosingBlankLine(block), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
}

/** The original's subject, Message-ID and visible participants, from its header block only. */
export async function originalHeaders(source: Readable): Promise<{ subject: string; messageId: string | undefined; references: string[]; visible: string[] }> {
  const block = await readHeaderBlock(source, HEADER_LIMIT);
  const parsed = await parseHeaderBlock(block);
  const refs = parsed.references === undefined ? [] : Array.isArray(parsed.references) ? parsed.references : [parsed.references];
  return { subject: parsed.subject ?? '', messageId: parsed.messageId, references: refs, visible: [...headerAddresses(parsed.to), ...headerAddresses(parsed.cc)] };
}

/** Pure over its input: the reply's MIME. */
export async function buildReplyMime(r: {
  from: string;
  to: readonly string[];
  cc: readonly string[];
  subject: string;
  inReplyTo: string | undefined;
  references: readonly string[];
  body: string;
  attachments: readonly ReplyAttachment[];
  messageId: string;
  now: number;
  organisation: string;
}): Promise<Buffer> {
  const root = new MimeNode(r.attachments.length ? 'multipart/mixed' : 'text/plain; charset=utf-8');
  const headers: Record<string, string | { name: string; address: string } | { name: string; address: string }[]> = {
    From: { name: '', address: r.from },
    To: r.to.map((address) => ({ name: '', address })),
    Subject: r.subject,
    Date: rfc5322Date(r.now),
    'Message-ID': r.messageId,
    'X-Sealgate-Portal-Reply': `sent through the ${r.organisation.replace(/[\r\n]/g, ' ')} secure portal`,
  };
  if (r.cc.length) headers.Cc = r.cc.map((address) => ({ name: '', address }));
  if (r.inReplyTo) {
    headers['In-Reply-To'] = r.inReplyTo;
    headers.References = [...r.references, r.inReplyTo].join(' ');
  }
  root.setHeader(headers);
  const text = r.body.replace(/\r?\n/g, '\r\n');
  if (r.attachments.length === 0) root.setContent(text);
  else {
    root.createChild('text/plain; charset=utf-8').setContent(text);
    for (const a of r.attachments) root.createChild(a.contentType || 'application/octet-stream', { filename: a.filename }).setContent(a.content);
  }
  return root.build();
}

export interface PortalRepliesDeps {
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly store: PortalStore;
  readonly log: Logger;
  readonly now: () => number;
  readonly random: RandomBytes;
  readonly hostname: string;
  readonly spoolKeyId: () => string;
  readonly portal: () => { readonly replyRoute?: string | undefined; readonly replyMaxBytes: number; readonly organisation: string };
  /** archive.enabled: a reply is archived before it is delivered. */
  readonly archiveEnabled?: (() => boolean) | undefined;
  /** A reply was queued: wake the archive stage and delivery. */
  readonly onQueued?: (() => void) | undefined;
  readonly metrics?: Metrics | undefined;
}

export class PortalReplies {
  constructor(private readonly deps: PortalRepliesDeps) {}

  /** Queues a reply; rejects with SG_PORTAL_REPLY_REFUSED (detail.reason) when it may not be sent. */
  async submit(req: ReplyRequest): Promise<ReplyResult> {
    const refuse = (reason: string): SealgateError => new SealgateError('SG_PORTAL_REPLY_REFUSED', { detail: { reason } });
    const { replyRoute, replyMaxBytes, organisation } = this.deps.portal();
    const problem = replyProblem(req, replyMaxBytes);
    if (problem) throw refuse(problem);
    const now = this.deps.now();
    const deposit = await this.deps.db.get<{ queue_id: string; sender: string; expires_at: number; revoked_at: number | null; shredded_at: number | null; reply_of: string | null }>(
      'SELECT queue_id, sender, expires_at, revoked_at, shredded_at, reply_of FROM portal_messages WHERE deposit_id = ?',
      [req.depositId],
    );
    if (!deposit || deposit.reply_of !== null) throw refuse('unknown');
    if (deposit.revoked_at !== null || deposit.shredded_at !== null || deposit.expires_at <= now) throw refuse('closed');
    const me = await this.deps.db.get<{ address: string; bcc: number }>('SELECT address, bcc FROM portal_recipients WHERE deposit_id = ? AND lower(address) = lower(?)', [req.depositId, req.recipient]);
    if (!me) throw refuse('not-a-recipient');
    const original = await originalHeaders(await this.deps.store.open(req.depositId, req.link));
    const { to, cc } = replyAddressees({ sender: deposit.sender, visible: original.visible }, me.address, req.all, me.bcc === 1);
    if (to.length === 0) throw refuse('no-sender');

    const id = generateQueueId(now, this.deps.random);
    const bytes = await buildReplyMime({
      from: me.address,
      to,
      cc,
      subject: replySubject(original.subject),
      inReplyTo: original.messageId,
      references: original.references,
      body: req.body,
      attachments: req.attachments,
      messageId: `<${id}.reply@${this.deps.hostname}>`,
      now,
      organisation,
    });
    const recipients = [...to, ...cc];
    const file = await this.deps.spool.write(id, Readable.from([bytes]));
    const copy = await this.deps.store.prepareDeposit({ queueId: id, source: Readable.from([bytes]), recipients: [{ address: me.address, bcc: false }], expiresAt: deposit.expires_at, now, sender: me.address }).catch(async (err: unknown) => {
      await file.discard();
      throw err;
    });
    try {
      await file.commit();
      await this.deps.db.transaction(async (tx) => {
        await insertQueuedMessage(tx, {
          id,
          createdAt: now,
          sender: me.address,
          size: bytes.length,
          spoolKeyId: this.deps.spoolKeyId(),
          listener: 'portal',
          connector: 'portal',
          clientIp: req.remoteIp,
          helo: this.deps.hostname,
          tlsVersion: undefined,
          authUser: undefined,
          bodyType: '8BITMIME',
          smtputf8: recipients.some((a) => /[^\x20-\x7e]/.test(a)) || /[^\x20-\x7e]/.test(me.address),
          requireTls: true,
          dsnRet: undefined,
          dsnEnvid: undefined,
          bareLineEndings: 0,
          recipients: recipients.map((address) => ({ address })),
          requirement: 'verify',
          inspected: true,
          archived: !(this.deps.archiveEnabled?.() ?? false),
          method: 'tls-verified',
          route: replyRoute,
        });
        await copy.commit(tx);
        await tx.run('UPDATE portal_messages SET reply_of = ? WHERE deposit_id = ?', [req.depositId, copy.result.depositId]);
        await tx.run('UPDATE portal_recipients SET replied_at = ? WHERE deposit_id = ? AND lower(address) = lower(?)', [now, req.depositId, me.address]);
        await appendAuditEvent(tx, { type: 'portal:replied', data: { depositId: req.depositId, recipient: me.address, remoteIp: req.remoteIp, replyQueueId: id, size: bytes.length, recipients: recipients.length } }, now);
      });
    } catch (err) {
      await file.discard();
      await copy.discard();
      throw err;
    }
    this.deps.metrics?.inc('sealgate_portal_replies_total');
    this.deps.log.info({ event: 'PORTAL_REPLY_QUEUED', depositId: req.depositId, queueId: id, recipients: recipients.length, size: bytes.length }, 'secure reply queued');
    this.deps.onQueued?.();
    return { queueId: id, recipients, size: bytes.length };
  }

  /** The original's envelope sender (where replies go), or '' when there is none. */
  async senderOf(depositId: string): Promise<string> {
    const row = await this.deps.db.get<{ sender: string }>('SELECT sender FROM portal_messages WHERE deposit_id = ?', [depositId]);
    return row?.sender ?? '';
  }

  /** The recipient's own replies to a deposit, oldest first: deposit ids of their copies (open them with PortalStore.open). */
  async thread(depositId: string, recipient: string): Promise<{ depositId: string; createdAt: number }[]> {
    const rows = await this.deps.db.all<{ deposit_id: string; created_at: number }>(
      `SELECT m.deposit_id, m.created_at FROM portal_messages m JOIN portal_recipients r ON r.deposit_id = m.deposit_id
        WHERE m.reply_of = ? AND lower(r.address) = lower(?) AND m.shredded_at IS NULL ORDER BY m.created_at, m.deposit_id`,
      [depositId, recipient],
    );
    return rows.map((r) => ({ depositId: r.deposit_id, createdAt: r.created_at }));
  }
}
