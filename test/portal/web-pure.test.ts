/**
 * The pure parts of the portal's web pages, table-driven: the HTML
 * sanitiser against XSS and remote-loading vectors, link checks, masked
 * addresses, file names and Content-Disposition, the CSP, the pre-session
 * CSRF tokens and the link states.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPreSessionToken, derivePortalCsrfKey, PRE_SESSION_TTL_MS, preSessionToken, sameSecret } from '../../src/portal/http/csrf.js';
import { goneKind } from '../../src/portal/http/context.js';
import { contentDisposition, formatSize, maskAddress, safeContentType, safeFilename } from '../../src/portal/http/format.js';
import { contentSecurityPolicy, logoOriginOf } from '../../src/portal/http/headers.js';
import { safeHref, sanitizeMessageHtml } from '../../src/portal/http/sanitize.js';
import { buildStylesheet } from '../../src/portal/http/stylesheet.js';
import type { TokenMatch } from '../../src/portal/portal-store.js';

const PNG_DATA = 'data:image/png;base64,iVBORw0KGgo=';
const opts = (showRemoteImages = false) => ({
  showRemoteImages,
  inlineImage: (cid: string) => (cid === 'logo@x' ? PNG_DATA : cid === 'svg@x' ? 'data:image/svg+xml;base64,PHN2Zz4=' : undefined),
  placeholder: (alt: string) => (alt ? `[image: ${alt}]` : '[image]'),
});
const clean = (html: string, show = false) => sanitizeMessageHtml(html, opts(show));

/** Nothing that can run, load or restyle may survive. */
function expectInert(out: string): void {
  expect(out).not.toMatch(/<script|<style|<link|<meta|<base|<iframe|<object|<embed|<svg|<math|<form|<input|<button|<video|<audio|<frame|<template/i);
  expect(out).not.toMatch(/\son[a-z]+\s*=/i);
  expect(out).not.toMatch(/style\s*=|srcset|background\s*=|poster|formaction/i);
  expect(out).not.toMatch(/javascript:|vbscript:|data:text|data:image\/svg/i);
  expect(out).not.toMatch(/url\(|@import/i);
  expect(out).not.toMatch(/https?:\/\/evil/i);
}

describe('sanitizeMessageHtml: hostile input', () => {
  it.each([
    ['script tag', '<p>hi</p><script>alert(1)</script>', '<p>hi</p>'],
    ['script with odd case and attributes', '<ScRiPt src="http://evil.example/x.js"></sCrIpT>ok', 'ok'],
    ['event handler on an image', '<img src=x onerror="alert(1)">', '<span class="sg-image">[image]</span>'],
    ['event handler on a paragraph', '<p onclick="alert(1)" onmouseover=alert(2)>t</p>', '<p>t</p>'],
    ['javascript: link', '<a href="javascript:alert(1)">x</a>', '<a>x</a>'],
    ['javascript: link with entity-encoded tab', '<a href="jav&#x09;ascript:alert(1)">x</a>', '<a>x</a>'],
    ['javascript: link with leading space and case', '<a href="  JaVaScRiPt:alert(1)">x</a>', '<a>x</a>'],
    ['vbscript: link', '<a href="vbscript:msgbox(1)">x</a>', '<a>x</a>'],
    ['data: link', '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>', '<a>x</a>'],
    ['protocol-relative link', '<a href="//evil.example/">x</a>', '<a>x</a>'],
    ['relative link (would hit the portal)', '<a href="/m/x/sign-out">x</a>', '<a>x</a>'],
    ['link with credentials', '<a href="https://user:pw@evil.example/">x</a>', '<a>x</a>'],
    ['SVG with script', '<svg><script>alert(1)</script><circle r="5"/></svg>after', 'after'],
    ['SVG with onload', '<svg onload="alert(1)"><text>t</text></svg>', ''],
    ['MathML', '<math><mi xlink:href="javascript:alert(1)">x</mi></math>', ''],
    ['CSS url() in a style attribute', '<div style="background:url(http://evil.example/css)">s</div>', '<div>s</div>'],
    ['CSS expression in a style attribute', '<p style="width:expression(alert(1))">s</p>', '<p>s</p>'],
    ['<style> block with url() and @import', '<style>@import url(http://evil.example/a.css); body{background:url(http://evil.example/b)}</style><p>t</p>', '<p>t</p>'],
    ['<link rel=stylesheet>', '<link rel="stylesheet" href="http://evil.example/s.css"><p>t</p>', '<p>t</p>'],
    ['<base href>', '<base href="http://evil.example/"><a href="x">r</a>', '<a>r</a>'],
    ['<meta http-equiv=refresh>', '<meta http-equiv="refresh" content="0;url=http://evil.example/">t', 't'],
    ['<form> with inputs', '<form action="http://evil.example/"><input name="pw"><button>Go</button></form>rest', 'rest'],
    ['<input type=image>', '<input type="image" src="http://evil.example/i">', ''],
    ['<iframe>', '<iframe src="http://evil.example/"></iframe>t', 't'],
    ['<object> and <embed>', '<object data="http://evil.example/o"></object><embed src="http://evil.example/e">t', 't'],
    ['<video poster> and <audio>', '<video poster="http://evil.example/p"></video><audio src="http://evil.example/a"></audio>t', 't'],
    ['background attribute', '<table background="http://evil.example/b"><tr><td background="http://evil.example/c">c</td></tr></table>', '<table><tr><td>c</td></tr></table>'],
    ['srcset on an image', '<img srcset="http://evil.example/s 1x" alt="a">', '<span class="sg-image">[image: a]</span>'],
    ['remote http image', '<img src="http://evil.example/i.png" alt="pic">', '<span class="sg-image">[image: pic]</span>'],
    ['relative image (would hit the portal)', '<img src="/m/x/sign-out" alt="">', '<span class="sg-image">[image]</span>'],
    ['SVG data: image', '<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="s">', '<span class="sg-image">[image: s]</span>'],
    ['cid: of an SVG part', '<img src="cid:svg@x" alt="s">', '<span class="sg-image">[image: s]</span>'],
    ['cid: of a missing part', '<img src="cid:none@x">', '<span class="sg-image">[image]</span>'],
    ['noscript mXSS', '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', ''],
    ['math/style mXSS', '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>', ''],
    ['textarea breakout', '<textarea></textarea><script>alert(1)</script></textarea>', ''],
    ['details ontoggle', '<details open ontoggle="alert(1)"><summary>s</summary>d</details>', '<details><summary>s</summary>d</details>'],
    ['class and id (page style and anchor clobbering)', '<p class="alert" id="main">t</p>', '<p>t</p>'],
    ['alt text with markup', '<img src="http://evil.example/x" alt="<b>bold</b>">', '<span class="sg-image">[image: &lt;b&gt;bold&lt;/b&gt;]</span>'],
    ['unclosed tags are closed', '<div><p><b>bold', '<div><p><b>bold</b></p></div>'],
  ])('%s', (_name, input, expected) => {
    const out = clean(input).html;
    expect(out).toBe(expected);
    expectInert(out);
  });

  it('keeps ordinary mail formatting', () => {
    const input =
      '<h1>T</h1><p dir="rtl" lang="he">p <b>b</b> <i>i</i> <u>u</u> <s>s</s><br>x</p><ul><li>a</li></ul><ol start="3"><li>b</li></ol>' +
      '<blockquote>q</blockquote><pre>  code</pre><table width="100%"><thead><tr><th scope="col">h</th></tr></thead><tbody><tr><td colspan="2" align="right">c</td></tr></tbody></table><hr>';
    expect(clean(input).html).toBe(input.replace('<br>', '<br />').replace('<hr>', '<hr />'));
  });

  it('opens links in a new tab without referrer or opener, whatever the message said', () => {
    expect(clean('<a href="https://ok.example/p?a=1&amp;b=2" target="_self" rel="opener">ok</a>').html).toBe(
      '<a href="https://ok.example/p?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">ok</a>',
    );
    expect(clean('<a href="mailto:help@clinic.example">m</a>').html).toBe('<a href="mailto:help@clinic.example" target="_blank" rel="noopener noreferrer">m</a>');
  });

  it('blocks https images by default, counts them, and shows them on request', () => {
    const input = '<img src="https://img.example/a.png" alt="A"><img src="https://img.example/b.png">';
    const blocked = clean(input);
    expect(blocked.html).toBe('<span class="sg-image">[image: A]</span><span class="sg-image">[image]</span>');
    expect(blocked.blockedImages).toBe(2);
    const shown = clean(input, true);
    expect(shown.html).toBe('<img src="https://img.example/a.png" alt="A" /><img src="https://img.example/b.png" alt="" />');
    expect(shown.blockedImages).toBe(0);
    // http images stay blocked even when images are shown (and are not counted: showing cannot help)
    expect(clean('<img src="http://img.example/a.png" alt="A">', true).html).toBe('<span class="sg-image">[image: A]</span>');
  });

  it('embeds cid: raster images and reports which parts it used', () => {
    const out = clean('<img src="cid:logo@x" alt="Logo" width="120" height="40" onload="x()">');
    expect(out.html).toBe(`<img src="${PNG_DATA}" alt="Logo" width="120" height="40" />`);
    expect([...out.usedCids]).toEqual(['logo@x']);
    expect(clean(`<img src="${PNG_DATA}" alt="d">`).html).toBe(`<img src="${PNG_DATA}" alt="d" />`);
  });
});

describe('safeHref', () => {
  it.each([
    ['https://a.example/x', 'https://a.example/x'],
    ['http://a.example', 'http://a.example/'],
    ['mailto:a@b.example', 'mailto:a@b.example'],
    ['javascript:alert(1)', undefined],
    ['java\tscript:alert(1)', undefined],
    ['\u0000javascript:alert(1)', undefined],
    ['ftp://a.example/', undefined],
    ['//a.example/', undefined],
    ['/relative', undefined],
    ['#frag', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (input, expected) => {
    expect(safeHref(input)).toBe(expected);
  });
});

describe('formatting', () => {
  it.each([
    ['patient@gmail.com', 'p\u2022\u2022\u2022@gmail.com'],
    ['p@gmail.com', 'p\u2022\u2022\u2022@gmail.com'],
    ['Ärzte@klinik.example', '\u00c4\u2022\u2022\u2022@klinik.example'],
    ['no-at-sign', '\u2022\u2022\u2022'],
    ['@domain.example', '\u2022\u2022\u2022'],
  ])('maskAddress(%j) = %j', (input, expected) => {
    expect(maskAddress(input)).toBe(expected);
  });

  it.each([
    ['report.pdf', 0, 'report.pdf'],
    ['../../etc/passwd', 0, 'passwd'],
    ['C:\\Users\\x\\evil.exe', 0, 'evil.exe'],
    ['a\u202egpj.exe', 0, 'agpj.exe'],
    ['line\r\nbreak.txt', 0, 'line break.txt'],
    ['.hidden', 0, 'hidden'],
    ['', 2, 'attachment-3'],
    [undefined, 0, 'attachment-1'],
    ['q"uote<>.txt', 0, 'q_uote__.txt'],
  ])('safeFilename(%j, %d) = %j', (input, index, expected) => {
    expect(safeFilename(input, index)).toBe(expected);
  });

  it('bounds long file names and keeps the extension', () => {
    const name = safeFilename(`${'x'.repeat(400)}.pdf`, 0);
    expect(Array.from(name)).toHaveLength(150);
    expect(name.endsWith('.pdf')).toBe(true);
  });

  it.each([
    ['report.pdf', `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`],
    ['Lab – März.pdf', `attachment; filename="Lab _ M_rz.pdf"; filename*=UTF-8''Lab%20%E2%80%93%20M%C3%A4rz.pdf`],
    ["it's (1) 100%;.txt", `attachment; filename="it's (1) 100__.txt"; filename*=UTF-8''it%27s%20%281%29%20100%25%3B.txt`],
  ])('contentDisposition(%j)', (input, expected) => {
    expect(contentDisposition(input)).toBe(expected);
  });

  it.each([
    ['application/pdf', 'application/pdf'],
    ['IMAGE/PNG', 'image/png'],
    ['text/html; charset=utf-8', 'application/octet-stream'],
    ['nonsense', 'application/octet-stream'],
    [undefined, 'application/octet-stream'],
  ])('safeContentType(%j) = %j', (input, expected) => {
    expect(safeContentType(input)).toBe(expected);
  });

  it.each([
    [0, '0 bytes'],
    [1, '1 byte'],
    [1023, '1023 bytes'],
    [1536, '1.5 KB'],
    [70_000, '68 KB'],
    [5 * 1024 * 1024, '5 MB'],
  ])('formatSize(%d) = %j', (input, expected) => {
    expect(formatSize(input)).toBe(expected);
  });
});

describe('headers', () => {
  it('the CSP has no scripts and allows https images only when asked', () => {
    const strict = contentSecurityPolicy();
    expect(strict).toBe("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    expect(contentSecurityPolicy({ remoteImages: true })).toContain("img-src 'self' data: https:;");
    expect(contentSecurityPolicy({ logoOrigin: 'https://cdn.example' })).toContain("img-src 'self' data: https://cdn.example;");
    expect(logoOriginOf('https://cdn.example/logo.png')).toBe('https://cdn.example');
    expect(logoOriginOf('http://cdn.example/logo.png')).toBeUndefined();
    expect(logoOriginOf('/etc/logo.png')).toBeUndefined();
  });

  it('the stylesheet picks black or white text on the accent colour', () => {
    expect(buildStylesheet('#1f4e79').css).toContain('--on-accent: #ffffff;');
    expect(buildStylesheet('#ffff00').css).toContain('--on-accent: #000000;');
    expect(buildStylesheet('#1f4e79').version).not.toBe(buildStylesheet('#ffff00').version);
  });
});

describe('pre-session CSRF tokens', () => {
  const key = derivePortalCsrfKey(randomBytes(32));
  const cookie = randomBytes(32).toString('base64url');
  const link = 'a'.repeat(64);
  const now = 1_800_000_000_000;
  const token = preSessionToken(key, cookie, link, now);

  it.each([
    ['the same cookie and link, now', key, cookie, link, token, now, true],
    ['59 minutes later', key, cookie, link, token, now + PRE_SESSION_TTL_MS - 60_000, true],
    ['after an hour', key, cookie, link, token, now + PRE_SESSION_TTL_MS + 1, false],
    ['issued far in the future', key, cookie, link, preSessionToken(key, cookie, link, now + 3_600_000), now, false],
    ['another cookie', key, randomBytes(32).toString('base64url'), link, token, now, false],
    ['no cookie', key, undefined, link, token, now, false],
    ['another link', key, cookie, 'b'.repeat(64), token, now, false],
    ['another key', derivePortalCsrfKey(randomBytes(32)), cookie, link, token, now, false],
    ['a changed timestamp', key, cookie, link, token.replace(/^\d+/, String(now + 1)), now, false],
    ['a truncated MAC', key, cookie, link, token.slice(0, -1), now, false],
    ['not a string', key, cookie, link, ['x'], now, false],
    ['empty', key, cookie, link, '', now, false],
  ])('%s', (_name, k, c, l, t, at, ok) => {
    expect(checkPreSessionToken(k, c, l, t, at)).toBe(ok);
  });

  it('sameSecret compares strings of any length without throwing', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret(undefined, 'abc')).toBe(false);
    expect(sameSecret(['abc'], 'abc')).toBe(false);
  });
});

describe('link states', () => {
  const match = (m: Partial<TokenMatch>): TokenMatch => ({
    depositId: 'd',
    queueId: 'q',
    recipient: { seq: 0, address: 'a@b.example', bcc: false, notifiedAt: null, openedAt: null },
    createdAt: 0,
    expiresAt: 1000,
    revokedAt: null,
    shreddedAt: null,
    linkKey: false,
    ...m,
  });
  it.each([
    ['live', match({}), 999, undefined],
    ['expired at the second', match({}), 1000, 'expired'],
    ['revoked (even when expired or shredded)', match({ revokedAt: 5, shreddedAt: 6 }), 2000, 'withdrawn'],
    ['shredded before expiry', match({ shreddedAt: 5 }), 500, 'unavailable'],
    ['shredded at expiry', match({ shreddedAt: 1000 }), 1500, 'expired'],
  ])('%s', (_name, m, now, expected) => {
    expect(goneKind(m, now)).toBe(expected);
  });
});
