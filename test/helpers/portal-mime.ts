/**
 * Test messages for the portal pages: real MIME (multipart/mixed with an
 * HTML and a text body, an inline cid: image and a binary attachment), and
 * a hostile variant whose HTML tries every way to run script or load
 * something.
 */
import { createHash } from 'node:crypto';

/** A 1×1 transparent PNG. */
export const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

/** Deterministic "binary" attachment bytes (every byte value occurs). */
export function attachmentBytes(size = 70_000): Buffer {
  const out = Buffer.alloc(size);
  let block = Buffer.alloc(0);
  for (let i = 0; i < size; i++) {
    if (i % 32 === 0) block = createHash('sha256').update(`attachment-${i}`).digest();
    out[i] = block[i % 32] as number;
  }
  return out;
}

export const BODY_SECRET = 'Your potassium is 4.1 mmol/L (normal).';
export const SUBJECT = 'Your lab results from 2 December';
export const ATTACHMENT_NAME = 'Lab results – März.pdf';

function base64Lines(b: Buffer): string {
  return (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

export interface MimeOptions {
  readonly html?: string;
  readonly text?: string;
  readonly to?: string;
  readonly cc?: string;
  readonly bcc?: string;
  readonly attachment?: Buffer;
  readonly subject?: string;
}

export function buildMime(o: MimeOptions = {}): string {
  const html =
    o.html ??
    `<html><head><style>p{color:red}</style></head><body><h2>Results</h2><p>${BODY_SECRET}</p>` +
      '<p><img src="cid:logo1@clinic.example" alt="Clinic logo"></p>' +
      '<p><img src="https://images.example/track.png" alt="Tracking pixel"></p>' +
      '<p>See <a href="https://clinic.example/help">our help page</a>.</p>' +
      `<p>Reference ${'R'.repeat(120)}</p>` +
      '<table width="700"><tr><td width="350">Left column of a fixed-width layout</td><td width="350">Right column</td></tr></table></body></html>';
  const text = o.text ?? `Results\r\n\r\n${BODY_SECRET}\r\n`;
  const attachment = o.attachment ?? attachmentBytes();
  return [
    'From: "Dr. Who" <dr.who@clinic.example>',
    `To: ${o.to ?? 'Pat Example <pat@gmail.example>'}`,
    ...(o.cc === '' ? [] : [`Cc: ${o.cc ?? 'carer@outlook.example'}`]),
    ...(o.bcc ? [`Bcc: ${o.bcc}`] : []),
    `Subject: ${o.subject ?? SUBJECT}`,
    'Date: Wed, 02 Dec 2026 14:30:00 +0000',
    'Message-ID: <portal-web-test@clinic.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mixed-b"',
    '',
    '--mixed-b',
    'Content-Type: multipart/related; boundary="related-b"',
    '',
    '--related-b',
    'Content-Type: multipart/alternative; boundary="alt-b"',
    '',
    '--alt-b',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    text,
    '--alt-b',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    html,
    '--alt-b--',
    '',
    '--related-b',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    'Content-ID: <logo1@clinic.example>',
    'Content-Disposition: inline; filename="logo.png"',
    '',
    base64Lines(TINY_PNG),
    '--related-b--',
    '',
    '--mixed-b',
    'Content-Type: application/pdf; name="=?utf-8?Q?Lab_results_=E2=80=93_M=C3=A4rz.pdf?="',
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent(ATTACHMENT_NAME)}`,
    '',
    base64Lines(attachment),
    '--mixed-b--',
    '',
  ].join('\r\n');
}

/** HTML that tries to run script or reach `origin` (a loopback listener that counts requests). */
export function hostileHtml(origin: string): string {
  return [
    '<html><head>',
    `<base href="${origin}/base/">`,
    `<meta http-equiv="refresh" content="0;url=${origin}/refresh">`,
    `<link rel="stylesheet" href="${origin}/link.css">`,
    `<style>body { background: url(${origin}/style-url) } @import url(${origin}/import.css);</style>`,
    '<script>window.__pwned = "script"; alert("script")</script>',
    '</head><body>',
    `<p id="victim">${BODY_SECRET}</p>`,
    '<img src=x onerror="window.__pwned=\'onerror\';alert(1)">',
    `<img src="${origin}/img" alt="remote http">`,
    `<img src="https://127.0.0.1:1/img-https" alt="remote https">`,
    `<img srcset="${origin}/srcset 1x" src="cid:nothing">`,
    '<a href="javascript:window.__pwned=\'link\';alert(1)" id="jslink">click me</a>',
    '<a href="jav&#x09;ascript:alert(1)">obfuscated</a>',
    '<svg><script>window.__pwned="svg"</script><image href="' + origin + '/svg-image"/></svg>',
    `<div style="background:url(${origin}/css)">styled</div>`,
    `<table background="${origin}/table-bg"><tr><td background="${origin}/td-bg">cell</td></tr></table>`,
    `<form action="${origin}/form" method="post"><input name="q" value="x"><button id="formbutton">Send</button></form>`,
    `<iframe src="${origin}/iframe"></iframe>`,
    `<object data="${origin}/object"></object><embed src="${origin}/embed">`,
    `<video poster="${origin}/poster" src="${origin}/video"></video><audio src="${origin}/audio"></audio>`,
    `<input type="image" src="${origin}/input-image">`,
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned=\'mxss\'">',
    '<noscript><p title="</noscript><img src=x onerror=window.__pwned=\'noscript\'>"></noscript>',
    '<a href="data:text/html,<script>alert(1)</script>">data link</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4=" alt="svg data">',
    '<details open ontoggle="window.__pwned=\'toggle\'"><summary>more</summary>x</details>',
    '</body></html>',
  ].join('\n');
}
