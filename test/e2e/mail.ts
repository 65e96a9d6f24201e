/** Test messages for the E2E transforms, built by nodemailer's MailComposer. */
import MailComposer from 'nodemailer/lib/mail-composer';
import { randomBytes } from 'node:crypto';

export const ORIGINAL_SUBJECT = 'Befund für Frau Müller – 診断書 [secure]';
export const TEXT = 'Dear colleague,\nthe results are attached.\nÄrztliche Grüße\n';
export const HTML = '<p>Dear colleague,</p><p>the results are <b>attached</b>.</p><p>Ärztliche Grüße</p>';

/**
 * The message as it arrives over SMTP: MailComposer leaves bare LFs inside
 * quoted-printable text, which an SMTP client's data stream sends as CRLF.
 */
export async function composeOriginal(attachment: Buffer, extra: { bcc?: string } = {}): Promise<Buffer> {
  const built = await new MailComposer({
    from: 'Dr. Sender <sender@hospital.example>',
    to: 'Alice Example <alice@example.org>',
    cc: 'rsa@example.org',
    ...(extra.bcc ? { bcc: extra.bcc } : {}),
    subject: ORIGINAL_SUBJECT,
    messageId: '<e2e-test-1@hospital.example>',
    date: new Date('2026-12-05T04:00:00Z'),
    text: TEXT,
    html: HTML,
    attachments: [{ filename: 'scan.bin', content: attachment, contentType: 'application/octet-stream' }],
  })
    .compile()
    .build();
  return Buffer.from(built.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

export function attachmentBytes(size: number): Buffer {
  return randomBytes(size);
}
