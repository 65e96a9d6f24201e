/**
 * Passkeys in a real browser: Debian's headless Chromium (playwright-core)
 * with Chromium's own virtual authenticator (CDP WebAuthn domain: a CTAP2
 * platform authenticator with user verification), against the portal on
 * loopback at http://localhost:<port> — a secure context whose host is a
 * DNS name, so it can be a WebAuthn relying party (an IP address cannot).
 *
 * A recipient signs in with a code, sets up a passkey and signs out; a
 * second message to the same address then opens with the passkey and no
 * code is mailed. Another address's passkey, pushed at this recipient's
 * link by a tampered options answer, does not open it. Without JavaScript
 * the set-up page says so and the code sign-in still works. No page logs a
 * CSP or Trusted Types violation.
 *
 * Screenshots at 390×844 and 1280×800 go to reports/screenshots/portal/.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumWanted, launchChromium, PORTAL_SHOTS, VIEWPORTS } from '../helpers/browser.js';
import { BODY_SECRET, buildMime, SUBJECT } from '../helpers/portal-mime.js';
import { type PortalWeb, startPortalWeb } from '../helpers/portal-web.js';

const describeBrowser = chromiumWanted('passkey-browser.test.ts') ? describe : describe.skip;

const SHOTS = PORTAL_SHOTS;
const PAT = 'pat@gmail.example';
const CARER = 'carer@outlook.example';

declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };

/** A free loopback port: the public URL names it before the server starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describeBrowser('passkeys in Chromium', () => {
  let browser: Browser;
  let web: PortalWeb;
  let origin: string;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    const port = await freePort();
    origin = `http://localhost:${port}`;
    web = await startPortalWeb({
      portal: {
        listen: { host: '127.0.0.1', port },
        publicUrl: origin,
        branding: { organisationName: 'Riverside Clinic', colour: '#00695c', supportContact: 'help@riverside.example', footer: 'Confidential: for the named recipient only.' },
      },
    });
    // only loopback resolves (localhost included): nothing can leave this machine
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  interface Tab {
    readonly context: BrowserContext;
    readonly page: Page;
    readonly problems: string[];
    readonly cdp?: CDPSession;
  }

  async function newTab(options: { javaScript?: boolean; authenticator?: boolean } = {}): Promise<Tab> {
    const context = await browser.newContext({ viewport: VIEWPORTS[1], javaScriptEnabled: options.javaScript ?? true });
    await context.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      return host === 'localhost' || host === '127.0.0.1' ? route.continue() : route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    // CSP and Trusted Types violations, and script errors, end up here
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    if (options.authenticator === false) return { context, page, problems };
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return { context, page, problems, cdp };
  }

  async function shotBoth(page: Page, name: string): Promise<void> {
    // measured once the page (its stylesheet too) has loaded: under load a page measured before its CSS is wider than any screen
    await page.waitForLoadState('load');
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      expect(scroll, `${name} fits ${viewport.width} px`).toBeLessThanOrEqual(client);
      await page.screenshot({ path: join(SHOTS, `${name}-${viewport.name}.png`), fullPage: true });
    }
    await page.setViewportSize(VIEWPORTS[1]);
  }

  async function signInWithCode(page: Page, token: string, address: string): Promise<void> {
    await page.goto(`${origin}/m/${token}`);
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await page.waitForSelector('input#code');
    await page.getByLabel('Code from the email').fill(web.mailer.lastCode(address));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.message-body');
  }

  async function registerPasskey(page: Page, token: string, shots?: string): Promise<void> {
    await page.getByRole('button', { name: 'Set up a passkey' }).click();
    await page.waitForURL(/\/passkey\??$/);
    const button = page.locator('[data-passkey-start]');
    await button.waitFor({ state: 'visible' });
    if (shots) await shotBoth(page, shots);
    await button.click();
    await page.locator('[data-passkey-done]').waitFor({ state: 'visible' });
    if (shots) await shotBoth(page, `${shots}-done`);
  }

  async function signOut(page: Page, token: string): Promise<void> {
    await page.goto(`${origin}/m/${token}`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('text=You have signed out');
  }

  async function audits(type: string): Promise<{ data: string; parsed: Record<string, unknown> }[]> {
    const rows = await web.db.all<{ data: string }>('SELECT data FROM audit_log WHERE type = ? ORDER BY seq', [type]);
    return rows.map((r) => ({ data: r.data, parsed: JSON.parse(r.data) as Record<string, unknown> }));
  }

  it('sets up a passkey after a code sign-in, then opens a second message with it and no code', async () => {
    const first = await web.deposit(buildMime(), [{ address: PAT, bcc: false }]);
    const tab = await newTab();
    const { page } = tab;

    // the sign-in page of a recipient without a passkey: no script, no passkey button
    const signInResponse = await page.goto(`${origin}/m/${first.tokens[PAT]}`);
    expect(signInResponse?.headers()['content-security-policy']).not.toContain('script-src');
    expect(await page.locator('script').count()).toBe(0);
    await signInWithCode(page, first.tokens[PAT] as string, PAT);
    // the offer sits on the message page of a code session
    expect(await page.textContent('.passkey-offer')).toContain('Sign in faster next time');
    await shotBoth(page, 'message-passkey-offer');

    await registerPasskey(page, first.tokens[PAT] as string, 'passkey-setup');
    expect(await page.textContent('[data-passkey-done]')).toContain('Your passkey is set up');
    const stored = await web.db.all<{ credential_id: string; recipient: string; counter: number }>('SELECT credential_id, recipient, counter FROM portal_passkeys');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.recipient).toBe(PAT);
    const credentialId = stored[0]?.credential_id as string;

    const registered = await audits('portal:passkey_registered');
    expect(registered.map((r) => r.parsed)).toEqual([{ recipient: PAT, remoteIp: '127.0.0.1', credential: createHash('sha256').update(credentialId).digest('hex') }]);
    for (const row of registered) {
      expect(row.data).not.toContain(credentialId);
      expect(row.data).not.toContain(BODY_SECRET);
    }

    await page.getByRole('link', { name: 'Back to the message' }).click();
    await signOut(page, first.tokens[PAT] as string);

    // a second message to the same address: the passkey opens it, no code is mailed
    const second = await web.deposit(buildMime({ subject: 'Follow-up appointment' }), [{ address: PAT, bcc: false }]);
    const codesBefore = web.mailer.sent.length;
    const response = await page.goto(`${origin}/m/${second.tokens[PAT]}`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const passkeyButton = page.getByRole('button', { name: 'Sign in with a passkey' });
    await passkeyButton.waitFor({ state: 'visible' });
    // the code sign-in stays
    expect(await page.getByRole('button', { name: 'Email me a code' }).isVisible()).toBe(true);
    await shotBoth(page, 'sign-in-passkey');

    await passkeyButton.click();
    await page.waitForSelector('.message-body');
    expect(page.url()).toBe(`${origin}/m/${second.tokens[PAT]}`);
    expect(await page.textContent('.message-body')).toContain(BODY_SECRET);
    expect(await page.textContent('h1.subject')).toBe('Follow-up appointment');
    expect(web.mailer.sent.length).toBe(codesBefore);
    // a passkey session gets no offer to set one up again
    expect(await page.locator('.passkey-offer').count()).toBe(0);

    const signedIn = await audits('portal:signed_in');
    expect(signedIn.at(-1)?.parsed).toEqual({ depositId: second.depositId, recipient: PAT, remoteIp: '127.0.0.1', method: 'passkey' });
    for (const row of signedIn) {
      expect(row.data).not.toContain(credentialId);
      expect(row.data).not.toContain(SUBJECT);
    }
    const session = await web.db.get<{ method: string }>('SELECT method FROM portal_sessions WHERE deposit_id = ?', [second.depositId]);
    expect(session?.method).toBe('passkey');
    const used = await web.db.get<{ last_used_at: number | null }>('SELECT last_used_at FROM portal_passkeys WHERE credential_id = ?', [credentialId]);
    expect(used?.last_used_at).toBe(web.clock);

    expect(tab.problems).toEqual([]);
    await tab.context.close();
  });

  it("another address's passkey does not open this recipient's message", async () => {
    const tab = await newTab();
    const { page } = tab;
    // CARER sets up a passkey in this browser's authenticator
    const carers = await web.deposit(buildMime(), [{ address: CARER, bcc: false }]);
    await signInWithCode(page, carers.tokens[CARER] as string, CARER);
    await registerPasskey(page, carers.tokens[CARER] as string);
    await signOut(page, carers.tokens[CARER] as string);
    const carerCredential = (await web.db.get<{ credential_id: string }>('SELECT credential_id FROM portal_passkeys WHERE recipient = ?', [CARER]))?.credential_id as string;
    expect(carerCredential).toBeTruthy();

    // PAT has a passkey too (elsewhere), so PAT's sign-in page offers passkeys; a tampered
    // options answer makes this browser sign PAT's challenge with CARER's passkey
    const pats = await web.deposit(buildMime(), [{ address: PAT, bcc: false }]);
    await page.route('**/passkey/login/options', async (route) => {
      const res = await route.fetch();
      const options = (await res.json()) as { allowCredentials: { id: string; type: string }[] };
      options.allowCredentials = [{ id: carerCredential, type: 'public-key' }];
      await route.fulfill({ response: res, json: options });
    });
    const failedBefore = (await audits('portal:passkey_failed')).length;
    await page.goto(`${origin}/m/${pats.tokens[PAT]}`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const alert = page.locator('[data-passkey-error]');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toContain('That passkey cannot open this message');
    await shotBoth(page, 'sign-in-passkey-refused');
    expect(page.url()).toBe(`${origin}/m/${pats.tokens[PAT]}`);
    expect(await page.locator('.message-body').count()).toBe(0);
    expect(await web.db.get('SELECT 1 FROM portal_sessions WHERE deposit_id = ?', [pats.depositId])).toBeUndefined();
    const failed = (await audits('portal:passkey_failed')).slice(failedBefore);
    expect(failed.map((r) => r.parsed)).toEqual([{ depositId: pats.depositId, recipient: PAT, remoteIp: '127.0.0.1', reason: 'other-recipient' }]);
    expect(failed[0]?.data).not.toContain(carerCredential);
    await page.unroute('**/passkey/login/options');

    // CARER's passkey still opens CARER's own message
    await page.goto(`${origin}/m/${carers.tokens[CARER]}`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForSelector('.message-body');
    expect(await page.textContent('.message-body')).toContain(BODY_SECRET);

    // the browser logs the failed fetch (401) of the refused attempt, and nothing else
    expect(tab.problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await tab.context.close();
  });

  it('without JavaScript the set-up page says passkeys need it, and the code sign-in still works', async () => {
    const tab = await newTab({ javaScript: false, authenticator: false });
    const { page } = tab;
    const dep = await web.deposit(buildMime(), [{ address: PAT, bcc: false }]);
    // PAT has a passkey (first test): the sign-in page still shows only the code form without script
    await page.goto(`${origin}/m/${dep.tokens[PAT]}`);
    expect(await page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible()).toBe(false);
    await signInWithCode(page, dep.tokens[PAT] as string, PAT);
    expect(await page.textContent('.message-body')).toContain(BODY_SECRET);
    await page.getByRole('button', { name: 'Set up a passkey' }).click();
    await page.waitForURL(/\/passkey\??$/);
    expect(await page.textContent('[data-passkey-nojs]')).toContain('Setting up a passkey needs JavaScript');
    expect(await page.locator('[data-passkey-start]').isVisible()).toBe(false);
    await shotBoth(page, 'passkey-setup-nojs');
    await page.getByRole('link', { name: 'Back to the message' }).click();
    await page.waitForSelector('.message-body');
    await tab.context.close();
  });
});
