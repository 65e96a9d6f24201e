/**
 * Delivery status notifications to the envelope sender, queued like any
 * other message: the DSN is built (src/delivery/dsn.ts: headers only, subject
 * withheld, never the body), written to the encrypted spool, and its queue
 * rows are inserted in the caller's transaction — the same transaction that
 * records the recipient outcome it reports — so a crash can neither lose the
 * notice nor send it twice.
 *
 * Nothing is sent for mail from the null sender (a DSN about a DSN would
 * loop), nor for recipients whose NOTIFY says otherwise (RFC 3461).
 */
import { Readable } from 'node:stream';
import type { SqlQueryable } from '../db/sql-database.js';
import { generateQueueId, type RandomBytes } from '../queue/ids.js';
import { insertQueuedMessage, internalMessage } from '../queue/store.js';
import type { PendingSpoolFile, Spool } from '../spool/spool.js';
import { buildDsn, wantsDsn, type DsnAction, type DsnRecipient } from './dsn.js';

/** Longest original header block quoted in a DSN. */
export const DSN_HEADER_LIMIT = 64 * 1024;

export interface NoticeMessage {
  readonly id: string;
  readonly createdAt: number;
  readonly sender: string;
  readonly dsnEnvid: string | null;
}

export interface NoticeRecipient extends DsnRecipient {
  readonly notify: string | null;
}

export interface NoticeDeps {
  readonly spool: Spool;
  readonly hostname: string;
  readonly now: () => number;
  readonly random: RandomBytes;
  /** Transport requirement of the notice itself. */
  readonly requirement: string;
  readonly spoolKeyId: () => string;
}

/**
 * The header block of a message stream (up to and including the CRLF that
 * ends the last header line), at most `limit` bytes; the stream is
 * destroyed once it is read, so no more of the message is decrypted.
 */
export async function readHeaderBlock(stream: Readable, limit = DSN_HEADER_LIMIT): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end >= 0) return all.subarray(0, end + 2);
      if (size >= limit) return all.subarray(0, limit);
    }
    return Buffer.concat(chunks);
  } finally {
    stream.destroy();
  }
}

/** Reads the header block of a spooled message (bounded), for the DSN's third part. */
export function readOriginalHeaders(spool: Spool, id: string): Promise<Buffer> {
  return readHeaderBlock(spool.read(id));
}

/** A notice written to the spool, waiting for its rows. */
export interface PreparedNotice {
  readonly id: string;
  readonly file: PendingSpoolFile;
  readonly action: DsnAction;
  readonly recipients: readonly NoticeRecipient[];
  readonly size: number;
}

/**
 * Builds and spools a DSN for the recipients that want one. Returns
 * undefined when nobody does. Call `commitNotice` inside the transaction that
 * records the outcomes, `discardNotice` if that transaction fails.
 */
export async function prepareNotice(deps: NoticeDeps, message: NoticeMessage, action: DsnAction, recipients: readonly NoticeRecipient[]): Promise<PreparedNotice | undefined> {
  if (message.sender === '') return undefined;
  const wanted = recipients.filter((r) => wantsDsn(r.notify, action));
  if (wanted.length === 0) return undefined;
  const now = deps.now();
  const id = generateQueueId(now, deps.random);
  const bytes = await buildDsn({
    reportingMta: deps.hostname,
    queueId: message.id,
    envid: message.dsnEnvid ?? undefined,
    arrivalDate: message.createdAt,
    originalSender: message.sender,
    recipients: wanted,
    originalHeaders: await readOriginalHeaders(deps.spool, message.id),
    now,
    messageId: `<${id}.dsn@${deps.hostname}>`,
  });
  const file = await deps.spool.write(id, Readable.from([bytes]));
  await file.commit();
  return { id, file, action, recipients: wanted, size: bytes.length };
}

/** Inserts the notice's queue rows (null sender, one recipient: the original sender). */
export async function commitNotice(tx: SqlQueryable, deps: NoticeDeps, message: NoticeMessage, notice: PreparedNotice): Promise<void> {
  await insertQueuedMessage(tx, internalMessage({ id: notice.id, createdAt: deps.now(), size: notice.size, spoolKeyId: deps.spoolKeyId(), helo: deps.hostname, requirement: deps.requirement, recipients: [message.sender] }));
}

export async function discardNotice(notice: PreparedNotice | undefined): Promise<void> {
  await notice?.file.discard();
}
