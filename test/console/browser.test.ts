/**
 * The auditor console in a real browser (Debian's headless Chromium through
 * playwright-core) against the real daemon with admin.enabled, over archive
 * entries of real mail: two messages delivered over verified TLS to a
 * loopback MX (one with PHI), console users made with `sealgate
 * console-users add`, codes computed from the printed otpauth URI as an
 * authenticator app would.
 *
 *   - auditor-content: a wrong code is refused; password + code sign in;
 *     search; open a message's evidence; open its content with a reason.
 *   - auditor: finds the PHI message by DLP category, sees its
 *     evidence (tls-verified); no "open content" form; the direct URL and a crafted POST
 *     answer 403, and each refusal is in the audit log.
 *
 * Screenshots of every page at 390×844 and 1280×800 go to
 * reports/screenshots/console/ (next to the portal's) for a person to look at.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/console/totp.js';
import { issueCertificate } from '../../src/tls/x509.js';
import { chromiumWanted, launchChromium, saveScreenshot, VIEWPORTS } from '../helpers/browser.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { phiMail } from '../helpers/phi-mail.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';
import { secretOfUri } from './console-web-helper.js';

const describeBrowser = chromiumWanted('console/browser.test.ts') ? describe : describe.skip;
const SHOTS = join(process.cwd(), 'reports', 'screenshots', 'console');
const PASSWORD = 'correct horse battery staple';
const MARKER = 'CONSOLE-BROWSER-MARKER';

// the browser globals a page callback uses, declared here: this file compiles for Node, without the DOM lib
declare const document: { documentElement: { scrollWidth: number; clientWidth: number }; activeElement: { id: string; textContent: string | null } | null };

describeBrowser('auditor console in Chromium, on the real daemon', () => {
  let setup: TestSetup;
  let gw: RunningGateway;
  let zone: DnsZone;
  let mx: MxServer;
  let browser: Browser;
  let base: string;
  const ids: Record<string, string> = {};
  const secrets = new Map<string, Buffer>();

  async function addUser(name: string, role: string): Promise<void> {
    const r = await runCli(['-c', setup.configPath, 'console-users', 'add', name, '--role', role, '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    secrets.set(name, secretOfUri(/^otpauth:\/\/totp\/\S+$/m.exec(r.stdout)?.[0] ?? ''));
  }

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    setup = await setupGateway();
    const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.verified.test', dnsNames: ['mx.verified.test'], usage: 'server' });
    mx = await startMxServer({ ip: '127.0.0.41', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
    zone = await startDnsZone([
      { name: 'verified.test', type: 'MX', exchange: 'mx.verified.test', priority: 10 },
      { name: 'mx.verified.test', type: 'A', address: '127.0.0.41' },
    ]);
    await setup.writeConfig({
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: {
        dns: { servers: [zone.server] },
        delivery: { enabled: true, port: mx.port, defaultRequirement: 'verify', retry: { backoff: ['1h'] } },
        inspection: { enabled: true },
        // the test PKI's server certificate names localhost and 127.0.0.1
        admin: { enabled: true, listen: { host: '127.0.0.1', port: 0 }, certFile: join(setup.dir, 'certs', 'server.crt'), keyFile: join(setup.dir, 'certs', 'server.key') },
      },
    });
    gw = await startGateway(setup.configPath);
    const listening = await gw.waitForEvent('CONSOLE_LISTENING');
    base = `https://127.0.0.1:${String(listening.port)}`;
    const invoice = ['From: alice@example.com', 'To: carol@verified.test', 'Subject: Quarterly invoice March', 'Message-ID: <invoice-1@example.com>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', `The invoice <b>is</b> attached. ${MARKER}`, ''].join('\r\n');
    ids.invoice = await sendMessage(gw.port, 'alice@example.com', ['carol@verified.test'], invoice);
    ids.lab = await sendMessage(gw.port, 'bob@example.com', ['frank@verified.test'], phiMail({ from: 'bob@example.com', to: 'frank@verified.test', subject: 'Lab results for review', bodyMarker: 'LAB-MARKER', attachmentName: 'scan.bin', attachmentType: 'application/octet-stream', attachment: Buffer.alloc(300, 0x5a), messageId: '<lab-1@example.com>' }));
    await until('both messages archived and delivered', async () => {
      const rows = await withDb(setup.dataDir, (db) => db.all<{ archive_id: string; state: string }>('SELECT archive_id, state FROM archive_recipients'));
      return Object.values(ids).every((id) => rows.some((r) => r.archive_id === id && r.state === 'delivered'));
    }, { context: () => gw.stdout.slice(-3000) });
    for (const v of VIEWPORTS) {
      await addUser(`cora-${v.name}`, 'auditor-content');
      await addUser(`ann-${v.name}`, 'auditor');
    }
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await mx?.close();
    await zone?.close();
    await setup?.cleanup();
  });

  async function newContext(viewport: { width: number; height: number }): Promise<BrowserContext> {
    // the listener's certificate is from the test CA, which this Chromium does not know
    const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
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

  async function signIn(page: Page, name: string, code: string): Promise<void> {
    await page.goto(`${base}/sign-in`);
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Code from your authenticator app').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState('load');
  }

  function codeFor(name: string): string {
    return totpCode(secrets.get(name) ?? Buffer.alloc(0), Date.now());
  }

  for (const viewport of VIEWPORTS) {
    it(`auditor-content at ${viewport.width}×${viewport.height}: wrong code refused, sign in, search, evidence, content with a reason`, async () => {
      const user = `cora-${viewport.name}`;
      const context = await newContext(viewport);
      const page = await context.newPage();
      const scripts: string[] = [];
      // the browser's console: a CSP violation would show here
      page.on('console', (m) => scripts.push(m.text()));

      await page.goto(`${base}/sign-in`);
      expect(await page.textContent('h1')).toBe('Sign in');
      expect(await page.getAttribute('input[name="password"]', 'autocomplete')).toBe('current-password');
      expect(await page.getAttribute('input[name="code"]', 'autocomplete')).toBe('one-time-code');
      await expectFits(page);
      await shot(page, 'sign-in', viewport);
      // keyboard: the skip link first, then the name field
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('username');

      const good = codeFor(user);
      await signIn(page, user, good === '000000' ? '000001' : '000000');
      expect(await page.textContent('[role="alert"]')).toContain('The name, password or code is not right.');
      await shot(page, 'sign-in-refused', viewport);

      await signIn(page, user, good);
      expect(new URL(page.url()).pathname).toBe('/archive');
      expect(await page.textContent('h1')).toBe('Archive search');
      await expectFits(page);
      await shot(page, 'search', viewport);

      await page.getByLabel('Sender').fill('alice@example.com');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForLoadState('load');
      expect(page.url()).toContain('from=alice%40example.com');
      const caption = await page.textContent('table.data caption');
      expect(caption).toBe('1 entry, newest first');
      expect(await page.textContent('table.data tbody')).toContain('carol@verified.test');
      await expectFits(page);
      await shot(page, 'search-results', viewport);

      await page.getByRole('link', { name: ids.invoice }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('h1')).toContain(ids.invoice);
      const evidence = await page.textContent('table.data');
      expect(evidence).toContain('Per-recipient evidence (1)');
      expect(evidence).toContain('carol@verified.test');
      // not sensitive: opportunistic by policy, and the TLS the MX offered was verified anyway
      expect(evidence).toContain('tls-opportunistic');
      expect(evidence).toContain('TLSv1.3');
      expect(evidence).toContain('certificate verified');
      expect(evidence).toContain('delivered');
      expect(await page.textContent('dl.meta')).toContain('Quarterly invoice March');
      // the evidence table scrolls inside its box on a phone: a labelled region the keyboard can reach
      expect(await page.getAttribute('div.table-box', 'tabindex')).toBe('0');
      expect(await page.getByRole('region', { name: 'Per-recipient evidence (1)' }).count()).toBe(1);
      await expectFits(page);
      await shot(page, 'entry', viewport);

      // the reason is required: the browser does not submit an empty one
      await page.getByLabel('Reason for opening').fill(`ticket 4711 (${viewport.name})`);
      await page.getByRole('button', { name: 'Open content' }).click();
      await page.waitForLoadState('load');
      const content = await page.textContent('pre.content');
      expect(content).toContain(MARKER);
      expect(content).toContain('The invoice <b>is</b> attached.');
      expect(await page.$$('pre.content b')).toHaveLength(0);
      await expectFits(page);
      await shot(page, 'content', viewport);

      // the audit log page shows the content opening just recorded, newest first
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('h1')).toBe('Audit log');
      expect(await page.textContent('table tbody tr:first-child')).toContain('archive:content_opened');
      await expectFits(page);
      await shot(page, 'audit', viewport);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('[role="status"]')).toContain('You are signed out.');
      await shot(page, 'signed-out', viewport);
      // nothing was blocked by the CSP: the pages load nothing they may not
      expect(scripts.filter((m) => /Content Security Policy|Refused to/i.test(m))).toEqual([]);
      await context.close();

      const events = await auditEvents(setup.configPath, 500);
      expect(events.filter((e) => e.type === 'archive:content_opened').map((e) => e.data)).toContainEqual({ queueId: ids.invoice, operator: user, via: 'console', reason: `ticket 4711 (${viewport.name})` });
      expect(events.filter((e) => e.type === 'archive:read').map((e) => e.data)).toContainEqual({ queueId: ids.invoice, operator: user, via: 'console' });
      expect(events.filter((e) => e.type === 'archive:searched').map((e) => e.data)).toContainEqual({ operator: user, via: 'console', filters: ['from'], results: 1 });
      expect(events.filter((e) => e.type === 'console:sign_in_failed').map((e) => e.data)).toContainEqual(expect.objectContaining({ user, reason: 'code' }));
    }, 60_000);

    it(`auditor at ${viewport.width}×${viewport.height}: no content button; direct URL and crafted POST are 403 and audited`, async () => {
      const user = `ann-${viewport.name}`;
      const context = await newContext(viewport);
      const page = await context.newPage();
      await signIn(page, user, codeFor(user));
      await page.goto(`${base}/archive?category=MRN`);
      expect(await page.textContent('table.data tbody')).toContain(ids.lab);
      await shot(page, 'search-category', viewport);
      await page.goto(`${base}/archive/${ids.lab}`);
      expect(await page.textContent('h1')).toContain(ids.lab);
      expect(await page.textContent('dl.meta')).toContain('PHI');
      // PHI: delivered by verified TLS only
      expect(await page.textContent('table.data')).toContain('tls-verified');
      expect(await page.$$('button:has-text("Open content")')).toHaveLength(0);
      expect(await page.$$('input[name="reason"]')).toHaveLength(0);
      await expectFits(page);
      await shot(page, 'entry-auditor', viewport);
      const csrf = (await page.getAttribute('input[name="csrf"]', 'value')) ?? '';

      const direct = await page.goto(`${base}/archive/${ids.lab}/content`);
      expect(direct?.status()).toBe(403);
      expect(await page.textContent('main')).toContain('needs the auditor-content role');
      await expectFits(page);
      await shot(page, 'content-refused', viewport);
      const crafted = await context.request.post(`${base}/archive/${ids.lab}/content`, { form: { csrf, reason: 'just looking' }, maxRedirects: 0 });
      expect(crafted.status()).toBe(403);
      expect(await crafted.text()).not.toContain('LAB-MARKER');
      await context.close();

      const events = await auditEvents(setup.configPath, 500);
      expect(events.filter((e) => e.type === 'archive:content_refused' && e.data.operator === user).map((e) => e.data)).toEqual([
        { queueId: ids.lab, operator: user, via: 'console' },
        { queueId: ids.lab, operator: user, via: 'console' },
      ]);
      expect(events.some((e) => e.type === 'archive:content_opened' && e.data.operator === user)).toBe(false);
    }, 60_000);
  }
});
