/**
 * Delivery status notifications (RFC 3464, in an RFC 6522 multipart/report),
 * built with nodemailer's MIME builder. Pure: clock and ids come in.
 *
 * PHI rule: a DSN never carries the message body, and the original Subject
 * (which staff often fill with patient details) is withheld: the third part
 * holds only the identifying headers of the original (Received, Date, From,
 * To, Cc, Message-ID, …) and a Subject line saying it was withheld. RET=FULL
 * is therefore treated as RET=HDRS (RFC 3461 lets the reporting MTA decide
 * how much to return; ours returns the least that still identifies the
 * message: Message-ID, Date, From, To). The remote server's diagnostic is
 * reduced to its reply code, enhanced code and a bounded printable text.
 */
import MimeNode from 'nodemailer/lib/mime-node';

export type DsnAction = 'failed' | 'delayed' | 'delivered';

export interface DsnRecipient {
  readonly address: string;
  /** ORCPT as received, e.g. 'rfc822;bob@example.net'. */
  readonly orcpt?: string | undefined;
  readonly action: DsnAction;
  /** Enhanced status code, e.g. '5.1.1'. */
  readonly status: string;
  /** MX host name. */
  readonly remoteMta?: string | undefined;
  /** Remote reply (sanitised here) or our own reason. */
  readonly diagnosticCode?: string | undefined;
  readonly lastAttemptAt?: number | undefined;
  readonly willRetryUntil?: number | undefined;
}

export interface DsnInput {
  readonly reportingMta: string;
  readonly queueId: string;
  readonly envid?: string | undefined;
  readonly arrivalDate: number;
  readonly originalSender: string;
  readonly recipients: readonly DsnRecipient[];
  /** The original header block (CRLF); at most ORIGINAL_HEADER_LIMIT bytes are used. */
  readonly originalHeaders: Buffer;
  readonly now: number;
  readonly messageId: string;
}

export const ORIGINAL_HEADER_LIMIT = 64 * 1024;
export const WITHHELD_SUBJECT = '[withheld by Sealgate: may contain protected health information]';
const DIAGNOSTIC_LIMIT = 200;

/**
 * RFC 3461 §4.1: NOTIFY=NEVER → no DSN; NOTIFY absent → failures (and, as
 * most MTAs do, delay warnings); a NOTIFY list → only the kinds it names.
 */
export function wantsDsn(notify: string | null | undefined, action: DsnAction): boolean {
  if (!notify) return action !== 'delivered';
  const kinds = notify.toUpperCase().split(',').map((k) => k.trim());
  if (kinds.includes('NEVER')) return false;
  const wanted = { failed: 'FAILURE', delayed: 'DELAY', delivered: 'SUCCESS' }[action];
  return kinds.includes(wanted);
}

/** RFC 5322 date in UTC. */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/** One printable line: code, enhanced code and at most DIAGNOSTIC_LIMIT characters. */
export function sanitizeDiagnostic(text: string): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').replace(/\s+/g, ' ').trim();
  return flat.length > DIAGNOSTIC_LIMIT ? `${flat.slice(0, DIAGNOSTIC_LIMIT - 3)}...` : flat;
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** Final-Recipient / Original-Recipient value: rfc822 for ASCII, utf-8 (RFC 6533) otherwise. */
function addressField(address: string): string {
  return isAscii(address) ? `rfc822;${address}` : `utf-8;${address.replace(/[^\x20-\x7e]/gu, (c) => `\\x{${c.codePointAt(0)?.toString(16).toUpperCase() ?? ''}}`)}`;
}

/**
 * Headers of the original that identify it and may be returned. Everything
 * else is dropped: besides Subject, clients copy the subject or content into
 * other fields (Exchange's Thread-Topic, Content-Description, X-* headers).
 */
const RETURNED_HEADERS = new Set(['received', 'return-path', 'date', 'from', 'sender', 'reply-to', 'to', 'cc', 'message-id', 'in-reply-to', 'references', 'mime-version']);

/**
 * The original header block reduced to RETURNED_HEADERS (folded lines kept
 * with their header), plus a Subject line saying it was withheld.
 */
export function withholdSubject(headers: Buffer): string {
  const text = headers.subarray(0, ORIGINAL_HEADER_LIMIT).toString('latin1');
  const out: string[] = [];
  let keep = false;
  let hadSubject = false;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (/^[ \t]/.test(line)) {
      if (keep) out.push(line);
      continue;
    }
    const name = /^([!-9;-~]+)\s*:/.exec(line)?.[1]?.toLowerCase();
    if (name === 'subject') hadSubject = true;
    keep = name !== undefined && RETURNED_HEADERS.has(name);
    if (keep) out.push(line);
  }
  if (hadSubject) out.push(`Subject: ${WITHHELD_SUBJECT}`);
  return `${out.join('\r\n')}\r\n`;
}

function statusText(action: DsnAction): { subject: string; intro: string } {
  switch (action) {
    case 'failed':
      return { subject: 'Undelivered Mail Returned to Sender', intro: 'Your message could not be delivered to the recipients below. This is a permanent failure.' };
    case 'delayed':
      return { subject: 'Delayed Mail (still being retried)', intro: 'Your message has not been delivered yet to the recipients below. Delivery is still being retried; you do not need to send it again.' };
    case 'delivered':
      return { subject: 'Successful Mail Delivery Report', intro: 'Your message was delivered to the recipients below.' };
  }
}

function humanPart(input: DsnInput, action: DsnAction): string {
  const lines = [
    `This is the mail system at ${input.reportingMta}.`,
    '',
    statusText(action).intro,
    '',
  ];
  for (const r of input.recipients) {
    lines.push(`  ${r.address}: ${r.status}${r.remoteMta ? ` (server ${r.remoteMta})` : ''}`);
    if (r.diagnosticCode) lines.push(`    ${sanitizeDiagnostic(r.diagnosticCode)}`);
  }
  lines.push(
    '',
    `Queue ID: ${input.queueId}`,
    `Received: ${rfc5322Date(input.arrivalDate)}`,
    '',
    'The subject and content of your message are not included: they may contain',
    'protected health information. The headers that identify the message follow.',
  );
  return `${lines.join('\r\n')}\r\n`;
}

function statusPart(input: DsnInput): string {
  const blocks: string[][] = [];
  const perMessage = [`Reporting-MTA: dns; ${input.reportingMta}`];
  if (input.envid) perMessage.push(`Original-Envelope-Id: ${sanitizeDiagnostic(input.envid)}`);
  perMessage.push(`X-Sealgate-Queue-ID: ${input.queueId}`, `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`);
  blocks.push(perMessage);
  for (const r of input.recipients) {
    const b: string[] = [];
    if (r.orcpt) {
      const [type, ...rest] = r.orcpt.split(';');
      b.push(`Original-Recipient: ${(type ?? 'rfc822').toLowerCase()};${sanitizeDiagnostic(rest.join(';'))}`);
    }
    b.push(`Final-Recipient: ${addressField(r.address)}`, `Action: ${r.action}`, `Status: ${/^[245]\.\d{1,3}\.\d{1,3}$/.test(r.status) ? r.status : r.action === 'failed' ? '5.0.0' : '4.0.0'}`);
    if (r.remoteMta) b.push(`Remote-MTA: dns; ${sanitizeDiagnostic(r.remoteMta)}`);
    if (r.diagnosticCode) b.push(`Diagnostic-Code: smtp; ${sanitizeDiagnostic(r.diagnosticCode)}`);
    if (r.lastAttemptAt !== undefined) b.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptAt)}`);
    if (r.willRetryUntil !== undefined && r.action === 'delayed') b.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
    blocks.push(b);
  }
  return `${blocks.map((b) => b.join('\r\n')).join('\r\n\r\n')}\r\n`;
}

/** The DSN as an RFC 5322 message with CRLF line endings. */
export async function buildDsn(input: DsnInput): Promise<Buffer> {
  if (input.recipients.length === 0) throw new RangeError('a DSN needs at least one recipient');
  // one notice reports one kind of event: the most serious one present
  const action: DsnAction = input.recipients.some((r) => r.action === 'failed') ? 'failed' : input.recipients.some((r) => r.action === 'delayed') ? 'delayed' : 'delivered';
  const root = new MimeNode('multipart/report; report-type=delivery-status', { baseBoundary: input.queueId });
  root.setHeader({
    From: `Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    To: `<${input.originalSender}>`,
    Subject: statusText(action).subject,
    Date: rfc5322Date(input.now),
    'Message-ID': input.messageId,
    'Auto-Submitted': 'auto-replied',
    'X-Sealgate-Notice': 'dsn',
  });
  const human = root.createChild('text/plain; charset=utf-8');
  human.setContent(humanPart(input, action));
  const status = root.createChild('message/delivery-status');
  status.setHeader('Content-Transfer-Encoding', '7bit');
  status.setContent(statusPart(input));
  const headers = root.createChild('text/rfc822-headers');
  headers.setContent(withholdSubject(input.originalHeaders));
  return root.build();
}
