/**
 * The notification mail a portal recipient gets (issue 11, item 2): a pure
 * builder of its subject, text part, HTML part and link. No queue, no I/O:
 * the caller (the deposit step, later) wraps the result in MIME and queues it.
 *
 * PHI rule: the input has no field for the body, the attachment names or the
 * original subject; the subject it gets is the outer one `outerSubject`
 * chose (the neutral one when the original is sensitive). The mail carries
 * only that subject, the sender's display name and address, the
 * organisation's branding (name, logo URL, colour, support contact, footer),
 * the expiry and the link `<publicUrl>/m/<token>` (`#<fragment>` in
 * zero-knowledge mode).
 *
 * Safety: every value put into the HTML is escaped; the sender's display
 * name is untrusted (anyone's mail client sets it), so control and format
 * characters are removed, its length is bounded and anything link-like in it
 * is defanged (`evil[.]example`) so no mail client turns it into a link.
 * The subject loses CR/LF and control characters (no header injection).
 *
 * Accessibility: `lang`, a real `<a>` with descriptive text, inline CSS only,
 * and text on the accent colour chosen by WCAG contrast (`textColourOn`).
 * A logo given as a file path is shown from the mail's own `cid:` part
 * (`logoCid`; the part is added when the mail is composed, portal-mail.ts).
 *
 * All wording comes from `messages` (one object per locale) so it can be
 * translated; only 'en' exists.
 */
import { SealgateError } from '../errors.js';
import type { Config } from '../config/schema.js';
import { publicUrlProblem } from './config-schema.js';

export type PortalBranding = Config['portal']['branding'];
export type NotificationLocale = 'en';

export interface PortalNotificationInput {
  readonly branding: PortalBranding;
  /** `portal.publicUrl` (a trailing `/` is dropped). */
  readonly publicUrl: string;
  /** The recipient's link token (base64url, at least 22 characters = 128 bits). */
  readonly token: string;
  /** Zero-knowledge mode: the key part carried only in the link's `#fragment` (base64url). */
  readonly linkFragment?: string | undefined;
  /** The sender's display name: untrusted, sanitised here. */
  readonly senderDisplayName?: string | undefined;
  readonly senderAddress: string;
  readonly recipientAddress: string;
  /** Already neutral: `outerSubject(...).outer`. */
  readonly subject: { readonly outer: string };
  /** When the message stops being readable (ms since the epoch). */
  readonly expiresAt: number;
  readonly now: number;
  readonly locale?: NotificationLocale | undefined;
  /** The logo is a file sent inside the mail: the Content-ID of that part (shown as `cid:`). */
  readonly logoCid?: string | undefined;
}

export interface PortalNotification {
  /** One line, no control characters: safe for a Subject header. */
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly link: string;
}

/** The wording of the notification, per locale. Values are plain text; HTML escaping happens after. */
export const messages = {
  en: {
    subject: (p: { organisation: string; outer: string }) => `${p.organisation}: ${p.outer}`,
    heading: 'You have a secure message',
    intro: (p: { sender: string; organisation: string }) => `${p.sender} sent you a secure message through ${p.organisation}.`,
    subjectLabel: 'Subject',
    button: 'Open the secure message',
    linkFallback: 'If the button does not work, copy this address into your browser:',
    textLinkIntro: 'Open the secure message at this address:',
    expiry: (p: { human: string; iso: string; remaining: string }) => `You can read it until ${p.human} (${p.iso}), ${p.remaining}.`,
    remaining: (days: number) => (days <= 0 ? 'less than a day from now' : days === 1 ? '1 day from now' : `${days} days from now`),
    signIn: 'To open it, you confirm this email address with a one-time code that is sent to it.',
    notInMail: 'The message itself is not in this email. This email never asks for a password.',
    support: (contact: string) => `Questions? Contact ${contact}.`,
    sentTo: (address: string) => `This notification was sent to ${address}.`,
    logoAlt: (organisation: string) => `${organisation} logo`,
    utc: 'UTC',
    weekdays: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
    months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
  },
} as const;

export type NotificationMessages = (typeof messages)['en'];

/** Longest sender display name shown (code points). */
export const DISPLAY_NAME_LIMIT = 100;
/** Longest subject and other single-line value (code points). */
const LINE_LIMIT = 200;
const ADDRESS_LIMIT = 254;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,512}$/;
const FRAGMENT_PATTERN = /^[A-Za-z0-9_-]{1,512}$/;
const DAY = 86_400_000;
const TEXT_COLOUR = '#1a1a1a';
const MUTED_COLOUR = '#4a4a4a';

/** Pure: `s` with & < > " ' ` replaced by character references (text and quoted attribute values). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c] as string);
}

/**
 * Pure: one line of untrusted text made safe to show and to put in a header:
 * control characters (CR, LF, NUL, …), format characters (bidi overrides,
 * zero-width) and line/paragraph separators become spaces or go, whitespace
 * runs collapse, and the result is cut to `limit` code points (with "…").
 */
export function sanitizeLine(s: string, limit = LINE_LIMIT): string {
  const cleaned = s
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/[\p{Cf}\p{Co}\p{Cs}]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
  const chars = Array.from(cleaned);
  return chars.length <= limit ? cleaned : `${chars.slice(0, limit - 1).join('').trimEnd()}…`;
}

/** Pure: multi-line text (a footer): each line sanitised; runs of empty lines become one, none at either end. */
function sanitizeLines(s: string, limit: number): string[] {
  const lines = s.split(/\r\n|\r|\n|\u2028|\u2029/).map((line) => sanitizeLine(line, limit));
  const out = lines.filter((line, i) => line !== '' || (i > 0 && lines[i - 1] !== ''));
  while (out.length > 0 && out[0] === '') out.shift();
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/**
 * Pure: text that no mail client will auto-link: URL schemes, `@` and dots
 * between non-space characters are bracketed (`evil[.]example`,
 * `https[:]//`, `a[at]b`), the usual "defanged" notation.
 */
export function defangLinks(s: string): string {
  return s
    .replace(/:(?=\S)/g, '[:]')
    .replace(/@/g, '[at]')
    .replace(/(?<=\S)\.(?=\S)/g, '[.]');
}

/** Pure: the sender's display name as shown: sanitised, bounded, defanged; undefined when nothing is left. */
export function safeDisplayName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const shown = defangLinks(sanitizeLine(sanitizeLine(name, DISPLAY_NAME_LIMIT * 4).replace(/^"(.*)"$/, '$1'), DISPLAY_NAME_LIMIT));
  return shown === '' ? undefined : shown;
}

/** WCAG 2.1 relative luminance of a `#rrggbb` colour. */
export function relativeLuminance(hex: string): number {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new RangeError('expected a #rrggbb colour');
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => {
    const c = parseInt(h as string, 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Pure: WCAG 2.1 contrast ratio of two `#rrggbb` colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** WCAG AA for normal text. */
export const MIN_CONTRAST = 4.5;

/**
 * Pure: the text colour for text on `background`: white when it reaches
 * 4.5:1, otherwise black (every colour reaches at least 4.58:1 against one
 * of the two).
 */
export function textColourOn(background: string): '#ffffff' | '#000000' {
  return contrastRatio('#ffffff', background) >= MIN_CONTRAST ? '#ffffff' : '#000000';
}

/** Pure: the logo URL to show, only an https URL without credentials; file paths are left out (CID attachment later). */
export function logoUrl(logo: string | undefined): string | undefined {
  if (logo === undefined || /[\s"'<>`\\\p{Cc}]/u.test(logo)) return undefined;
  try {
    const url = new URL(logo);
    if (url.protocol !== 'https:' || url.username || url.password) return undefined;
    return logo;
  } catch {
    return undefined;
  }
}

function invalid(field: string, message: string): SealgateError {
  return new SealgateError('SG_PORTAL_NOTIFICATION_INVALID', { message: `portal notification: ${message}`, detail: { field } });
}

/** Pure: `<publicUrl>/m/<token>` plus `#<fragment>`; throws SG_PORTAL_NOTIFICATION_INVALID on a bad part. */
export function portalLink(publicUrl: string, token: string, fragment?: string): string {
  const base = typeof publicUrl === 'string' ? publicUrl.replace(/\/+$/, '') : '';
  if (publicUrlProblem(base) !== undefined || /[\s"'<>`\\\p{Cc}]/u.test(base)) {
    throw invalid('publicUrl', 'publicUrl is not a usable https URL');
  }
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) throw invalid('token', 'link token is not base64url of at least 22 characters');
  if (fragment !== undefined && !FRAGMENT_PATTERN.test(fragment)) throw invalid('linkFragment', 'link fragment is not base64url');
  return `${base}/m/${token}${fragment === undefined ? '' : `#${fragment}`}`;
}

/** Pure: the expiry as a human UTC date ("Monday, 4 January 2027, 09:00 UTC") and an ISO date ("2027-01-04"). */
export function formatExpiry(at: number, m: NotificationMessages = messages.en): { human: string; iso: string } {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) throw invalid('expiresAt', 'expiry is not a valid time');
  const pad = (n: number) => String(n).padStart(2, '0');
  const iso = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const human = `${m.weekdays[d.getUTCDay()]}, ${d.getUTCDate()} ${m.months[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} ${m.utc}`;
  return { human, iso };
}

/** Pure: builds the notification. Throws SG_PORTAL_NOTIFICATION_INVALID on a bad link part or an expiry not after `now`. */
export function buildPortalNotification(input: PortalNotificationInput): PortalNotification {
  const m = messages[input.locale ?? 'en'];
  const lang = input.locale ?? 'en';
  const link = portalLink(input.publicUrl, input.token, input.linkFragment);
  if (!Number.isFinite(input.expiresAt) || !Number.isFinite(input.now) || input.expiresAt <= input.now) {
    throw invalid('expiresAt', 'expiry must be after now');
  }

  const b = input.branding;
  const organisation = sanitizeLine(b.organisationName, 120) || 'Sealgate';
  const outer = sanitizeLine(input.subject.outer) || 'Secure message';
  const address = sanitizeLine(input.senderAddress, ADDRESS_LIMIT);
  const name = safeDisplayName(input.senderDisplayName);
  const sender = name === undefined ? address : address === '' ? name : `${name} (${address})`;
  const recipient = sanitizeLine(input.recipientAddress, ADDRESS_LIMIT);
  const support = b.supportContact === undefined ? '' : sanitizeLine(b.supportContact, 200);
  const footer = b.footer === undefined ? [] : sanitizeLines(b.footer, 1000);
  const expiry = formatExpiry(input.expiresAt, m);
  const days = Math.floor((input.expiresAt - input.now) / DAY);
  const expiryLine = m.expiry({ ...expiry, remaining: m.remaining(days) });
  const subject = sanitizeLine(m.subject({ organisation, outer }), 250);

  const intro = m.intro({ sender: sender || organisation, organisation });

  const text = [
    m.heading,
    '',
    intro,
    `${m.subjectLabel}: ${outer}`,
    '',
    m.textLinkIntro,
    link,
    '',
    expiryLine,
    m.signIn,
    m.notInMail,
    ...(support ? ['', m.support(support)] : []),
    ...(recipient ? [m.sentTo(recipient)] : []),
    ...(footer.length ? ['', '--', ...footer] : []),
    '',
  ].join('\r\n');

  const accent = /^#[0-9a-f]{6}$/i.test(b.colour) ? b.colour.toLowerCase() : '#1f4e79';
  const onAccent = textColourOn(accent);
  const logo = input.logoCid !== undefined && /^[A-Za-z0-9.@_-]{1,100}$/.test(input.logoCid) ? `cid:${input.logoCid}` : logoUrl(b.logo);
  const e = escapeHtml;
  const font = 'font-family:Arial,Helvetica,sans-serif;';
  const p = (s: string, style = '') => `<p style="margin:0 0 16px 0;${font}font-size:16px;line-height:1.5;color:${TEXT_COLOUR};${style}">${e(s)}</p>`;

  const html = [
    '<!DOCTYPE html>',
    `<html lang="${lang}" dir="ltr">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="format-detection" content="telephone=no, date=no, address=no, email=no, url=no">',
    '<meta name="x-apple-disable-message-reformatting">',
    `<title>${e(subject)}</title>`,
    '</head>',
    `<body style="margin:0;padding:0;background-color:#f4f4f4;">`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f4f4;">',
    '<tr><td align="center" style="padding:24px 12px;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background-color:#ffffff;border-collapse:collapse;">',
    `<tr><td style="background-color:${accent};color:${onAccent};padding:16px 24px;${font}font-size:20px;font-weight:bold;">`,
    ...(logo ? [`<img src="${e(logo)}" alt="${e(m.logoAlt(organisation))}" height="40" style="display:block;height:40px;max-width:100%;border:0;margin:0 0 8px 0;">`] : []),
    `<span style="color:${onAccent};">${e(organisation)}</span>`,
    '</td></tr>',
    '<tr><td style="padding:24px;">',
    `<h1 style="margin:0 0 16px 0;${font}font-size:22px;line-height:1.3;color:${TEXT_COLOUR};">${e(m.heading)}</h1>`,
    p(intro),
    `<p style="margin:0 0 24px 0;${font}font-size:16px;line-height:1.5;color:${TEXT_COLOUR};"><strong>${e(m.subjectLabel)}:</strong> ${e(outer)}</p>`,
    '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 24px 0;"><tr>',
    `<td style="background-color:${accent};border-radius:4px;">`,
    `<a href="${e(link)}" style="display:inline-block;padding:12px 24px;${font}font-size:16px;font-weight:bold;color:${onAccent};background-color:${accent};text-decoration:none;border-radius:4px;">${e(m.button)}</a>`,
    '</td></tr></table>',
    p(expiryLine),
    p(m.signIn),
    p(m.notInMail),
    p(m.linkFallback, `font-size:14px;color:${MUTED_COLOUR};margin-bottom:4px;`),
    `<p style="margin:0 0 16px 0;${font}font-size:14px;line-height:1.5;color:${MUTED_COLOUR};word-break:break-all;">${e(link)}</p>`,
    '</td></tr>',
    `<tr><td style="padding:16px 24px;border-top:1px solid #dddddd;${font}font-size:13px;line-height:1.5;color:${MUTED_COLOUR};">`,
    ...(support ? [`<p style="margin:0 0 8px 0;">${e(m.support(support))}</p>`] : []),
    ...(recipient ? [`<p style="margin:0 0 8px 0;">${e(m.sentTo(recipient))}</p>`] : []),
    ...(footer.length ? [`<p style="margin:0;">${footer.map(e).join('<br>')}</p>`] : []),
    '</td></tr>',
    '</table>',
    '</td></tr>',
    '</table>',
    '</body>',
    '</html>',
    '',
  ].join('\r\n');

  return { subject, text, html, link };
}
