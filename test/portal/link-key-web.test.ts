/**
 * Zero-knowledge links (portal.linkKey) through the web server: over HTTP
 * the key part travels only in the link-scoped cookie the page's script
 * sets (here set by the test, as a browser without the script would not);
 * in real Chromium the link with its #fragment opens the message, the same
 * link without it does not until the whole link is opened.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LINK_KEY_COOKIE } from '../../src/portal/http/link-key-web.js';
import { chromiumWanted, launchChromium } from '../helpers/browser.js';
import { BODY_SECRET, buildMime } from '../helpers/portal-mime.js';
import { Client, type PortalWeb, signIn, startPortalWeb } from '../helpers/portal-web.js';

const PAT = 'pat@gmail.example';

describe('zero-knowledge links over HTTP', () => {
  let web: PortalWeb;
  let token: string;
  let fragment: string;

  beforeEach(async () => {
    web = await startPortalWeb({ replies: true });
    const dep = await web.deposit(buildMime({ attachment: Buffer.alloc(64, 7) }), [{ address: PAT, bcc: false }], undefined, true);
    token = dep.tokens[PAT] ?? '';
    fragment = dep.fragments[PAT] ?? '';
  });

  afterEach(async () => {
    await web.stop();
  });

  it('the sign-in page carries the link-key script under a CSP that allows only our own scripts', async () => {
    const res = await new Client(web.base).get(`/m/${token}`);
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/static/link-key.js"></script>');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const js = await fetch(`${web.base}/static/link-key.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain(`${LINK_KEY_COOKIE}=`);
  });

  it.each<[string, () => string | undefined, number, RegExp]>([
    ['without the key part', () => undefined, 400, /Open the whole link from your email/],
    ['with a wrong key part', () => `${fragment.startsWith('A') ? 'B' : 'A'}${fragment.slice(1)}`, 400, /not complete or was changed/],
    ['with the key part', () => fragment, 200, /Your potassium is/],
  ])('signed in %s', async (_name, key, status, text) => {
    const client = new Client(web.base);
    await signIn(web, client, token, PAT);
    const k = key();
    if (k !== undefined) client.cookies.set(LINK_KEY_COOKIE, k);
    const res = await client.get(`/m/${token}`);
    expect(res.status).toBe(status);
    expect(await res.text()).toMatch(text);
    if (status === 400) expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('downloads and replies need the key part too', async () => {
    const client = new Client(web.base);
    await signIn(web, client, token, PAT);
    expect((await client.get(`/m/${token}/attachments/0`)).status).toBe(400);
    client.cookies.set(LINK_KEY_COOKIE, fragment);
    expect((await client.get(`/m/${token}/attachments/0`)).status).toBe(200);
  });
});

const describeBrowser = chromiumWanted('link-key-web.test.ts') ? describe : describe.skip;

describeBrowser('zero-knowledge links in Chromium', () => {
  let browser: Browser;
  let web: PortalWeb;

  beforeAll(async () => {
    web = await startPortalWeb();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  it('the link with its #fragment opens the message; without it the page asks for the whole link', async () => {
    const dep = await web.deposit(buildMime({ attachment: Buffer.alloc(64, 7) }), [{ address: PAT, bcc: false }], undefined, true);
    const token = dep.tokens[PAT] ?? '';
    const fragment = dep.fragments[PAT] ?? '';
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${web.base}/m/${token}#${fragment}`);
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await page.waitForSelector('input#code');
    await page.getByLabel('Code from the email').fill(web.mailer.lastCode(PAT));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.message-body');
    expect(await page.textContent('.message-body')).toContain(BODY_SECRET);
    await context.close();

    // a fresh browser with the link cut before the '#': signed in, but the message stays locked
    const bare = await browser.newContext();
    const p2 = await bare.newPage();
    await p2.goto(`${web.base}/m/${token}`);
    await p2.getByRole('button', { name: 'Email me a code' }).click();
    await p2.waitForSelector('input#code');
    await p2.getByLabel('Code from the email').fill(web.mailer.lastCode(PAT));
    await p2.getByRole('button', { name: 'Sign in' }).click();
    await p2.waitForSelector('text=Open the whole link from your email');
    // opening the whole link (a new tab, as from the email) completes it: the script keeps the key part and reloads
    const p3 = await bare.newPage();
    await p3.goto(`${web.base}/m/${token}#${fragment}`);
    await p3.waitForSelector('.message-body');
    expect(await p3.textContent('.message-body')).toContain(BODY_SECRET);
    await bare.close();
  });
});
