/**
 * The sign-in code mail (issue 11, item 3): a pure builder of its subject,
 * text and HTML. Contract: the code is the only 6–8 digit number in the text
 * part, so a mail client's "copy code" and a test reading the mailbox find
 * it without guessing. Admin-written text (support contact, footer) is left
 * out of the text part when it holds such a number itself.
 *
 * Nothing about the message is in it: no sender, no subject, no link (a
 * code mail that carried the link would let whoever reads this mailbox skip
 * the step the code exists for).
 */
import { escapeHtml, sanitizeLine, textColourOn, type PortalBranding } from './notification.js';

export interface CodeMailInput {
  readonly branding: PortalBranding;
  readonly code: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
  readonly now: number;
}

export interface CodeMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export const codeMailMessages = {
  en: {
    subject: (organisation: string) => `${organisation}: your sign-in code`,
    intro: 'Your one-time sign-in code for the secure message is:',
    validity: (minutes: number) => `It works once, for the next ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    notYou: 'If you did not ask for a code, you can ignore this email. Never give this code to anyone, including our staff.',
    support: (contact: string) => `Questions? Contact ${contact}.`,
  },
};

const CODE_PATTERN = /^\d{6,8}$/;
/** A 6–8 digit number standing alone: what the contract says only the code may be. */
const LONE_NUMBER = /(?<!\d)\d{6,8}(?!\d)/;

/** Pure: admin text kept in the text part only when it cannot be mistaken for the code. */
function textSafe(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const line = sanitizeLine(s, 1000);
  return line && !LONE_NUMBER.test(line) ? line : undefined;
}

export function buildCodeMail(input: CodeMailInput): CodeMail {
  if (!CODE_PATTERN.test(input.code)) throw new RangeError('a sign-in code has 6 to 8 digits');
  const m = codeMailMessages.en;
  const organisation = sanitizeLine(input.branding.organisationName, 120) || 'Sealgate';
  const minutes = Math.max(1, Math.round((input.expiresAt - input.now) / 60_000));
  const support = textSafe(input.branding.supportContact);
  const footer = textSafe(input.branding.footer);
  const text = [m.intro, '', `    ${input.code}`, '', m.validity(minutes), '', m.notYou, ...(support ? ['', m.support(support)] : []), ...(footer ? ['', '--', footer] : []), ''].join('\r\n');
  const colour = input.branding.colour;
  const on = textColourOn(colour);
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(m.subject(organisation))}</title></head>`,
    '<body style="margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;color:#1a1a1a;background:#ffffff">',
    `<div style="max-width:560px;margin:0 auto"><div style="background:${colour};color:${on};padding:12px 16px;font-size:18px;font-weight:bold">${escapeHtml(organisation)}</div>`,
    `<p style="font-size:16px">${escapeHtml(m.intro)}</p>`,
    `<p style="font-size:32px;font-weight:bold;letter-spacing:4px;font-family:Consolas,Menlo,monospace">${escapeHtml(input.code)}</p>`,
    `<p style="font-size:16px">${escapeHtml(m.validity(minutes))}</p>`,
    `<p style="font-size:14px;color:#404040">${escapeHtml(m.notYou)}</p>`,
    input.branding.supportContact ? `<p style="font-size:14px;color:#404040">${escapeHtml(m.support(sanitizeLine(input.branding.supportContact, 200)))}</p>` : '',
    input.branding.footer ? `<p style="font-size:12px;color:#404040">${escapeHtml(sanitizeLine(input.branding.footer, 1000))}</p>` : '',
    '</div></body></html>',
  ].join('\n');
  return { subject: m.subject(organisation), text, html };
}
