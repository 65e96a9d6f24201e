/**
 * The sender's copy of a portal delivery (`portal.senderRevokeLinks`): one
 * mail to the original sender when their message is stored in the portal,
 * saying when it was stored, until when it can be read, and the link
 * `<publicUrl>/w/<token>` that withdraws it (revokes and shreds it at once).
 * Pure builder. No content: not the subject, the body or attachment names;
 * it threads with the sender's sent item through `In-Reply-To`.
 */
import { escapeHtml, formatExpiry, sanitizeLine, textColourOn, type PortalBranding } from './notification.js';

export interface WithdrawMailInput {
  readonly branding: PortalBranding;
  readonly publicUrl: string;
  readonly token: string;
  readonly sentAt: number;
  readonly expiresAt: number;
}

export interface WithdrawMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly link: string;
}

export const withdrawMailMessages = {
  en: {
    subject: (organisation: string) => `${organisation}: your message was delivered securely`,
    body: (p: { sent: string; until: string }) =>
      `Your message of ${p.sent} was delivered through the secure portal to the recipients who needed it. They can read it until ${p.until}.`,
    withdraw: 'If it went to the wrong person, or should not have been sent, withdraw it here. It is then deleted at once and can no longer be read:',
    button: 'Withdraw the message',
    keep: 'Keep this email private: the link withdraws the message without asking for a password.',
  },
};

export function buildWithdrawMail(input: WithdrawMailInput): WithdrawMail {
  if (!/^[A-Za-z0-9_-]{43}$/.test(input.token)) throw new RangeError('a withdraw token is 43 base64url characters');
  const m = withdrawMailMessages.en;
  const organisation = sanitizeLine(input.branding.organisationName, 120) || 'Sealgate';
  const link = `${input.publicUrl.replace(/\/+$/, '')}/w/${input.token}`;
  const body = m.body({ sent: formatExpiry(input.sentAt).human, until: formatExpiry(input.expiresAt).human });
  const colour = input.branding.colour;
  return {
    subject: m.subject(organisation),
    link,
    text: [body, '', m.withdraw, '', link, '', m.keep, ''].join('\r\n'),
    html: [
      '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
      `<title>${escapeHtml(m.subject(organisation))}</title></head>`,
      '<body style="margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;color:#1a1a1a;background:#ffffff"><div style="max-width:560px;margin:0 auto">',
      `<p style="font-size:16px">${escapeHtml(body)}</p>`,
      `<p style="font-size:16px">${escapeHtml(m.withdraw)}</p>`,
      `<p><a href="${escapeHtml(link)}" style="display:inline-block;background:${colour};color:${textColourOn(colour)};padding:10px 18px;border-radius:4px;text-decoration:none;font-weight:bold">${escapeHtml(m.button)}</a></p>`,
      `<p style="font-size:13px;color:#404040">${escapeHtml(link)}</p>`,
      `<p style="font-size:13px;color:#404040">${escapeHtml(m.keep)}</p>`,
      '</div></body></html>',
    ].join('\n'),
  };
}
