/**
 * The portal notification builder: link format, token checks, escaping of
 * hostile values, WCAG contrast choice, expiry rendering and the PHI rule
 * (only what the input can carry reaches the mail).
 */
import { describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { NEUTRAL_SUBJECT, outerSubject } from '../../src/policy/decide.js';
import {
  buildPortalNotification,
  contrastRatio,
  defangLinks,
  escapeHtml,
  formatExpiry,
  logoUrl,
  messages,
  portalLink,
  safeDisplayName,
  sanitizeLine,
  textColourOn,
  type PortalBranding,
  type PortalNotificationInput,
} from '../../src/portal/notification.js';

const NOW = Date.UTC(2026, 11, 4, 9, 30, 0);
const DAY = 86_400_000;
const TOKEN = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde'; // 43 chars
const BRANDING: PortalBranding = { organisationName: 'Riverside Clinic', colour: '#1f4e79', supportContact: 'help@riverside.example', footer: 'Confidential.\nRiverside Clinic, 1 Main St.' };

function input(over: Partial<PortalNotificationInput> = {}): PortalNotificationInput {
  return {
    branding: BRANDING,
    publicUrl: 'https://secure.riverside.example',
    token: TOKEN,
    senderDisplayName: 'Dr Ann Lee',
    senderAddress: 'ann.lee@riverside.example',
    recipientAddress: 'pat@gmail.example',
    subject: { outer: NEUTRAL_SUBJECT },
    expiresAt: NOW + 30 * DAY,
    now: NOW,
    ...over,
  };
}

function expectInvalid(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (err) {
    expect(isSealgateError(err, 'SG_PORTAL_NOTIFICATION_INVALID')).toBe(true);
    expect((err as { detail?: Record<string, unknown> }).detail?.field).toBe(field);
    expect((err as Error).message).not.toContain('!');
    return;
  }
  throw new Error('expected SG_PORTAL_NOTIFICATION_INVALID');
}

describe('link', () => {
  it.each([
    ['https://secure.riverside.example', undefined, `https://secure.riverside.example/m/${TOKEN}`],
    ['https://secure.riverside.example/', undefined, `https://secure.riverside.example/m/${TOKEN}`],
    ['https://riverside.example/portal', undefined, `https://riverside.example/portal/m/${TOKEN}`],
    ['https://riverside.example/portal/', 'k3y-Part_9', `https://riverside.example/portal/m/${TOKEN}#k3y-Part_9`],
    ['https://secure.riverside.example:8443', 'abc', `https://secure.riverside.example:8443/m/${TOKEN}#abc`],
    ['http://localhost:8443', undefined, `http://localhost:8443/m/${TOKEN}`],
  ])('%s + fragment %s → %s', (publicUrl, fragment, expected) => {
    expect(portalLink(publicUrl, TOKEN, fragment)).toBe(expected);
    const n = buildPortalNotification(input({ publicUrl, linkFragment: fragment }));
    expect(n.link).toBe(expected);
    expect(n.text.split('\r\n')).toContain(expected); // on a line of its own
    expect(n.html).toContain(`href="${expected}"`);
  });

  it.each([
    ['too short (21 chars)', 'AbCdEfGhIjKlMnOpQrStU'],
    ['empty', ''],
    ['padding', `${TOKEN.slice(0, 42)}=`],
    ['standard base64 +/', `${TOKEN.slice(0, 40)}+/a`],
    ['path traversal', '../../../etc/passwd/AAAAAAAAAAAA'],
    ['quote injection', `${TOKEN}"><script>alert(1)</script>`],
    ['space', `${TOKEN.slice(0, 30)} ${TOKEN.slice(31)}`],
    ['CRLF', `${TOKEN}\r\nBcc: x@evil.example`],
    ['fragment in token', `${TOKEN}#x`],
    ['too long', 'A'.repeat(513)],
  ])('refuses a token: %s', (_label, token) => {
    expectInvalid(() => buildPortalNotification(input({ token })), 'token');
  });

  it('accepts a token of exactly 22 base64url characters (128 bits)', () => {
    expect(portalLink('https://a.example', 'A'.repeat(21) + '_')).toBe(`https://a.example/m/${'A'.repeat(21)}_`);
  });

  it.each([
    ['"><script>', 'linkFragment'],
    ['a b', 'linkFragment'],
    ['', 'linkFragment'],
  ])('refuses a fragment %j', (linkFragment, field) => {
    expectInvalid(() => buildPortalNotification(input({ linkFragment })), field);
  });

  it.each([
    ['ftp://secure.example'],
    ['http://secure.example'],
    ['https://secure.example/?q=1'],
    ['https://secure.example/#x'],
    ['https://secure.example/a"b'],
    ['not a url'],
  ])('refuses publicUrl %s', (publicUrl) => {
    expectInvalid(() => buildPortalNotification(input({ publicUrl })), 'publicUrl');
  });

  it('refuses an expiry not after now', () => {
    expectInvalid(() => buildPortalNotification(input({ expiresAt: NOW })), 'expiresAt');
    expectInvalid(() => buildPortalNotification(input({ expiresAt: Number.NaN })), 'expiresAt');
  });
});

describe('escaping', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"quoted" \'single\'', '&quot;quoted&quot; &#39;single&#39;'],
    ['Tom & Jerry', 'Tom &amp; Jerry'],
    ['&amp;', '&amp;amp;'],
    ['`x`', '&#96;x&#96;'],
    ['plain', 'plain'],
  ])('escapeHtml(%j) = %j', (raw, escaped) => {
    expect(escapeHtml(raw)).toBe(escaped);
  });

  const HOSTILE = [
    '<img src=x onerror=alert(1)>',
    '"><script>alert(1)</script>',
    "'><svg onload=alert(1)>",
    'javascript:alert(1)',
    '<a href="https://evil.example">click</a>',
  ];
  const RAW_DANGER = ['<img', '<script', '<svg', 'onerror=alert(1)>', '"><script', "'><svg", 'href="https://evil', 'javascript:', '<a href="https://evil'];

  it.each(HOSTILE)('hostile display name %j is escaped and defanged', (name) => {
    const n = buildPortalNotification(input({ senderDisplayName: name }));
    for (const d of RAW_DANGER) expect(n.html).not.toContain(d);
    expect(n.html.match(/<a /g)?.length).toBe(1); // only our own link
    expect(n.html.match(/<img/g)).toBeNull(); // no logo configured, no injected image
    expect(n.text).not.toContain('javascript:');
    expect(n.text).not.toContain('https://evil');
  });

  it.each(HOSTILE)('hostile outer subject %j is escaped', (outer) => {
    const n = buildPortalNotification(input({ subject: { outer } }));
    for (const d of RAW_DANGER.filter((x) => x !== 'javascript:')) expect(n.html).not.toContain(d);
    expect(n.html.match(/<a /g)?.length).toBe(1);
  });

  it.each(HOSTILE)('hostile branding strings %j are escaped', (s) => {
    const n = buildPortalNotification(input({ branding: { organisationName: s, colour: '#1f4e79', supportContact: s, footer: `${s}\n${s}` } }));
    for (const d of RAW_DANGER.filter((x) => x !== 'javascript:')) expect(n.html).not.toContain(d);
    expect(n.html.match(/<a /g)?.length).toBe(1);
  });

  it.each([
    ['Secure message\r\nBcc: victim@example.org'],
    ['Secure message\nContent-Type: text/html'],
    ['Secure message\rX-Injected: 1'],
    ['Secure\u0000message\u2028Bcc: x@y'],
    ['Secure message\u0085Bcc: x@y'],
  ])('CRLF injection in the subject is flattened: %j', (outer) => {
    const n = buildPortalNotification(input({ subject: { outer } }));
    expect(n.subject).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
    expect(n.subject.startsWith('Riverside Clinic: Secure')).toBe(true);
  });

  it('CRLF injection in the display name and organisation name is flattened', () => {
    const n = buildPortalNotification(input({ senderDisplayName: 'Ann\r\nBcc: victim@example.org', branding: { ...BRANDING, organisationName: 'Clinic\r\nX-Evil: 1' } }));
    expect(n.subject).toBe('Clinic X-Evil: 1: Secure message');
    expect(n.subject).not.toMatch(/[\r\n]/);
    expect(n.text).not.toContain('\r\nBcc:');
    expect(n.html).not.toContain('\nBcc:');
  });

  it.each([
    ['Ann Lee', 'Ann Lee'],
    ['"Ann Lee"', 'Ann Lee'],
    ['  Ann \t Lee  ', 'Ann Lee'],
    ['Ann\u202eeeL', 'AnneeL'], // bidi override removed
    ['Ann\u200bLee', 'AnnLee'],
    ['https://evil.example/login', 'https[:]//evil[.]example/login'],
    ['www.evil.example', 'www[.]evil[.]example'],
    ['support@bank.example', 'support[at]bank[.]example'],
    ['Dr. Ann Lee', 'Dr. Ann Lee'],
    ['\r\n\t', undefined],
    [undefined, undefined],
  ])('safeDisplayName(%j) = %j', (raw, shown) => {
    expect(safeDisplayName(raw)).toBe(shown);
  });

  it('bounds the display name to 100 characters', () => {
    const shown = safeDisplayName('A'.repeat(5000)) as string;
    expect(Array.from(shown).length).toBeLessThanOrEqual(100);
    expect(shown.endsWith('…')).toBe(true);
    const n = buildPortalNotification(input({ senderDisplayName: 'B'.repeat(5000) }));
    expect(n.html).not.toContain('B'.repeat(101));
    expect(n.text).not.toContain('B'.repeat(101));
  });

  it.each([
    ['a.b', 'a[.]b'],
    ['end.', 'end.'],
    ['mailto:x', 'mailto[:]x'],
    ['Note: hi', 'Note: hi'],
  ])('defangLinks(%j) = %j', (raw, out) => {
    expect(defangLinks(raw)).toBe(out);
  });

  it('sanitizeLine cuts at the limit with an ellipsis', () => {
    expect(sanitizeLine('abcdef', 4)).toBe('abc…');
    expect(sanitizeLine('abcd', 4)).toBe('abcd');
  });
});

describe('contrast', () => {
  it.each([
    ['#ffffff', '#000000', 21],
    ['#ffffff', '#ffffff', 1],
    ['#ffffff', '#1f4e79', 8.66],
    ['#ffffff', '#ffff00', 1.07],
    ['#ffffff', '#767676', 4.54],
    ['#ffffff', '#777777', 4.48],
  ])('contrastRatio(%s, %s) ≈ %d', (a, b, ratio) => {
    expect(contrastRatio(a, b)).toBeCloseTo(ratio, 1);
    expect(contrastRatio(b, a)).toBeCloseTo(ratio, 1);
  });

  it.each([
    ['#1f4e79', '#ffffff'],
    ['#000000', '#ffffff'],
    ['#767676', '#ffffff'],
    ['#777777', '#000000'],
    ['#ffff00', '#000000'],
    ['#FFFFFF', '#000000'],
    ['#00ff00', '#000000'],
    ['#d32f2f', '#ffffff'],
  ])('text on %s is %s', (bg, fg) => {
    expect(textColourOn(bg)).toBe(fg);
  });

  it('the chosen text colour always reaches 4.5:1', () => {
    for (let v = 0; v < 0x1000000; v += 0x0f0f0f / 3) {
      const bg = `#${Math.floor(v).toString(16).padStart(6, '0')}`;
      expect(contrastRatio(textColourOn(bg), bg)).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('the button on a yellow brand colour uses dark text', () => {
    const n = buildPortalNotification(input({ branding: { ...BRANDING, colour: '#ffff00' } }));
    expect(n.html).toMatch(/<a href="[^"]+" style="[^"]*color:#000000;background-color:#ffff00;/);
    const dark = buildPortalNotification(input());
    expect(dark.html).toMatch(/<a href="[^"]+" style="[^"]*color:#ffffff;background-color:#1f4e79;/);
  });
});

describe('expiry', () => {
  it.each([
    [Date.UTC(2027, 0, 3, 9, 30), 'Sunday, 3 January 2027, 09:30 UTC', '2027-01-03'],
    [Date.UTC(2026, 11, 31, 23, 59), 'Thursday, 31 December 2026, 23:59 UTC', '2026-12-31'],
    [Date.UTC(2028, 1, 29, 0, 5), 'Tuesday, 29 February 2028, 00:05 UTC', '2028-02-29'],
  ])('formatExpiry(%d)', (at, human, iso) => {
    expect(formatExpiry(at)).toEqual({ human, iso });
  });

  it.each([
    [30 * DAY, '30 days from now'],
    [DAY, '1 day from now'],
    [DAY + 5, '1 day from now'],
    [3600_000, 'less than a day from now'],
  ])('expiry %d ms after now reads "%s"', (after, remaining) => {
    const n = buildPortalNotification(input({ expiresAt: NOW + after }));
    const { human, iso } = formatExpiry(NOW + after);
    expect(n.text).toContain(`You can read it until ${human} (${iso}), ${remaining}.`);
    expect(n.html).toContain(escapeHtml(`${human} (${iso})`));
  });

  it('a fixed clock gives the same mail', () => {
    expect(buildPortalNotification(input())).toEqual(buildPortalNotification(input()));
    expect(buildPortalNotification(input()).text).toContain('Sunday, 3 January 2027, 09:30 UTC (2027-01-03), 30 days from now');
  });
});

describe('content', () => {
  it('contains the branding, sender, outer subject and link, with lang and a descriptive link', () => {
    const n = buildPortalNotification(input());
    expect(n.subject).toBe('Riverside Clinic: Secure message');
    expect(n.html).toContain('<html lang="en"');
    expect(n.html).toContain(`<a href="https://secure.riverside.example/m/${TOKEN}"`);
    expect(n.html).toContain(`>${messages.en.button}</a>`);
    expect(n.html).not.toMatch(/<style|<link|<script|class=/i); // inline CSS only
    for (const s of ['Riverside Clinic', 'Dr Ann Lee', 'ann.lee@riverside.example', 'help@riverside.example', 'Confidential.', 'Riverside Clinic, 1 Main St.']) {
      expect(n.text).toContain(s);
      expect(n.html).toContain(escapeHtml(s));
    }
    expect(n.html).toContain('Confidential.<br>Riverside Clinic, 1 Main St.');
    expect(n.text).not.toMatch(/<[a-z]/i);
  });

  it('without a display name shows the address', () => {
    const n = buildPortalNotification(input({ senderDisplayName: undefined }));
    expect(n.text).toContain('ann.lee@riverside.example sent you a secure message through Riverside Clinic.');
  });

  it.each([
    ['https://cdn.riverside.example/logo.png', true],
    ['http://cdn.riverside.example/logo.png', false],
    ['/etc/sealgate/logo.png', false],
    ['logo.svg', false],
    ['javascript:alert(1)', false],
    ['https://user:pw@cdn.example/logo.png', false],
    ['https://cdn.example/a"onerror="x.png', false],
    [undefined, false],
  ])('logo %j shown: %s', (logo, shown) => {
    expect(logoUrl(logo) !== undefined).toBe(shown);
    const n = buildPortalNotification(input({ branding: { ...BRANDING, ...(logo === undefined ? {} : { logo }) } }));
    expect(n.html.includes('<img')).toBe(shown);
    if (shown) expect(n.html).toContain(`<img src="${logo}" alt="Riverside Clinic logo"`);
  });

  it('no PHI: nothing of the original message reaches the mail', () => {
    // what the original message held; none of it is (or can be) passed in
    const originalSubject = 'Lab results for Jane Roe: HIV positive, MRN 4481-2290';
    const FORBIDDEN = [
      originalSubject,
      'Jane Roe',
      'HIV',
      'MRN',
      '4481-2290',
      'Dear Jane, your biopsy showed carcinoma',
      'biopsy',
      'carcinoma',
      'lab-report-jane-roe.pdf',
      'lab-report',
      '.pdf',
    ];
    const outer = outerSubject(originalSubject, true, 'portal').outer;
    expect(outer).toBe(NEUTRAL_SUBJECT);
    const n = buildPortalNotification(input({ subject: { outer }, linkFragment: 'zkPart' }));
    for (const out of [n.subject, n.text, n.html, n.link]) {
      for (const f of FORBIDDEN) expect(out.toLowerCase()).not.toContain(f.toLowerCase());
    }
  });
});
