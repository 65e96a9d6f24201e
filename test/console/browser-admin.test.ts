/**
 * The console's export and admin pages in a real browser (Debian's headless
 * Chromium through playwright-core) against the real daemon with
 * admin.enabled, over archive entries of real mail left queued (delivery
 * off). One daemon and one Chromium for the whole file.
 *
 *   - auditor-content: the Export page, start an export with content, its
 *     progress page (a <progress> element, "n of N messages", reloading
 *     itself), the download, which `sealgate archive verify-export` accepts;
 *   - admin: the configuration (no master key, no code secret in the page),
 *     hold and release a queued message, the delete confirmation, add a user
 *     (the URI shown once);
 *   - auditor: 403 on /admin/*.
 *
 * Screenshots of each page at 390×844 and 1280×800 go to
 * reports/screenshots/console/ (as the other console pages').
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Secret } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportJob } from '../../src/console/http/export-jobs.js';
import { renderPage } from '../../src/console/http/layout.js';
import { exportJobPage } from '../../src/console/http/pages-export.js';
import { buildConsoleStylesheet } from '../../src/console/http/stylesheet.js';
import { totpCode } from '../../src/console/totp.js';
import { chromiumWanted, launchChromium, saveScreenshot, VIEWPORTS } from '../helpers/browser.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';
import { secretOfUri } from './console-web-helper.js';

const describeBrowser = chromiumWanted('console/browser-admin.test.ts') ? describe : describe.skip;
const SHOTS = join(process.cwd(), 'reports', 'screenshots', 'console');
const PASSWORD = 'correct horse battery staple';

// the browser globals a page callback uses, declared here: this file compiles for Node, without the DOM lib
declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };

describeBrowser('console export and admin pages in Chromium, on the real daemon', () => {
  let setup: TestSetup;
  let gw: RunningGateway;
  let browser: Browser;
  let base: string;
  const ids: string[] = [];
  const secrets = new Map<string, Buffer>();

  async function addUser(name: string, role: string): Promise<void> {
    const r = await runCli(['-c', setup.configPath, 'console-users', 'add', name, '--role', role, '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(r.code).toBe(0);
    secrets.set(name, secretOfUri(/^otpauth:\/\/totp\/\S+$/m.exec(r.stdout)?.[0] ?? ''));
  }

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    setup = await setupGateway();
    await setup.writeConfig({
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: {
        inspection: { enabled: true },
        admin: { enabled: true, listen: { host: '127.0.0.1', port: 0 }, certFile: join(setup.dir, 'certs', 'server.crt'), keyFile: join(setup.dir, 'certs', 'server.key') },
      },
    });
    gw = await startGateway(setup.configPath);
    base = `https://127.0.0.1:${String((await gw.waitForEvent('CONSOLE_LISTENING')).port)}`;
    for (const v of VIEWPORTS) {
      const mail = ['From: alice@example.com', `To: carol-${v.name}@dest.test`, `Subject: Browser admin ${v.name}`, '', `Body for ${v.name}`, ''].join('\r\n');
      ids.push(await sendMessage(gw.port, 'alice@example.com', [`carol-${v.name}@dest.test`], mail));
    }
    await until('the messages archived', async () => {
      const rows = await withDb(setup.dataDir, (db) => db.all<{ id: string }>('SELECT id FROM archive_messages'));
      return ids.every((id) => rows.some((r) => r.id === id));
    }, { context: () => gw.stdout.slice(-3000) });
    for (const v of VIEWPORTS) {
      await addUser(`cora-${v.name}`, 'auditor-content');
      await addUser(`root-${v.name}`, 'admin');
      await addUser(`ann-${v.name}`, 'auditor');
    }
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await setup?.cleanup();
  });

  async function newContext(viewport: { width: number; height: number }): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true, acceptDownloads: true });
    await context.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    return context;
  }

  async function shot(page: Page, name: string, viewport: { name: string }): Promise<void> {
    await saveScreenshot(page, SHOTS, name, viewport);
  }

  async function expectFits(page: Page): Promise<void> {
    const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(scroll).toBeLessThanOrEqual(client);
  }

  async function signIn(page: Page, name: string): Promise<void> {
    await page.goto(`${base}/sign-in`);
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Code from your authenticator app').fill(totpCode(secrets.get(name) ?? Buffer.alloc(0), Date.now()));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState('load');
  }

  /** Checks a running export's page and screenshots it. */
  async function progressShot(page: Page, viewport: { name: string }): Promise<void> {
    expect(await page.getAttribute('meta[http-equiv="refresh"]', 'content')).toBe('2');
    expect(await page.getByRole('progressbar', { name: 'Messages written' }).count()).toBe(1);
    await expectFits(page);
    await shot(page, 'export-progress', viewport);
  }

  for (const viewport of VIEWPORTS) {
    it(`auditor-content at ${viewport.width}×${viewport.height}: export with content, progress, download, verify-export`, async () => {
      const user = `cora-${viewport.name}`;
      const context = await newContext(viewport);
      const page = await context.newPage();
      const blocked: string[] = [];
      page.on('console', (m) => blocked.push(m.text()));
      await signIn(page, user);
      await page.getByRole('link', { name: 'Export' }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('h1')).toBe('Export evidence');
      expect(await page.isChecked('input[name="content"]')).toBe(false);
      await expectFits(page);
      await shot(page, 'export-form', viewport);

      await page.getByLabel('Sender').fill('alice@example.com');
      await page.getByLabel('Include the messages (EML files) and their subjects').check();
      await page.getByRole('button', { name: 'Start the export' }).click();
      await page.waitForLoadState('load');
      expect(new URL(page.url()).pathname).toMatch(/^\/export\/[0-9a-f]{32}$/);
      let sawRunning = false;
      if ((await page.$('meta[http-equiv="refresh"]')) !== null) {
        sawRunning = true;
        await progressShot(page, viewport);
      }
      // the page reloads itself until the export is ready
      await page.getByRole('heading', { name: 'Ready' }).waitFor({ timeout: 60_000 });
      expect(await page.$('meta[http-equiv="refresh"]')).toBeNull();
      expect(await page.textContent('[role="status"]')).toContain('2 entries, 2 messages: ready');
      await expectFits(page);
      await shot(page, 'export-ready', viewport);
      if (!sawRunning) {
        // the export was done before the first page: the running page as the server renders it, with the console's stylesheet
        const job: ExportJob = { id: '0'.repeat(32), owner: user, content: true, startedAt: Date.now(), state: 'running', total: 2, done: 1, bytes: 4096 };
        const html = renderPage(`${base}/static/console.css?v=${buildConsoleStylesheet().version}`, { ...exportJobPage(job, 4 * 3600_000), viewer: { name: user, role: 'auditor-content', csrf: 'x' }, current: 'export', refreshSeconds: 2 });
        const preview = await context.newPage();
        await preview.goto(`${base}/healthz`);
        await preview.setContent(html, { waitUntil: 'load' });
        expect(await preview.textContent('#export-status')).toContain('1 of 2 messages');
        await progressShot(preview, viewport);
        await preview.close();
      }

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the export (ZIP)' }).click()]);
      expect(download.suggestedFilename()).toMatch(/^sealgate-export-\d{8}T\d{6}Z\.zip$/);
      const zip = join(setup.dir, `${user}.zip`);
      await download.saveAs(zip);
      const verified = await runCli(['archive', 'verify-export', zip]);
      expect(verified.stdout).toMatch(/^export OK: .*: 2 entries, 2 recipient rows, 2 messages;/);
      expect(verified.code).toBe(0);
      expect(blocked.filter((m) => /Content Security Policy|Refused to/i.test(m))).toEqual([]);
      await context.close();
      expect((await auditEvents(setup.configPath, 500)).filter((e) => e.type === 'archive:exported').map((e) => e.data)).toContainEqual(expect.objectContaining({ operator: user, via: 'console', content: 'yes', entries: 2 }));
    }, 120_000);

    it(`admin at ${viewport.width}×${viewport.height}: configuration without secrets, hold and release, add a user; an auditor gets 403`, async () => {
      const user = `root-${viewport.name}`;
      const id = ids[VIEWPORTS.indexOf(viewport)] ?? '';
      const context = await newContext(viewport);
      const page = await context.newPage();
      await signIn(page, user);
      expect(await page.textContent('h1')).toContain(`Signed in as ${user}`);
      await expectFits(page);
      await shot(page, 'admin-home', viewport);

      await page.getByRole('link', { name: 'Configuration', exact: true }).click();
      await page.waitForLoadState('load');
      const config = (await page.textContent('main')) ?? '';
      expect(config).toContain('masterKeyFile');
      const keyHex = (await readFile(setup.masterKeyFile, 'utf8')).trim().slice(-64);
      expect(config).not.toContain(keyHex);
      for (const secret of secrets.values()) expect(config).not.toContain(new Secret({ buffer: new Uint8Array(secret).buffer }).base32);
      await expectFits(page);
      await shot(page, 'admin-config', viewport);

      await page.getByRole('link', { name: 'Queue', exact: true }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('main')).toContain(id);
      await expectFits(page);
      await shot(page, 'admin-queue', viewport);
      await page.getByRole('button', { name: `Hold ${id}` }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('[role="status"]')).toContain(`Held ${id}: 1 recipient.`);
      await expectFits(page);
      await shot(page, 'admin-queue-held', viewport);
      await page.getByRole('button', { name: `Release ${id}` }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('[role="status"]')).toContain(`Released ${id}: 1 recipient.`);
      // delete asks first; "Keep it" goes back without deleting
      await page.getByRole('button', { name: `Delete ${id}` }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('h1')).toBe(`Delete ${id}?`);
      await expectFits(page);
      await shot(page, 'admin-queue-delete', viewport);
      await page.getByRole('link', { name: 'Keep it' }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('main')).toContain(id);

      await page.getByRole('link', { name: 'Users', exact: true }).click();
      await page.waitForLoadState('load');
      await expectFits(page);
      await shot(page, 'admin-users', viewport);
      await page.getByLabel('Name', { exact: true }).fill(`new-${viewport.name}`);
      await page.getByLabel('Role').selectOption('auditor');
      await page.getByLabel('Initial password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('h2#uri-h')).toBe(`new-${viewport.name} was added`);
      expect(await page.textContent('code.uri')).toMatch(/^otpauth:\/\/totp\//);
      expect(await page.textContent('table.data tbody')).toContain(`new-${viewport.name}`);
      await expectFits(page);
      await shot(page, 'admin-user-added', viewport);
      await context.close();

      const auditor = await newContext(viewport);
      const apage = await auditor.newPage();
      await signIn(apage, `ann-${viewport.name}`);
      for (const path of ['/admin/config', '/admin/queue', '/admin/users']) expect((await apage.goto(`${base}${path}`))?.status()).toBe(403);
      expect(await apage.textContent('main')).toContain('The admin pages need the admin role');
      await expectFits(apage);
      await shot(apage, 'admin-refused', viewport);
      await auditor.close();

      const events = await auditEvents(setup.configPath, 500);
      expect(events.filter((e) => e.type === 'queue:held').map((e) => e.data)).toContainEqual({ queueId: id, operator: user, recipients: 1, via: 'console' });
      expect(events.filter((e) => e.type === 'queue:released').map((e) => e.data)).toContainEqual({ queueId: id, operator: user, recipients: 1, via: 'console' });
      expect(events.filter((e) => e.type === 'console:user_added').map((e) => e.data)).toContainEqual({ user: `new-${viewport.name}`, role: 'auditor', operator: user, via: 'console' });
      expect(events.filter((e) => e.type === 'console:admin_refused' && e.data.operator === `ann-${viewport.name}`)).toHaveLength(3);
    }, 120_000);
  }
});
