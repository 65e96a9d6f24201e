/**
 * Journaling (archive.journalTo): a copy of every archived message for an
 * external archive, as a journal report in the manner of Exchange's
 * envelope journaling: a multipart/mixed message from the gateway whose
 * first part lists the envelope (sender, every recipient including blind
 * copies, queue id, Message-ID, time of receipt, connector) and whose second
 * part is the original message, byte for byte, as message/rfc822. The
 * report's own Subject names only the queue id: the original Subject (often
 * patient details) stays inside the attached message.
 *
 * The report is queued like the gateway's other mail (null sender, already
 * inspected, not archived again) and leaves over verified TLS.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';

export interface JournalEnvelope {
  readonly queueId: string;
  readonly messageId: string | null;
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly receivedAt: number;
  readonly connector: string;
  readonly to: string;
  readonly hostname: string;
  readonly reportId: string;
  readonly now: number;
  /** The original was sent as BINARYMIME: its part is declared binary, not 8bit. */
  readonly binary: boolean;
}

/** Header and envelope part of the report, up to the original's part body (pure but for the boundary, which is given). */
export function journalHead(e: JournalEnvelope, boundary: string): string {
  const lines = [
    `From: Sealgate journal <postmaster@${e.hostname}>`,
    `To: <${e.to}>`,
    `Subject: Sealgate journal report ${e.queueId}`,
    `Date: ${new Date(e.now).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${e.reportId}.journal@${e.hostname}>`,
    'MIME-Version: 1.0',
    `X-Sealgate-Journal: ${e.queueId}`,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    'This is a Sealgate journal report: the envelope, then the original message.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `Sender: ${e.sender || '<>'}`,
    ...e.recipients.map((r) => `Recipient: ${r}`),
    `Queue-ID: ${e.queueId}`,
    `Message-ID: ${e.messageId ? `<${e.messageId}>` : '(none)'}`,
    `Received: ${new Date(e.receivedAt).toISOString()}`,
    `Connector: ${e.connector}`,
    '',
    `--${boundary}`,
    'Content-Type: message/rfc822',
    `Content-Transfer-Encoding: ${e.binary ? 'binary' : '8bit'}`,
    '',
    '',
  ];
  return lines.join('\r\n');
}

/** The whole report as a stream: head, the original's bytes, the closing boundary. */
export function journalReport(e: JournalEnvelope, original: Readable, boundary = `sealgate-journal-${randomBytes(16).toString('hex')}`): Readable {
  const out = new PassThrough();
  out.write(journalHead(e, boundary));
  original.once('error', (err) => out.destroy(err));
  original.once('end', () => out.end(`\r\n--${boundary}--\r\n`));
  original.pipe(out, { end: false });
  return out;
}

/** A report whose original is held in memory (tests, small messages). */
export function journalReportOf(e: JournalEnvelope, original: Buffer, boundary?: string): Readable {
  return journalReport(e, Readable.from([original]), boundary);
}
