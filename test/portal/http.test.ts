/**
 * The portal's web server, for real: fastify on 127.0.0.1 over a real SQLite
 * database, a real object store in a temp directory and a real keyring; a
 * real MIME message deposited through PortalStore; driven with Node's
 * fetch. The code mailer is a port that records the codes (the "mail").
 * Time is the injected clock, so expiry and idle timeouts need no sleeping.
 */
import { request as httpsRequest } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../src/tls/dev-certs.js';
import { ATTACHMENT_NAME, attachmentBytes, BODY_SECRET, buildMime, SUBJECT } from '../helpers/portal-mime.js';
import { Client, csrfOf, DAY, NOW, type PortalWeb, signIn, startPortalWeb } from '../helpers/portal-web.js';

const PAT = 'pat@gmail.example';
const CARER = 'carer@outlook.example';
const HIDDEN = 'hidden@bcc.example';
const RECIPIENTS = [
  { address: PAT, bcc: false },
  { address: CARER, bcc: false },
  { address: HIDDEN, bcc: true },
];

let web: PortalWeb;
let tokens: Record<string, string>;
let depositId: string;
const attachment = attachmentBytes(70_000);

async function freshDeposit(): Promise<void> {
  const dep = await web.deposit(buildMime({ attachment, bcc: HIDDEN }), RECIPIENTS);
  tokens = dep.tokens;
  depositId = dep.depositId;
}

beforeEach(async () => {
  web = await startPortalWeb();
  await freshDeposit();
});

afterEach(async () => {
  await web.stop();
});

const tok = (address = PAT) => tokens[address] as string;

function expectSecurityHeaders(res: Response): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('script-src');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('x-frame-options')).toBe('DENY');
}

async function auditRows(): Promise<{ type: string; data: string }[]> {
  return web.db.all<{ type: string; data: string }>('SELECT type, data FROM audit_log ORDER BY seq');
}

async function auditOf(type: string): Promise<Record<string, unknown>[]> {
  return (await auditRows()).filter((r) => r.type === type).map((r) => JSON.parse(r.data) as Record<string, unknown>);
}

describe('link states and errors', () => {
  it('GET /healthz answers ok with the security headers', async () => {
    const res = await fetch(`${web.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
    expectSecurityHeaders(res);
    expect(res.headers.get('strict-transport-security')).toBeNull(); // plain HTTP
  });

  it.each([
    ['an unknown token', `/m/${'A'.repeat(43)}`],
    ['a token of the wrong length', '/m/abc'],
    ['a token with other characters', `/m/${'A'.repeat(42)}!`],
  ])('%s is a 404 "This link is not valid" page', async (_name, path) => {
    const res = await fetch(web.base + path);
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('This link is not valid');
    expect(html).toContain('<html lang="en"');
    expectSecurityHeaders(res);
  });

  it('an unknown route is a 404 page in the same layout', async () => {
    const res = await fetch(`${web.base}/nothing/here`);
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('Page not found');
    expect(html).toMatch(/<link rel="stylesheet" href="\/static\/portal\.css\?v=[0-9a-f]{12}">/);
    expectSecurityHeaders(res);
  });

  it('a wrong method is a 405 page with Allow', async () => {
    for (const [method, path, allow] of [
      ['POST', '/healthz', 'GET, HEAD'],
      ['PUT', `/m/${tok()}`, 'GET'],
      ['DELETE', `/m/${tok()}/sign-out`, 'GET, POST'],
      ['HEAD', `/m/${tok()}`, 'GET'],
    ] as const) {
      const res = await fetch(web.base + path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      if (method !== 'HEAD') expect(await res.text()).toContain('This action is not possible here');
      expectSecurityHeaders(res);
    }
  });

  it('a form URL opened with GET goes back to the link', async () => {
    const res = await fetch(`${web.base}/m/${tok()}/code`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/m/${tok()}`);
  });

  it('an oversize form is a 413 page; a JSON body a 415 page', async () => {
    const client = new Client(web.base);
    const big = await client.request('POST', `/m/${tok()}/code`, { form: { csrf: 'x', pad: 'a'.repeat(20_000) } });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain('The form was too large');
    expectSecurityHeaders(big);
    const json = await client.request('POST', `/m/${tok()}/code`, { body: '{"csrf":"x"}', headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(415);
    expect(await json.text()).toContain('could not be handled');
  });

  it('an expired message is a 410 page on every route', async () => {
    web.clock = NOW + 30 * DAY; // expiresAt <= now
    for (const [method, path] of [
      ['GET', `/m/${tok()}`],
      ['POST', `/m/${tok()}/code`],
      ['POST', `/m/${tok()}/sign-in`],
      ['GET', `/m/${tok()}/attachments/1`],
    ] as const) {
      const res = await new Client(web.base).request(method, path, method === 'POST' ? { form: { csrf: 'x' } } : {});
      expect(res.status, `${method} ${path}`).toBe(410);
      expect(await res.text()).toContain('This message has expired');
      expectSecurityHeaders(res);
    }
  });

  it('a revoked message is a 410 "withdrawn" page, a shredded one "no longer available"', async () => {
    await web.db.run('UPDATE portal_messages SET revoked_at = ? WHERE deposit_id = ?', [NOW, depositId]);
    const revoked = await fetch(`${web.base}/m/${tok()}`);
    expect(revoked.status).toBe(410);
    expect(await revoked.text()).toContain('This message was withdrawn');

    await freshDeposit();
    await web.portal.shred(depositId, NOW);
    const shredded = await fetch(`${web.base}/m/${tok()}`);
    expect(shredded.status).toBe(410);
    expect(await shredded.text()).toContain('This message is no longer available');
  });

  it('an internal failure is a 500 page without detail, logged by code without the token', async () => {
    const client = new Client(web.base);
    await signIn(web, client, tok(), PAT);
    // the object disappears behind the store's back
    await rm(join(web.dir, 'objects'), { recursive: true, force: true });
    const res = await client.get(`/m/${tok()}`);
    expect(res.status).toBe(500);
    const html = await res.text();
    expect(html).toContain('Something went wrong');
    expect(html).not.toMatch(/SG_|Error|at \w+ \(|\/work\/|objects/);
    expectSecurityHeaders(res);
    const failed = web.logLines.filter((l) => l.includes('PORTAL_REQUEST_FAILED'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toContain('SG_OBJECT_NOT_FOUND');
    for (const t of Object.values(tokens)) expect(web.logLines.join('')).not.toContain(t);
  });
});

describe('signing in and reading', () => {
  it('sign-in page → code mail → code entry → session → message page with body and attachments', async () => {
    const client = new Client(web.base);
    const signInRes = await client.get(`/m/${tok()}`);
    expect(signInRes.status).toBe(200);
    expectSecurityHeaders(signInRes);
    expect(signInRes.headers.get('cache-control')).toBe('no-store');
    const signInHtml = await signInRes.text();
    expect(signInHtml).toContain('p\u2022\u2022\u2022@gmail.example');
    expect(signInHtml).not.toContain(PAT);
    expect(signInHtml).toContain(`<form method="post" action="/m/${tok()}/code">`);
    expect(signInHtml).toContain('Email me a code</button>');
    expect(signInHtml).not.toContain(BODY_SECRET);
    expect(signInHtml).not.toContain(SUBJECT);
    // the pre-session cookie
    const pre = signInRes.headers.getSetCookie().find((c) => c.startsWith('sealgate_pre='));
    expect(pre).toMatch(/HttpOnly/);
    expect(pre).toMatch(/SameSite=Strict/);
    expect(pre).toMatch(/Path=\//);

    const codeRes = await client.post(`/m/${tok()}/code`, { csrf: csrfOf(signInHtml) });
    expect(codeRes.status).toBe(200);
    const codeHtml = await codeRes.text();
    expect(web.mailer.sent).toHaveLength(1);
    expect(web.mailer.sent[0]).toMatchObject({ depositId, recipient: PAT });
    expect(codeHtml).toContain('<label for="code">');
    expect(codeHtml).toMatch(/<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric"/);
    expect(codeHtml).toContain(`action="/m/${tok()}/sign-in"`);
    expect(await auditOf('portal:code_sent')).toEqual([{ depositId, recipient: PAT, remoteIp: '127.0.0.1', noticeQueueId: 'CODEMAIL0001' }]);
    expect(web.metrics.value('sealgate_portal_code_requests_total', { outcome: 'sent' })).toBe(1);

    const code = web.mailer.lastCode(PAT);
    const signedIn = await client.post(`/m/${tok()}/sign-in`, { csrf: csrfOf(codeHtml), code: `${code.slice(0, 4)} ${code.slice(4)}` });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe(`/m/${tok()}`);
    const session = signedIn.headers.getSetCookie().find((c) => c.startsWith('sealgate_session='));
    expect(session).toMatch(/^sealgate_session=[A-Za-z0-9_-]{43};/);
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).toMatch(/Path=\//);
    expect(session).not.toMatch(/Secure/); // plain http on loopback, no https publicUrl
    const stored = await web.db.all<{ session_hash: string; method: string; recipient: string }>('SELECT session_hash, method, recipient FROM portal_sessions');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.session_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored[0]?.session_hash).not.toBe(client.cookies.get('sealgate_session'));
    expect(stored[0]).toMatchObject({ method: 'code', recipient: PAT });

    const message = await client.get(`/m/${tok()}`);
    expect(message.status).toBe(200);
    expect(message.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(message);
    expect(message.headers.get('content-security-policy')).not.toContain('https:');
    const html = await message.text();
    expect(html).toContain(BODY_SECRET);
    expect(html).toContain(`<h1 class="subject">${SUBJECT}</h1>`);
    expect(html).toContain('<title>Secure message \u2013 Sealgate</title>'); // no subject in the browser's history
    expect(html).toContain('Dr. Who &lt;dr.who@clinic.example&gt;');
    expect(html).toContain(ATTACHMENT_NAME);
    expect(html).toContain(`action="/m/${tok()}/attachments/1"`);
    expect(html).toContain('data:image/png;base64,'); // the cid: logo, embedded
    expect(html).not.toContain('logo.png'); // shown inline, so not listed
    expect(html).toContain('[image: Tracking pixel]');
    expect(html).not.toContain('images.example');
    expect(html).toContain('1 image from the internet was not loaded');
    expect(html).toContain('Show images</button>');
    expect(html).not.toMatch(/<style|<script|style=/i);
    expect(html).toContain('<a href="https://clinic.example/help" target="_blank" rel="noopener noreferrer">');
    expect(html).toContain('available until Sunday, 3 January 2027');

    const opened = await web.db.get<{ opened_at: number | null }>('SELECT opened_at FROM portal_recipients WHERE deposit_id = ? AND address = ?', [depositId, PAT]);
    expect(opened?.opened_at).toBe(NOW);
    expect(await auditOf('portal:signed_in')).toEqual([{ depositId, recipient: PAT, remoteIp: '127.0.0.1', method: 'code' }]);
    expect(await auditOf('portal:viewed')).toEqual([{ depositId, recipient: PAT, remoteIp: '127.0.0.1' }]);
    expect(web.metrics.value('sealgate_portal_opens_total')).toBe(1);
  });

  it('downloads an attachment byte for byte with safe headers, and audits it', async () => {
    const client = new Client(web.base);
    await signIn(web, client, tok(), PAT);
    const res = await client.get(`/m/${tok()}/attachments/1`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(attachment)).toBe(true);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="Lab results _ M_rz.pdf"; filename*=UTF-8''${encodeURIComponent(ATTACHMENT_NAME)}`,
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expectSecurityHeaders(res);
    expect(await auditOf('portal:downloaded')).toEqual([{ depositId, recipient: PAT, remoteIp: '127.0.0.1', attachment: 1, size: attachment.length }]);

    for (const n of ['2', '99999', '-1', 'x', '1e3', '000000001']) {
      expect((await client.get(`/m/${tok()}/attachments/${n}`)).status, n).toBe(404);
    }
    // not signed in: back to the sign-in page, nothing downloaded
    const anon = await fetch(`${web.base}/m/${tok()}/attachments/1`, { redirect: 'manual' });
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe(`/m/${tok()}`);
  });

  it('"Show images" allows https images for that response only; the print view has no forms', async () => {
    const client = new Client(web.base);
    await signIn(web, client, tok(), PAT);
    const shown = await client.get(`/m/${tok()}?images=1`);
    expect(shown.headers.get('content-security-policy')).toMatch(/img-src 'self' data: https:/);
    const html = await shown.text();
    expect(html).toContain('<img src="https://images.example/track.png" alt="Tracking pixel" />');
    expect(html).not.toContain('Show images</button>');

    const again = await client.get(`/m/${tok()}`);
    expect(again.headers.get('content-security-policy')).not.toContain('https:');

    const print = await client.get(`/m/${tok()}/print`);
    expect(print.status).toBe(200);
    const printHtml = await print.text();
    expect(printHtml).toContain(BODY_SECRET);
    expect(printHtml).toContain(ATTACHMENT_NAME);
    expect(printHtml).not.toMatch(/<form|<button/);
    expect(printHtml).toContain('<body class="print">');
  });

  it('sign-out deletes the session and is audited; the link then asks to sign in again', async () => {
    const client = new Client(web.base);
    const page = await signIn(web, client, tok(), PAT);
    const csrf = csrfOf(await page.text());
    const out = await client.post(`/m/${tok()}/sign-out`, { csrf });
    expect(out.status).toBe(200);
    expect(await out.text()).toContain('You have signed out');
    expect(await web.db.all('SELECT 1 FROM portal_sessions')).toHaveLength(0);
    expect(await auditOf('portal:signed_out')).toEqual([{ depositId, recipient: PAT, remoteIp: '127.0.0.1' }]);
    const after = await client.get(`/m/${tok()}`);
    expect(await after.text()).toContain('Email me a code');
  });

  it('the session idles out after 15 minutes; activity keeps it alive', async () => {
    const client = new Client(web.base);
    await signIn(web, client, tok(), PAT);
    for (let i = 0; i < 3; i++) {
      web.clock += 10 * 60_000;
      expect(await (await client.get(`/m/${tok()}`)).text(), `after ${(i + 1) * 10} min`).toContain(BODY_SECRET);
    }
    web.clock += 16 * 60_000;
    const idle = await client.get(`/m/${tok()}`);
    expect(idle.status).toBe(200);
    const html = await idle.text();
    expect(html).not.toContain(BODY_SECRET);
    expect(html).toContain('Email me a code');
    expect(await web.db.all('SELECT 1 FROM portal_sessions')).toHaveLength(0);
  });

  it('a session opens only its own message and recipient; a tampered cookie is signed out', async () => {
    const client = new Client(web.base);
    await signIn(web, client, tok(), PAT);
    const carerPage = await client.get(`/m/${tok(CARER)}`);
    expect(await carerPage.text()).toContain('Email me a code');
    const value = client.cookies.get('sealgate_session') as string;
    client.cookies.set('sealgate_session', `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`);
    expect(await (await client.get(`/m/${tok()}`)).text()).toContain('Email me a code');
    client.cookies.set('sealgate_session', 'not a cookie we made');
    expect(await (await client.get(`/m/${tok()}`)).text()).toContain('Email me a code');
  });

  it('a text-only message is shown escaped in a wrapping <pre>', async () => {
    const mime = [
      'From: dr.who@clinic.example',
      `To: ${PAT}`,
      'Subject: <script>alert("subject")</script>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `${BODY_SECRET}`,
      '<script>alert(1)</script> <img src=x onerror=alert(2)>',
      '',
    ].join('\r\n');
    const dep = await web.deposit(mime, [{ address: PAT, bcc: false }]);
    const html = await (await signIn(web, new Client(web.base), dep.tokens[PAT] as string, PAT)).text();
    expect(html).toContain(`<pre class="message-text">${BODY_SECRET}\n&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt;`);
    expect(html).toContain('<h1 class="subject">&lt;script&gt;alert(&quot;subject&quot;)&lt;/script&gt;</h1>');
    expect(html).not.toMatch(/<script|<img/);
  });

  it('a blind-copy recipient sees only themself; the others never see the blind copy', async () => {
    const hidden = new Client(web.base);
    const hiddenHtml = await (await signIn(web, hidden, tok(HIDDEN), HIDDEN)).text();
    expect(hiddenHtml).toContain(BODY_SECRET);
    expect(hiddenHtml).toContain(HIDDEN);
    expect(hiddenHtml).toContain('(blind copy)');
    expect(hiddenHtml).not.toContain(PAT);
    expect(hiddenHtml).not.toContain(CARER);

    for (const [who, client] of [
      [PAT, new Client(web.base)],
      [CARER, new Client(web.base)],
    ] as const) {
      const html = await (await signIn(web, client, tok(who), who)).text();
      expect(html).toContain(PAT);
      expect(html).toContain(CARER);
      expect(html).not.toContain(HIDDEN); // not even from the message's Bcc header
      expect(html).not.toMatch(/<dt>Bcc<\/dt>/);
    }
  });
});

describe('CSRF', () => {
  it('refuses forms without the right token with a 403 page', async () => {
    const client = new Client(web.base);
    const html = await (await client.get(`/m/${tok()}`)).text();
    const good = csrfOf(html);
    const missing = await client.post(`/m/${tok()}/code`, {});
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('This form could not be accepted');
    expectSecurityHeaders(missing);
    expect((await client.post(`/m/${tok()}/code`, { csrf: `${good}x` })).status).toBe(403);
    // a token made on another link
    const other = csrfOf(await (await client.get(`/m/${tok(CARER)}`)).text());
    expect((await client.post(`/m/${tok()}/code`, { csrf: other })).status).toBe(403);
    // the right token without its cookie
    expect((await new Client(web.base).post(`/m/${tok()}/code`, { csrf: good })).status).toBe(403);
    // older than an hour
    web.clock += 61 * 60_000;
    expect((await client.post(`/m/${tok()}/code`, { csrf: good })).status).toBe(403);
    expect(web.mailer.sent).toHaveLength(0);

    // signed in: sign-out needs the session's token
    web.clock = NOW;
    await signIn(web, client, tok(), PAT);
    expect((await client.post(`/m/${tok()}/sign-out`, { csrf: good })).status).toBe(403);
    expect(await (await client.get(`/m/${tok()}`)).text()).toContain(BODY_SECRET);
  });
});

describe('wrong codes and limits', () => {
  it('counts wrong codes down, locks on the 5th (429 lockout page), then refuses new codes', async () => {
    const client = new Client(web.base);
    const first = await client.get(`/m/${tok()}`);
    const codePage = await client.post(`/m/${tok()}/code`, { csrf: csrfOf(await first.text()) });
    let csrf = csrfOf(await codePage.text());
    const right = web.mailer.lastCode(PAT);
    const wrong = right === '00000000' ? '11111111' : '00000000';
    for (const left of [4, 3, 2, 1]) {
      const res = await client.post(`/m/${tok()}/sign-in`, { csrf, code: wrong });
      expect(res.status).toBe(401);
      const html = await res.text();
      expect(html).toContain(`That code is not right. ${left === 1 ? '1 try' : `${left} tries`} left.`);
      expect(html).toContain('role="alert"');
      expect(html).toContain('aria-invalid="true"');
      csrf = csrfOf(html);
    }
    const locked = await client.post(`/m/${tok()}/sign-in`, { csrf, code: wrong });
    expect(locked.status).toBe(429);
    const lockedHtml = await locked.text();
    expect(lockedHtml).toContain('Too many wrong codes');
    expect(lockedHtml).toContain('until 09:01 UTC');
    expect(await auditOf('portal:code_failed')).toHaveLength(4);
    expect((await auditOf('portal:code_failed'))[3]).toEqual({ depositId, recipient: PAT, remoteIp: '127.0.0.1', outcome: 'wrong', triesLeft: 1 });
    expect(await auditOf('portal:locked')).toEqual([{ depositId, recipient: PAT, remoteIp: '127.0.0.1', until: NOW + 60_000 }]);
    expect(web.metrics.value('sealgate_portal_failed_codes_total', { outcome: 'locked' })).toBe(1);

    // even the right code does not open it now
    const fresh = csrfOf(await (await client.get(`/m/${tok()}`)).text());
    expect((await client.post(`/m/${tok()}/sign-in`, { csrf: fresh, code: right })).status).toBe(429);
    // and no new code during the lockout
    const refused = await client.post(`/m/${tok()}/code`, { csrf: fresh });
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain('no new code can be sent before 09:01 UTC');
    expect(await auditOf('portal:code_refused')).toEqual([{ depositId, recipient: PAT, remoteIp: '127.0.0.1', reason: 'locked' }]);
    expect(web.mailer.sent).toHaveLength(1);

    // after the lockout a new code works
    web.clock += 61_000;
    await signIn(web, client, tok(), PAT);
    expect(await auditOf('portal:signed_in')).toHaveLength(1);
  });

  it('malformed, expired and used codes each get their own message', async () => {
    const client = new Client(web.base);
    const codePage = await client.post(`/m/${tok()}/code`, { csrf: csrfOf(await (await client.get(`/m/${tok()}`)).text()) });
    const csrf = csrfOf(await codePage.text());
    const malformed = await client.post(`/m/${tok()}/sign-in`, { csrf, code: 'letters!' });
    expect(malformed.status).toBe(401);
    expect(await malformed.text()).toContain('only digits. 4 tries left');
    web.clock += 11 * 60_000;
    const expired = await client.post(`/m/${tok()}/sign-in`, { csrf, code: web.mailer.lastCode(PAT) });
    expect(await expired.text()).toContain('That code has expired');
    expect((await auditOf('portal:code_failed')).map((a) => a.outcome)).toEqual(['malformed', 'expired']);
  });

  it('too many code requests in an hour get a clear 429 page', async () => {
    const client = new Client(web.base);
    let csrf = csrfOf(await (await client.get(`/m/${tok()}`)).text());
    for (let i = 0; i < 5; i++) {
      web.clock += 60_000;
      const res = await client.post(`/m/${tok()}/code`, { csrf });
      expect(res.status).toBe(200);
      csrf = csrfOf(await res.text());
    }
    const refused = await client.post(`/m/${tok()}/code`, { csrf });
    expect(refused.status).toBe(429);
    const html = await refused.text();
    expect(html).toContain('Please wait before asking for another code');
    expect(html).toContain('after 10:01 UTC');
    // the latest code still works from this page
    expect(html).toContain(`action="/m/${tok()}/sign-in"`);
    expect(await auditOf('portal:code_refused')).toEqual([{ depositId, recipient: PAT, remoteIp: '127.0.0.1', reason: 'rate' }]);
  });

  it('audit rows carry no code, token, cookie, subject or body', async () => {
    const client = new Client(web.base);
    await signIn(web, client, tok(), PAT);
    await client.get(`/m/${tok()}/attachments/1`);
    await client.post(`/m/${tok()}/sign-in`, { csrf: 'x', code: '12345678' });
    const rows = await auditRows();
    expect(rows.map((r) => r.type)).toEqual(['portal:code_sent', 'portal:signed_in', 'portal:viewed', 'portal:downloaded']);
    const all = JSON.stringify(rows) + web.logLines.join('');
    for (const secret of [...Object.values(tokens), web.mailer.lastCode(PAT), BODY_SECRET, SUBJECT, ATTACHMENT_NAME, ...client.cookies.values()]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('rate limits', () => {
  it('limits form posts per client IP with a 429 page', async () => {
    await web.stop();
    web = await startPortalWeb({ limits: { postsPerMinute: 3 } });
    await freshDeposit();
    const client = new Client(web.base);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await client.post(`/m/${tok()}/code`, {})).status);
    expect(statuses).toEqual([403, 403, 403, 429]);
    const res = await client.post(`/m/${tok()}/code`, {});
    expect(await res.text()).toContain('Too many requests');
    expectSecurityHeaders(res);
    // reading is not limited by the form limit
    expect((await client.get(`/m/${tok()}`)).status).toBe(200);
  });
});

describe('proxies and TLS', () => {
  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const client = new Client(web.base);
    const html = await (await client.get(`/m/${tok()}`)).text();
    await client.request('POST', `/m/${tok()}/code`, { form: { csrf: csrfOf(html) }, headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect((await auditOf('portal:code_sent'))[0]?.remoteIp).toBe('127.0.0.1');

    await web.stop();
    web = await startPortalWeb({ portal: { trustedProxies: ['127.0.0.1/32'] } });
    await freshDeposit();
    const proxied = new Client(web.base);
    const page = await (await proxied.get(`/m/${tok()}`)).text();
    await proxied.request('POST', `/m/${tok()}/code`, { form: { csrf: csrfOf(page) }, headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect((await auditOf('portal:code_sent'))[0]?.remoteIp).toBe('203.0.113.7');
  });
});

describe('HTTPS', () => {
  let certDir: string;
  let ca: Buffer;
  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'sealgate-portal-tls-'));
    await ensureDevCertificates({ certFile: join(certDir, 'a.crt'), keyFile: join(certDir, 'a.key'), hostnames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    await ensureDevCertificates({ certFile: join(certDir, 'b.crt'), keyFile: join(certDir, 'b.key'), hostnames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    ca = await readFile(join(certDir, 'dev-ca.crt'));
  });
  afterAll(async () => {
    await rm(certDir, { recursive: true, force: true });
  });

  function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; cert: X509Certificate }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false }, (res) => {
        const cert = new X509Certificate((res.socket as import('node:tls').TLSSocket).getPeerCertificate().raw);
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, cert }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves HTTPS from certFile/keyFile with HSTS and Secure cookies, and reloads the certificate', async () => {
    await web.stop();
    web = await startPortalWeb({ portal: { certFile: join(certDir, 'a.crt'), keyFile: join(certDir, 'a.key') } });
    await freshDeposit();
    const port = Number(new URL(web.base).port);
    const health = await get(port, '/healthz');
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000');
    const page = await get(port, `/m/${tok()}`);
    expect(String(page.headers['set-cookie'])).toMatch(/^__Host-sealgate_pre=[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Strict/);
    const before = page.cert.fingerprint256;

    web.server.reloadTls(await readFile(join(certDir, 'b.crt')), await readFile(join(certDir, 'b.key')));
    const after = await get(port, '/healthz');
    expect(after.status).toBe(200);
    expect(after.cert.fingerprint256).not.toBe(before);
  });
});
