/**
 * Trace headers the gateway adds to every accepted message: a Received
 * header (RFC 5321 §4.4, protocol names from RFC 3848 / RFC 6531) on top, and
 * a Message-ID when the message has none. Pure functions of their inputs.
 */

export interface ReceivedInfo {
  readonly helo: string;
  readonly clientIp: string;
  readonly clientHostname?: string | undefined;
  readonly byHost: string;
  readonly queueId: string;
  readonly tls?: { readonly version: string; readonly cipher: string } | undefined;
  readonly authenticated: boolean;
  readonly smtputf8: boolean;
  readonly date: Date;
}

/** RFC 5322 date-time in UTC: "Tue, 24 Nov 2026 11:21:22 +0000". */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** Keeps a peer-supplied token printable and short, so it cannot break the header. */
export function sanitizeToken(text: string, max = 255): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '?').replace(/[()\\]/g, '?');
  return clean.length > max ? clean.slice(0, max) : clean || 'unknown';
}

export function receivedProtocol(info: Pick<ReceivedInfo, 'tls' | 'authenticated' | 'smtputf8'>): string {
  return `${info.smtputf8 ? 'UTF8SMTP' : 'ESMTP'}${info.tls ? 'S' : ''}${info.authenticated ? 'A' : ''}`;
}

/** The Received header, folded, ending in CRLF. */
export function buildReceivedHeader(info: ReceivedInfo): string {
  const ip = info.clientIp.includes(':') ? `IPv6:${info.clientIp}` : info.clientIp;
  const host = info.clientHostname ? `${sanitizeToken(info.clientHostname)} ` : '';
  const lines = [`Received: from ${sanitizeToken(info.helo)} (${host}[${ip}])`];
  if (info.tls) {
    lines.push(`\t(using ${sanitizeToken(info.tls.version, 32)} with cipher ${sanitizeToken(info.tls.cipher, 64)})`);
  }
  lines.push(`\tby ${sanitizeToken(info.byHost)} (Sealgate) with ${receivedProtocol(info)} id ${info.queueId};`);
  lines.push(`\t${rfc5322Date(info.date)}`);
  return `${lines.join('\r\n')}\r\n`;
}

export function buildMessageIdHeader(queueId: string, host: string): string {
  return `Message-ID: <${queueId}@${sanitizeToken(host)}>\r\n`;
}

/** True when the header block (CRLF line endings) has a Message-ID field. */
export function hasMessageId(headerBlock: string): boolean {
  return /^message-id[ \t]*:/im.test(headerBlock);
}
