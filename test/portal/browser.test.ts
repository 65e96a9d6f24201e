/**
 * The portal's pages in a real browser: Debian's headless Chromium driven by
 * playwright-core (which downloads nothing). The flows a recipient goes
 * through — open the link, ask for a code, type it, read, download the
 * attachment, sign out — and a hostile message that tries to run script or
 * reach a loopback listener that counts requests: nothing may run, nothing
 * may be fetched.
 *
 * Screenshots of every page at 390×844 (a phone) and 1280×800 go to
 * reports/screenshots/portal/ for a person to look at.
 *
 * Chromium is at /usr/bin/chromium here and in CI (.ci/run installs it).
 * Without it the file is skipped with a message, except in CI, where it
 * must run.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumWanted, launchChromium, PORTAL_SHOTS, saveScreenshot, VIEWPORTS } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentBytes, BODY_SECRET, buildMime, hostileHtml } from '../helpers/portal-mime.js';
import { DAY, NOW, type PortalWeb, startPortalWeb } from '../helpers/portal-web.js';

const describeBrowser = chromiumWanted('browser.test.ts') ? describe : describe.skip;

const SHOTS = PORTAL_SHOTS;
const PAT = 'pat@gmail.example';
const CARER = 'carer@outlook.example';

// the few browser globals the page callbacks use, declared here: this file compiles for Node, without the DOM lib
declare const document: { documentElement: { scrollWidth: number; clientWidth: number }; activeElement: { textContent: string | null } | null };
declare const window: { __pwned?: string };
declare function getComputedStyle(element: unknown): { backgroundColor: string; outlineStyle: string };

describeBrowser('portal pages in Chromium', () => {
  let browser: Browser;
  let web: PortalWeb;
  let counter: Server;
  let counterOrigin: string;
  const counted: string[] = [];
  const attachment = attachmentBytes(50_000);

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    counter = createServer((req, res) => {
      counted.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('counted');
    });
    await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
    counterOrigin = `http://127.0.0.1:${(counter.address() as AddressInfo).port}`;
    web = await startPortalWeb({ portal: { branding: { organisationName: 'Riverside Clinic', colour: '#00695c', supportContact: 'help@riverside.example or 01632 960000', footer: 'Confidential: for the named recipient only.\nRiverside Clinic, 1 River Road.' } } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await new Promise<void>((resolve) => (counter ? counter.close(() => resolve()) : resolve()));
  });

  async function newContext(viewport: { width: number; height: number }): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    // belt and braces: only loopback leaves the browser
    await context.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      return host === '127.0.0.1' ? route.continue() : route.abort();
    });
    return context;
  }

  async function shot(page: Page, name: string, viewport: { name: string }): Promise<void> {
    await saveScreenshot(page, SHOTS, name, viewport);
  }

  /** No horizontal scrolling: the page fits the viewport width. */
  async function expectFits(page: Page): Promise<void> {
    const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(scroll).toBeLessThanOrEqual(client);
  }

  async function askCode(page: Page): Promise<void> {
    await page.getByRole('button', { name: /email me a (new )?code/i }).first().click();
    await page.waitForSelector('input#code');
  }

  async function typeCode(page: Page, code: string): Promise<void> {
    await page.getByLabel('Code from the email').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState('load');
  }

  for (const viewport of VIEWPORTS) {
    it(`reads a message at ${viewport.width}×${viewport.height}: sign in, read, download, print, sign out`, async () => {
      const { tokens } = await web.deposit(buildMime({ attachment }), [
        { address: PAT, bcc: false },
        { address: CARER, bcc: false },
      ]);
      const context = await newContext(viewport);
      const page = await context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });

      await page.goto(`${web.base}/m/${tokens[PAT]}`);
      expect(await page.textContent('h1')).toBe('Open your secure message');
      expect(await page.textContent('main')).toContain('p\u2022\u2022\u2022@gmail.example');
      // the stylesheet applied: the header has the accent colour
      expect(await page.$eval('header.brand', (el) => getComputedStyle(el).backgroundColor)).toBe('rgb(0, 105, 92)');
      await expectFits(page);
      await shot(page, 'sign-in', viewport);
      // keyboard focus is visible: skip link first, then the button
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Email me a code');
      expect(await page.$eval('button:focus-visible', (b) => getComputedStyle(b).outlineStyle)).toBe('solid');
      await shot(page, 'sign-in-focus', viewport);

      await askCode(page);
      expect(await page.textContent('main')).toContain('We emailed a one-time code');
      await expectFits(page);
      await shot(page, 'code-entry', viewport);

      await typeCode(page, '00000000' === web.mailer.lastCode(PAT) ? '11111111' : '00000000');
      expect(await page.textContent('[role="alert"]')).toContain('That code is not right. 4 tries left.');
      await expectFits(page);
      await shot(page, 'wrong-code', viewport);

      await typeCode(page, web.mailer.lastCode(PAT));
      expect(page.url()).toBe(`${web.base}/m/${tokens[PAT]}`);
      expect(await page.textContent('.message-body')).toContain(BODY_SECRET);
      expect(await page.textContent('.note')).toContain('1 image from the internet was not loaded');
      // the embedded cid: image rendered (it is a data: URI, allowed by the CSP)
      expect(await page.$eval('.message-body img', (img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);
      await expectFits(page);
      await shot(page, 'message', viewport);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Download Lab results/ }).click()]);
      expect(download.suggestedFilename()).toBe('Lab results – März.pdf');
      const saved = await download.path();
      expect((await readFile(saved)).equals(attachment)).toBe(true);

      await page.getByRole('button', { name: 'Print view' }).click();
      await page.waitForURL(/\/print/);
      expect(await page.$$('form')).toHaveLength(0);
      expect(await page.textContent('main')).toContain(BODY_SECRET);
      await shot(page, 'print', viewport);
      await page.emulateMedia({ media: 'print' });
      await shot(page, 'print-media', viewport);
      await page.emulateMedia({ media: 'screen' });
      await page.getByRole('link', { name: 'Back to the message' }).click();

      await page.getByRole('button', { name: 'Sign out' }).click();
      expect(await page.textContent('h1')).toBe('You have signed out');
      await shot(page, 'signed-out', viewport);
      await page.goto(`${web.base}/m/${tokens[PAT]}`);
      expect(await page.textContent('h1')).toBe('Open your secure message');

      expect(dialogs).toEqual([]);
      expect(counted).toEqual([]);
      await context.close();
    });

    it(`shows the lockout, link-state and error pages at ${viewport.width}×${viewport.height}`, async () => {
      const { tokens, depositId } = await web.deposit(buildMime({ attachment }), [{ address: CARER, bcc: false }], 2 * DAY);
      const context = await newContext(viewport);
      const page = await context.newPage();
      await page.goto(`${web.base}/m/${tokens[CARER]}`);
      await askCode(page);
      const wrong = web.mailer.lastCode(CARER) === '00000000' ? '11111111' : '00000000';
      for (let i = 0; i < 5; i++) await typeCode(page, wrong);
      expect(await page.textContent('h1')).toBe('Too many wrong codes');
      await expectFits(page);
      await shot(page, 'lockout', viewport);

      web.clock = NOW + 3 * DAY;
      await page.goto(`${web.base}/m/${tokens[CARER]}`);
      expect(await page.textContent('h1')).toBe('This message has expired');
      await shot(page, 'expired', viewport);
      web.clock = NOW;

      await web.db.run('UPDATE portal_messages SET revoked_at = ? WHERE deposit_id = ?', [NOW, depositId]);
      await page.goto(`${web.base}/m/${tokens[CARER]}`);
      expect(await page.textContent('h1')).toBe('This message was withdrawn');
      await shot(page, 'revoked', viewport);

      await page.goto(`${web.base}/m/${'Z'.repeat(43)}`);
      expect(await page.textContent('h1')).toBe('This link is not valid');
      await shot(page, 'unknown-link', viewport);

      await page.goto(`${web.base}/no/such/page`);
      expect(await page.textContent('h1')).toBe('Page not found');
      await expectFits(page);
      await shot(page, 'not-found', viewport);
      await context.close();
    });
  }

  it('a hostile message runs nothing and fetches nothing, with or without images', async () => {
    const { tokens } = await web.deposit(buildMime({ html: hostileHtml(counterOrigin), cc: '' }), [{ address: PAT, bcc: false }]);
    const context = await newContext({ width: 1280, height: 800 });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${web.base}/m/${tokens[PAT]}`);
    await askCode(page);
    await typeCode(page, web.mailer.lastCode(PAT));
    expect(await page.textContent('#main')).toContain(BODY_SECRET);
    await page.waitForLoadState('networkidle');
    await shot(page, 'hostile', { name: 'desktop' });
    // the links that were javascript: lost their href: clicking does nothing
    await page.getByText('click me').click();
    await page.getByText('obfuscated').click();
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.$$('script, style:not(head style), iframe, object, embed, form:not(.inline):not([action^="/m/"]), svg')).toHaveLength(0);

    // with remote images allowed: https images may load (none here), http ones never
    await page.getByRole('button', { name: 'Show images' }).click();
    await page.waitForLoadState('networkidle');
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();

    expect(dialogs).toEqual([]);
    expect(counted).toEqual([]);
    await context.close();
  });
});
