/**
 * The optional read receipt (`portal.readReceipts`): when a recipient first
 * opens a portal message, the original sender gets a short mail saying who
 * opened it and when. Pure builder. It carries no content: not the subject,
 * not the body, not attachment names — the sender's mail client threads it
 * with the sent message through `In-Reply-To` (the original's Message-ID).
 */
import { escapeHtml, formatExpiry, sanitizeLine, type PortalBranding } from './notification.js';

export interface ReadReceiptInput {
  readonly branding: PortalBranding;
  /** Who opened it. */
  readonly recipient: string;
  /** When it was first opened (ms since the epoch). */
  readonly openedAt: number;
  /** When the original was deposited (ms since the epoch). */
  readonly sentAt: number;
}

export interface ReadReceipt {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export const readReceiptMessages = {
  en: {
    subject: (organisation: string) => `${organisation}: your secure message was opened`,
    body: (p: { recipient: string; opened: string; sent: string }) => `${p.recipient} opened the secure message you sent on ${p.sent}. First opened: ${p.opened}.`,
    note: 'This notice names no content of the message. You asked for it through your organisation\'s secure portal settings.',
  },
};

export function buildReadReceipt(input: ReadReceiptInput): ReadReceipt {
  const m = readReceiptMessages.en;
  const organisation = sanitizeLine(input.branding.organisationName, 120) || 'Sealgate';
  const recipient = sanitizeLine(input.recipient, 320);
  const body = m.body({ recipient, opened: formatExpiry(input.openedAt).human, sent: formatExpiry(input.sentAt).human });
  return {
    subject: m.subject(organisation),
    text: `${body}\r\n\r\n${m.note}\r\n`,
    html: `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(m.subject(organisation))}</title></head><body style="font-family:Arial,Helvetica,sans-serif;color:#1a1a1a"><p>${escapeHtml(body)}</p><p style="color:#404040;font-size:14px">${escapeHtml(m.note)}</p></body></html>`,
  };
}
