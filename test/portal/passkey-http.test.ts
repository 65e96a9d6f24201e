/**
 * Passkeys over HTTP, for real: the portal on 127.0.0.1 over real stores,
 * driven with fetch and a software authenticator (test/helpers/
 * soft-authenticator.ts) that answers the server's options as a browser's
 * authenticator would. The relying party is the public URL's host: these
 * tests configure http://localhost:8443 (the browser test really serves
 * there; here only the signed client data names that origin).
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { contentSecurityPolicy } from '../../src/portal/http/headers.js';
import { relyingPartyFor } from '../../src/portal/http/passkeys.js';
import { ChallengeStore, CHALLENGE_TTL_MS } from '../../src/portal/http/passkey-challenges.js';
import { portalSchema } from '../../src/portal/config-schema.js';
import { z } from 'zod';
import { BODY_SECRET, buildMime } from '../helpers/portal-mime.js';
import { Client, csrfOf, NOW, type PortalWeb, signIn, startPortalWeb } from '../helpers/portal-web.js';
import { type CreationOptions, type RequestOptions, SoftAuthenticator } from '../helpers/soft-authenticator.js';

const PAT = 'pat@gmail.example';
const CARER = 'carer@outlook.example';
const ORIGIN = 'http://localhost:8443';

let web: PortalWeb;

async function auditOf(type: string): Promise<{ data: string; parsed: Record<string, unknown> }[]> {
  const rows = await web.db.all<{ data: string }>('SELECT data FROM audit_log WHERE type = ? ORDER BY seq', [type]);
  return rows.map((r) => ({ data: r.data, parsed: JSON.parse(r.data) as Record<string, unknown> }));
}

function dataCsrf(html: string): string {
  const m = /data-csrf="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no data-csrf on the page');
  return m[1].replace(/&amp;/g, '&');
}

async function postJson(client: Client, path: string, body: unknown, csrf?: string, contentType = 'application/json'): Promise<Response> {
  return client.request('POST', path, {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': contentType, ...(csrf === undefined ? {} : { 'x-csrf-token': csrf }) },
  });
}

/** Signed in with a code on `token`; returns the passkey page's CSRF token. */
async function signedInPasskeyPage(client: Client, token: string, address: string): Promise<string> {
  await signIn(web, client, token, address);
  const res = await client.get(`/m/${token}/passkey`);
  expect(res.status).toBe(200);
  return dataCsrf(await res.text());
}

/** Signs in with a code and registers `authenticator` as the address's passkey. */
async function registerPasskey(client: Client, token: string, address: string, authenticator: SoftAuthenticator): Promise<void> {
  const csrf = await signedInPasskeyPage(client, token, address);
  const options = (await (await postJson(client, `/m/${token}/passkey/register/options`, {}, csrf)).json()) as CreationOptions;
  const res = await postJson(client, `/m/${token}/passkey/register/verify`, authenticator.register(options), csrf);
  expect(res.status).toBe(200);
}

/** A fresh browser on the sign-in page of `token`: its pre-session form token. */
async function signInPage(client: Client, token: string): Promise<{ csrf: string; res: Response; html: string }> {
  const res = await client.get(`/m/${token}`);
  const html = await res.text();
  return { csrf: csrfOf(html), res, html };
}

async function loginOptions(client: Client, token: string, csrf: string): Promise<RequestOptions> {
  const res = await postJson(client, `/m/${token}/passkey/login/options`, {}, csrf);
  expect(res.status).toBe(200);
  return (await res.json()) as RequestOptions;
}

describe('relying party', () => {
  const portal = (over: Record<string, unknown>) => portalSchema(z.string(), z.string()).parse({ listen: { host: '127.0.0.1', port: 8443 }, branding: { organisationName: 'Riverside Clinic' }, ...over });

  it.each([
    ['https://secure.example.org', { rpID: 'secure.example.org', origin: 'https://secure.example.org', rpName: 'Riverside Clinic' }],
    ['https://secure.example.org:8443', { rpID: 'secure.example.org', origin: 'https://secure.example.org:8443', rpName: 'Riverside Clinic' }],
    ['http://localhost:8443', { rpID: 'localhost', origin: 'http://localhost:8443', rpName: 'Riverside Clinic' }],
  ])('%s is a relying party', (publicUrl, expected) => {
    expect(relyingPartyFor(portal({ publicUrl }))).toEqual(expected);
  });

  it.each(['https://192.0.2.10', 'https://192.0.2.10:8443', 'http://127.0.0.1:8443', 'https://[2001:db8::1]', 'http://[::1]:8443'])('%s (an IP address) has no passkeys', (publicUrl) => {
    expect(relyingPartyFor(portal({ publicUrl }))).toBeUndefined();
  });

  it('without a publicUrl the listener decides: 127.0.0.1 none, a wildcard address localhost', () => {
    expect(relyingPartyFor(portal({}))).toBeUndefined();
    expect(relyingPartyFor(portal({ listen: { host: '0.0.0.0', port: 8443 } }))?.rpID).toBe('localhost');
  });
});

describe('challenges', () => {
  it('are single use, live five minutes, and stay bounded', async () => {
    const db = await Database.open(':memory:');
    await migrate(db);
    const store = new ChallengeStore(db, 3);
    await store.issue('a', 'c1', NOW);
    expect(await store.take('a', NOW)).toBe('c1');
    expect(await store.take('a', NOW)).toBeUndefined();
    await store.issue('b', 'c2', NOW);
    expect(await store.take('b', NOW + CHALLENGE_TTL_MS)).toBeUndefined();
    await store.issue('c', 'c3', NOW);
    await store.issue('c', 'c4', NOW);
    expect(await store.take('c', NOW)).toBe('c4');
    for (const [i, k] of ['d', 'e', 'f', 'g'].entries()) await store.issue(k, k, NOW + i);
    expect(await store.size()).toBe(3);
    expect(await store.take('d', NOW)).toBeUndefined(); // the oldest went
    expect(await store.take('g', NOW)).toBe('g');
    await db.close();
  });
});

describe('no passkeys when the public URL is an IP address', () => {
  beforeEach(async () => {
    web = await startPortalWeb({ portal: { publicUrl: 'http://127.0.0.1:8443' } });
  });
  afterEach(async () => {
    await web.stop();
  });

  it('no offer, no passkey page, no passkey sign-in, and no script anywhere', async () => {
    const { tokens } = await web.deposit(buildMime(), [{ address: PAT, bcc: false }]);
    const token = tokens[PAT] as string;
    // even a stored passkey for the address changes nothing
    await web.db.run("INSERT INTO portal_passkeys (credential_id, recipient, public_key, counter, transports, created_at) VALUES ('AAAAAAAAAAAAAAAAAAAAAA', ?, x'00', 0, '[]', 0)", [PAT]);
    const client = new Client(web.base);
    const page = await client.get(`/m/${token}`);
    const html = await page.text();
    expect(html).not.toContain('Sign in with a passkey');
    expect(html).not.toContain('<script');
    expect(page.headers.get('content-security-policy')).not.toContain('script-src');
    const message = await signIn(web, client, token, PAT);
    const messageHtml = await message.text();
    expect(messageHtml).toContain(BODY_SECRET);
    expect(messageHtml).not.toContain('passkey');
    const passkeyPage = await client.get(`/m/${token}/passkey`);
    expect(passkeyPage.status).toBe(404);
    expect(passkeyPage.headers.get('content-security-policy')).not.toContain('script-src');
    const options = await postJson(client, `/m/${token}/passkey/login/options`, {}, 'x');
    expect(options.status).toBe(404);
    expect(options.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

describe('passkeys at http://localhost:8443', () => {
  let token: string;
  let carerToken: string;
  let depositId: string;

  beforeEach(async () => {
    web = await startPortalWeb({ portal: { publicUrl: ORIGIN, branding: { organisationName: 'Riverside Clinic' } }, limits: { postsPerMinute: 50 } });
    const dep = await web.deposit(buildMime(), [
      { address: PAT, bcc: false },
      { address: CARER, bcc: false },
    ]);
    token = dep.tokens[PAT] as string;
    carerToken = dep.tokens[CARER] as string;
    depositId = dep.depositId;
  });
  afterEach(async () => {
    await web.stop();
  });

  it('the CSP allows our script on the passkey pages only, and differs there only by script and connect', async () => {
    const base = contentSecurityPolicy({});
    const withScript = `${base}; script-src 'self'; connect-src 'self'; require-trusted-types-for 'script'; trusted-types 'none'`;
    const client = new Client(web.base);
    const signInNoPasskey = await client.get(`/m/${token}`);
    expect(signInNoPasskey.headers.get('content-security-policy')).toBe(base);
    expect(await signInNoPasskey.text()).not.toContain('<script');

    await registerPasskey(client, token, PAT, new SoftAuthenticator(ORIGIN));
    // the message page (with its offer) has no script
    const message = await client.get(`/m/${token}`);
    expect(message.headers.get('content-security-policy')).toBe(base);
    const messageHtml = await message.text();
    expect(messageHtml).toContain('Sign in faster next time');
    expect(messageHtml).not.toContain('<script');

    const passkeyPage = await client.get(`/m/${token}/passkey`);
    expect(passkeyPage.headers.get('content-security-policy')).toBe(withScript);
    const html = await passkeyPage.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts).toEqual([expect.stringMatching(/^<script type="module" src="\/static\/passkey\.js\?v=[0-9a-f]{12}">$/)]);
    expect(html).not.toMatch(/\son[a-z]+=/i); // no event handler attributes
    expect(html).toContain('Setting up a passkey needs JavaScript');

    // another browser, signed out: the sign-in page of a recipient with a passkey
    const other = new Client(web.base);
    const signInWithPasskey = await other.get(`/m/${token}`);
    expect(signInWithPasskey.headers.get('content-security-policy')).toBe(withScript);
    const signInHtml = await signInWithPasskey.text();
    expect(signInHtml).toContain('Sign in with a passkey');
    expect(signInHtml).toContain('Email me a code');
    // CARER has no passkey: no script on CARER's sign-in page
    const carers = await other.get(`/m/${carerToken}`);
    expect(carers.headers.get('content-security-policy')).toBe(base);
    // error pages stay script-free
    const notFound = await other.get('/no/such/page');
    expect(notFound.headers.get('content-security-policy')).toBe(base);
  });

  it('serves the two scripts from our own origin, versioned and cacheable', async () => {
    const client = new Client(web.base);
    await signIn(web, client, token, PAT);
    const html = await (await client.get(`/m/${token}/passkey`)).text();
    const glueHref = /src="(\/static\/passkey\.js\?v=[0-9a-f]{12})"/.exec(html)?.[1] as string;
    const glue = await fetch(web.base + glueHref);
    expect(glue.status).toBe(200);
    expect(glue.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(glue.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const glueText = await glue.text();
    const libHref = /^import "(\/static\/simplewebauthn-browser\.js\?v=[0-9a-f]{12})";$/m.exec(glueText)?.[1] as string;
    expect(libHref).toBeTruthy();
    expect(glueText).not.toMatch(/innerHTML|eval\(|new Function|https?:\/\//);
    const lib = await fetch(web.base + libHref);
    expect(lib.status).toBe(200);
    expect(await lib.text()).toMatch(/^\/\* \[@simplewebauthn\/browser@14\.0\.0\] \*\//);
  });

  it('registration options need this link’s session and its CSRF token (403 otherwise)', async () => {
    const stranger = new Client(web.base);
    let res = await postJson(stranger, `/m/${token}/passkey/register/options`, {}, 'whatever');
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: expect.stringContaining('open too long') });

    const client = new Client(web.base);
    const csrf = await signedInPasskeyPage(client, token, PAT);
    res = await postJson(client, `/m/${token}/passkey/register/options`, {});
    expect(res.status).toBe(403);
    res = await postJson(client, `/m/${token}/passkey/register/options`, {}, `${csrf}x`);
    expect(res.status).toBe(403);
    // the session is for PAT's link: CARER's link of the same message is not signed in
    res = await postJson(client, `/m/${carerToken}/passkey/register/options`, {}, csrf);
    expect(res.status).toBe(403);
    res = await postJson(client, `/m/${'A'.repeat(43)}/passkey/register/options`, {}, csrf);
    expect(res.status).toBe(404);

    res = await postJson(client, `/m/${token}/passkey/register/options`, {}, csrf);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const options = (await res.json()) as Record<string, unknown> & CreationOptions;
    expect(options.rp).toEqual({ id: 'localhost', name: 'Riverside Clinic' });
    expect(options.user.name).toBe(PAT);
    expect(options.user.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(options.authenticatorSelection).toEqual({ residentKey: 'preferred', requireResidentKey: false, userVerification: 'required' });
    expect(options.attestation).toBe('none');

    // the user handle is the same for every message to the address, and says nothing of it
    const dep2 = await web.deposit(buildMime(), [{ address: PAT, bcc: false }]);
    const client2 = new Client(web.base);
    const csrf2 = await signedInPasskeyPage(client2, dep2.tokens[PAT] as string, PAT);
    const options2 = (await (await postJson(client2, `/m/${dep2.tokens[PAT]}/passkey/register/options`, {}, csrf2)).json()) as CreationOptions;
    expect(options2.user.id).toBe(options.user.id);
    expect(Buffer.from(options.user.id, 'base64url').toString('latin1')).not.toContain('pat');
  });

  it('bounds and types the JSON bodies: 413 over 16 KiB, 415 for a form, 400 for broken JSON', async () => {
    const client = new Client(web.base);
    const csrf = await signedInPasskeyPage(client, token, PAT);
    const big = await postJson(client, `/m/${token}/passkey/register/verify`, { id: 'x', pad: 'A'.repeat(17 * 1024) }, csrf);
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: expect.any(String) });
    const form = await postJson(client, `/m/${token}/passkey/register/options`, 'a=b', csrf, 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    const broken = await postJson(client, `/m/${token}/passkey/register/options`, '{"a":', csrf);
    expect(broken.status).toBe(400);
    // the other routes still refuse JSON, as before
    const jsonToForm = await postJson(client, `/m/${token}/sign-out`, { csrf }, csrf);
    expect(jsonToForm.status).toBe(415);
  });

  it('registers a passkey: stored per address, audited by digest, the challenge good once', async () => {
    const client = new Client(web.base);
    const csrf = await signedInPasskeyPage(client, token, PAT);
    const authenticator = new SoftAuthenticator(ORIGIN);
    const options = (await (await postJson(client, `/m/${token}/passkey/register/options`, {}, csrf)).json()) as CreationOptions;
    const answer = authenticator.register(options);

    // an answer signed for another origin is refused, and uses the challenge up
    const wrongOrigin = await postJson(client, `/m/${token}/passkey/register/verify`, new SoftAuthenticator('https://evil.example').register(options), csrf);
    expect(wrongOrigin.status).toBe(400);
    const again = await postJson(client, `/m/${token}/passkey/register/verify`, answer, csrf);
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe('That took too long. Please try again.');
    expect(await web.db.all('SELECT * FROM portal_passkeys')).toEqual([]);

    const fresh = (await (await postJson(client, `/m/${token}/passkey/register/options`, {}, csrf)).json()) as CreationOptions;
    const ok = await postJson(client, `/m/${token}/passkey/register/verify`, authenticator.register(fresh), csrf);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    const rows = await web.db.all<{ credential_id: string; recipient: string; counter: number; transports: string; created_at: number; last_used_at: number | null }>(
      'SELECT credential_id, recipient, counter, transports, created_at, last_used_at FROM portal_passkeys',
    );
    expect(rows).toEqual([{ credential_id: authenticator.id, recipient: PAT, counter: 0, transports: '["internal"]', created_at: NOW, last_used_at: null }]);
    const audited = await auditOf('portal:passkey_registered');
    expect(audited.map((a) => a.parsed)).toEqual([{ recipient: PAT, remoteIp: '127.0.0.1', credential: createHash('sha256').update(authenticator.id).digest('hex') }]);
    expect(audited[0]?.data).not.toContain(authenticator.id);
    expect(web.metrics.value('sealgate_portal_passkey_registrations_total')).toBe(1);

    // the same authenticator is excluded next time
    const next = (await (await postJson(client, `/m/${token}/passkey/register/options`, {}, csrf)).json()) as { excludeCredentials: { id: string }[] };
    expect(next.excludeCredentials.map((c) => c.id)).toEqual([authenticator.id]);
  });

  it('refuses a registration without user verification', async () => {
    const client = new Client(web.base);
    const csrf = await signedInPasskeyPage(client, token, PAT);
    const options = (await (await postJson(client, `/m/${token}/passkey/register/options`, {}, csrf)).json()) as CreationOptions;
    const res = await postJson(client, `/m/${token}/passkey/register/verify`, new SoftAuthenticator(ORIGIN).register(options, { noUserVerification: true }), csrf);
    expect(res.status).toBe(400);
    expect(await web.db.all('SELECT * FROM portal_passkeys')).toEqual([]);
  });

  it('signs in with a passkey on another message to the same address: no code, a passkey session', async () => {
    const authenticator = new SoftAuthenticator(ORIGIN);
    await registerPasskey(new Client(web.base), token, PAT, authenticator);
    const second = await web.deposit(buildMime({ subject: 'Second' }), [{ address: PAT, bcc: false }]);
    const token2 = second.tokens[PAT] as string;
    const codes = web.mailer.sent.length;

    const browser = new Client(web.base);
    const { csrf, html } = await signInPage(browser, token2);
    expect(html).toContain('data-passkey="login"');
    expect(dataCsrf(html)).toBe(csrf);

    // pre-session CSRF: no cookie, a token of another link, or none at all: 403
    expect((await postJson(new Client(web.base), `/m/${token2}/passkey/login/options`, {}, csrf)).status).toBe(403);
    const otherLink = csrfOf(await (await browser.get(`/m/${token}`)).text());
    expect((await postJson(browser, `/m/${token2}/passkey/login/options`, {}, otherLink)).status).toBe(403);
    expect((await postJson(browser, `/m/${token2}/passkey/login/options`, {})).status).toBe(403);

    const options = await loginOptions(browser, token2, csrf);
    expect(options.rpId).toBe('localhost');
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([authenticator.id]);
    expect((options as unknown as { userVerification: string }).userVerification).toBe('required');
    const res = await postJson(browser, `/m/${token2}/passkey/login/verify`, authenticator.assert(options), csrf);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ redirect: `/m/${token2}` });
    const page = await browser.get(`/m/${token2}`);
    expect(await page.text()).toContain(BODY_SECRET);
    expect(web.mailer.sent.length).toBe(codes);

    const session = await web.db.get<{ method: string; recipient: string }>('SELECT method, recipient FROM portal_sessions WHERE deposit_id = ?', [second.depositId]);
    expect(session).toEqual({ method: 'passkey', recipient: PAT });
    const signedIn = await auditOf('portal:signed_in');
    expect(signedIn.at(-1)?.parsed).toEqual({ depositId: second.depositId, recipient: PAT, remoteIp: '127.0.0.1', method: 'passkey' });
    const row = await web.db.get<{ counter: number; last_used_at: number }>('SELECT counter, last_used_at FROM portal_passkeys');
    expect(row).toEqual({ counter: 1, last_used_at: NOW });
    expect(web.metrics.value('sealgate_portal_passkey_sign_ins_total', { outcome: 'ok' })).toBe(1);
    // a passkey session is not offered another passkey
    expect(await (await browser.get(`/m/${token2}`)).text()).not.toContain('Sign in faster next time');
  });

  it("another address's passkey, a replayed counter, no user verification or a stale challenge: 400/401, audited, no session", async () => {
    const pats = new SoftAuthenticator(ORIGIN);
    const carers = new SoftAuthenticator(ORIGIN);
    await registerPasskey(new Client(web.base), token, PAT, pats);
    await registerPasskey(new Client(web.base), carerToken, CARER, carers);

    const browser = new Client(web.base);
    const { csrf } = await signInPage(browser, token);
    const attempt = async (answer: (o: RequestOptions) => Record<string, unknown>, before?: () => void): Promise<Response> => {
      const options = await loginOptions(browser, token, csrf);
      before?.();
      return postJson(browser, `/m/${token}/passkey/login/verify`, answer(options), csrf);
    };

    const other = await attempt((o) => carers.assert(o));
    expect(other.status).toBe(401);
    expect(((await other.json()) as { error: string }).error).toContain('That passkey cannot open this message');
    expect((await attempt((o) => pats.assert(o, { noUserVerification: true }))).status).toBe(401);
    expect((await attempt((o) => pats.assert(o, { origin: 'https://evil.example' }))).status).toBe(401);
    expect((await attempt((o) => ({ ...pats.assert(o), id: 'B'.repeat(43), rawId: 'B'.repeat(43) }))).status).toBe(401);
    expect((await attempt(() => ({ nothing: true }))).status).toBe(400);
    const stale = await attempt(
      (o) => pats.assert(o),
      () => {
        web.clock = NOW + CHALLENGE_TTL_MS;
      },
    );
    expect(stale.status).toBe(400);
    web.clock = NOW;
    // verify without asking for options first: no challenge
    expect((await postJson(browser, `/m/${token}/passkey/login/verify`, pats.assert({ challenge: 'AAAA', rpId: 'localhost' }), csrf)).status).toBe(400);

    // a good sign-in, then the same counter again (a cloned authenticator)
    expect((await attempt((o) => pats.assert(o))).status).toBe(200);
    const counter = (await web.db.get<{ counter: number }>('SELECT counter FROM portal_passkeys WHERE recipient = ?', [PAT]))?.counter as number;
    const browser2 = new Client(web.base);
    const pre2 = (await signInPage(browser2, token)).csrf;
    const replay = await postJson(browser2, `/m/${token}/passkey/login/verify`, pats.assert(await loginOptions(browser2, token, pre2), { counter }), pre2);
    expect(replay.status).toBe(401);

    const failed = (await auditOf('portal:passkey_failed')).map((a) => a.parsed.reason);
    expect(failed).toEqual(['other-recipient', 'verification', 'verification', 'unknown', 'malformed', 'challenge', 'challenge', 'verification']);
    for (const a of await auditOf('portal:passkey_failed')) {
      expect(a.parsed).toMatchObject({ depositId, recipient: PAT, remoteIp: '127.0.0.1' });
      expect(a.data).not.toContain(pats.id);
      expect(a.data).not.toContain(carers.id);
    }
    expect(await web.db.all('SELECT 1 FROM portal_sessions WHERE deposit_id = ? AND method = ?', [depositId, 'passkey'])).toHaveLength(1);
    expect(web.metrics.value('sealgate_portal_passkey_sign_ins_total', { outcome: 'other-recipient' })).toBe(1);
  });

  it('rate-limits the passkey POST routes like the forms', async () => {
    await web.stop();
    web = await startPortalWeb({ portal: { publicUrl: ORIGIN }, limits: { postsPerMinute: 3 } });
    const dep = await web.deposit(buildMime(), [{ address: PAT, bcc: false }]);
    const client = new Client(web.base);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await postJson(client, `/m/${dep.tokens[PAT]}/passkey/login/options`, {}, 'x')).status);
    expect(statuses).toEqual([403, 403, 403, 429]);
  });
});
