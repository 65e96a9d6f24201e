/**
 * The reports page on the real daemon, over the archive of a real mixed run
 * (a dns2 zone as the only resolver, loopback MX sinks, certificates from the
 * test CA, the portal on):
 *   - invoice:  alice → carol@verified.test, delivered over verified TLS;
 *   - referral: bob → dan@verified.test (delivered) and nobody@strict.test
 *               (550 5.1.1: bounced);
 *   - export:   alice → erin@held.test, held by a quarantine rule;
 *   - lab:      bob → frank@verified.test, PHI: delivered by tls-verified;
 *   - plain:    alice → gus@plain.test, whose MX has no STARTTLS: delivered
 *               without TLS;
 *   - results:  bob → hana@plain.test, PHI, same MX: no verified TLS, so
 *               the portal (fallback after 0s).
 * GET /reports over HTTPS gives those figures (methods, DLP categories, TLS
 * posture per domain, the bounce's reply code, the portal deposit) and
 * records the view; then Chromium opens the page from the navigation at
 * 390×844 and 1280×800 (one browser start), checks the charts and tables
 * are there, fit the screen, break no CSP rule, and saves screenshots next
 * to the other console pages' (reports/screenshots/console/).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/console/totp.js';
import { issueCertificate } from '../../src/tls/x509.js';
import { chromiumWanted, launchChromium, VIEWPORTS } from '../helpers/browser.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { phiMail } from '../helpers/phi-mail.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';
import { Client, secretOfUri } from './console-web-helper.js';

const SHOTS = join(process.cwd(), 'reports', 'screenshots', 'console');
const PASSWORD = 'correct horse battery staple';
const describeBrowser = chromiumWanted('console/reports-daemon.test.ts') ? describe : describe.skip;

// the browser globals a page callback uses, declared here: this file compiles for Node, without the DOM lib
declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let base: string;
let port: number;
const mx: MxServer[] = [];
const ids: Record<string, string> = {};
const secrets = new Map<string, Buffer>();

function mail(from: string, to: string, subject: string, body: string): string {
  return [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n');
}

async function addUser(name: string, role: string): Promise<void> {
  const r = await runCli(['-c', setup.configPath, 'console-users', 'add', name, '--role', role, '--password-stdin'], { input: `${PASSWORD}\n` });
  expect(r.code).toBe(0);
  secrets.set(name, secretOfUri(/^otpauth:\/\/totp\/\S+$/m.exec(r.stdout)?.[0] ?? ''));
}

const codeFor = (name: string): string => totpCode(secrets.get(name) ?? Buffer.alloc(0), Date.now());
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
/** The days (UTC) the run's messages were received: one, unless the run crossed midnight. */
const run = { first: '', last: '', results: '' };
const summary = (): string => `${run.first === run.last ? `On ${run.first}` : `From ${run.first} to ${run.last}`} (UTC): 6 messages to 7 recipients.`;

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.test', dnsNames: ['mx.verified.test', 'mx.strict.test', 'mx.held.test'], usage: 'server' });
  const tls = { key: cert.keyPem, cert: cert.certPem };
  const first = await startMxServer({ ip: '127.0.0.61', port: 0, tls, rcpt: (a) => (a.startsWith('nobody@') ? [550, '5.1.1 No such user here'] : undefined) });
  mx.push(first);
  // no STARTTLS here: plain.test, and the senders' domain (where the bounce's DSN goes)
  mx.push(await startMxServer({ ip: '127.0.0.62', port: first.port }));
  zone = await startDnsZone([
    { name: 'verified.test', type: 'MX', exchange: 'mx.verified.test', priority: 10 },
    { name: 'mx.verified.test', type: 'A', address: '127.0.0.61' },
    { name: 'strict.test', type: 'MX', exchange: 'mx.strict.test', priority: 10 },
    { name: 'mx.strict.test', type: 'A', address: '127.0.0.61' },
    { name: 'held.test', type: 'MX', exchange: 'mx.held.test', priority: 10 },
    { name: 'mx.held.test', type: 'A', address: '127.0.0.61' },
    { name: 'plain.test', type: 'MX', exchange: 'mx.plain.test', priority: 10 },
    { name: 'mx.plain.test', type: 'A', address: '127.0.0.62' },
    { name: 'example.com', type: 'MX', exchange: 'mx.plain.test', priority: 10 },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: first.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
      tls: { trustedCaFiles: [setup.pki.caFile], portalFallback: { enabled: true, after: '0s' }, mtaSts: { enabled: false } },
      inspection: { enabled: true },
      policy: { rules: [{ id: 'hold-held-test', when: { recipients: ['held.test'] }, then: { action: 'quarantine' } }] },
      portal: { enabled: true, publicUrl: 'https://portal.example.test', listen: { host: '127.0.0.1', port: 0 }, branding: { organisationName: 'Example Clinic' } },
      admin: { enabled: true, listen: { host: '127.0.0.1', port: 0 }, certFile: join(setup.dir, 'certs', 'server.crt'), keyFile: join(setup.dir, 'certs', 'server.key') },
    },
  });
  gw = await startGateway(setup.configPath);
  port = Number((await gw.waitForEvent('CONSOLE_LISTENING')).port);
  base = `https://127.0.0.1:${String(port)}`;
  const phi = (to: string, subject: string, marker: string) =>
    phiMail({ from: 'bob@example.com', to, subject, bodyMarker: marker, attachmentName: 'scan.bin', attachmentType: 'application/octet-stream', attachment: Buffer.alloc(300, 0x5a) });
  const messages: [string, string, string[], string][] = [
    ['invoice', 'alice@example.com', ['carol@verified.test'], mail('alice@example.com', 'carol@verified.test', 'Quarterly invoice', 'The invoice.')],
    ['referral', 'bob@example.com', ['dan@verified.test', 'nobody@strict.test'], mail('bob@example.com', 'dan@verified.test, nobody@strict.test', 'Referral', 'See the referral.')],
    ['export', 'alice@example.com', ['erin@held.test'], mail('alice@example.com', 'erin@held.test', 'Export', 'Numbers.')],
    ['lab', 'bob@example.com', ['frank@verified.test'], phi('frank@verified.test', 'Lab results', 'REPORTS-LAB-MARKER')],
    ['plain', 'alice@example.com', ['gus@plain.test'], mail('alice@example.com', 'gus@plain.test', 'Lunch', 'At noon.')],
    ['results', 'bob@example.com', ['hana@plain.test'], phi('hana@plain.test', 'Your results', 'REPORTS-PORTAL-MARKER')],
  ];
  for (const [name, from, to, raw] of messages) ids[name] = await sendMessage(gw.port, from, to, raw);
  await until(
    'every message archived and settled',
    async () => {
      const rows = await withDb(setup.dataDir, (db) => db.all<{ archive_id: string; state: string }>('SELECT archive_id, state FROM archive_recipients'));
      return Object.values(ids).every((id) => {
        const states = rows.filter((r) => r.archive_id === id).map((r) => r.state);
        return states.length > 0 && states.every((s) => ['delivered', 'bounced', 'held'].includes(s));
      });
    },
    { timeoutMs: 60_000, context: () => gw.stdout.slice(-3000) },
  );
  const received = await withDb(setup.dataDir, (db) => db.all<{ id: string; received_at: number }>('SELECT id, received_at FROM archive_messages'));
  const times = received.map((r) => r.received_at);
  run.first = dayOf(Math.min(...times));
  run.last = dayOf(Math.max(...times));
  run.results = dayOf(received.find((r) => r.id === ids.results)?.received_at ?? 0);
  await addUser('ann-http', 'auditor');
  for (const v of VIEWPORTS) await addUser(`ann-${v.name}`, 'auditor');
}, 180_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all(mx.map((m) => m.close()));
  await zone?.close();
  await setup?.cleanup();
});

describe('reports over the archive of a real mixed run', () => {
  it('GET /reports gives each figure of the run, names no address, and is audited with its window', async () => {
    const c = new Client(port, setup.pki.ca.certPem);
    const signIn = await c.signIn('ann-http', PASSWORD, codeFor('ann-http'));
    expect(signIn.status).toBe(303);
    const r = await c.get(`/reports?since=${run.first}&until=${run.last}`);
    expect(r.status).toBe(200);
    const body = r.body;
    expect(body).toContain(summary());
    // methods (the totals row): carol, dan, nobody, gus opportunistic; frank verified; hana portal; erin quarantine
    const methodsTable = /<table class="data"><caption id="table-methods-caption">[\s\S]*?<\/table>/.exec(body)?.[0] ?? '';
    const header = [...methodsTable.matchAll(/<th scope="col">([^<]+)<\/th>/g)].map((m) => m[1]);
    const row = [...(/<tfoot>(.*?)<\/tfoot>/.exec(methodsTable)?.[1] ?? '').matchAll(/<td class="num">(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(Object.fromEntries(header.slice(1).map((h, i) => [h, row[i]]))).toEqual({ 'tls-verified': 1, 'tls-opportunistic': 4, portal: 1, quarantine: 1 });
    // DLP: the two PHI messages' categories, each in 2 messages
    expect(body).toMatch(/<tr><th scope="row">MRN<\/th><td class="num">2<\/td><td class="num">\d+<\/td><\/tr>/);
    // posture: verified.test 3 attempts all verified; strict.test 1 verified (then refused); plain.test no TLS
    expect(body).toMatch(/<tr><th scope="row">verified.test<\/th><td class="num">3<\/td><td class="num">100<\/td><td class="num">3<\/td><td class="num">0<\/td><td class="num">0<\/td>/);
    expect(body).toMatch(/<tr><th scope="row">strict.test<\/th><td class="num">1<\/td><td class="num">100<\/td>/);
    expect(body).toMatch(/<tr><th scope="row">plain.test<\/th><td class="num">1<\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num">1<\/td>/);
    // the bounce and its reply code; the portal deposit, not opened
    expect(body).toContain('<tr><th scope="row">550 5.1.1</th><td class="num">1</td></tr>');
    expect(body).toMatch(new RegExp(`<caption id="table-portal-caption">[^<]*</caption>.*<tr><th scope="row">${run.results}</th><td class="num">1</td><td class="num">0</td></tr>`));
    expect(body).toContain('0 of 1 opened (0%); 0 replied.');
    for (const secret of ['@verified.test', '@plain.test', '@strict.test', 'alice@', 'No such user', 'REPORTS-', 'Lab results']) expect(body).not.toContain(secret);
    const events = await auditEvents(setup.configPath, 500);
    expect(events.filter((e) => e.type === 'console:report_viewed').map((e) => e.data)).toContainEqual({ operator: 'ann-http', via: 'console', since: run.first, until: run.last });
  });
});

describeBrowser('the reports page in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function fits(page: Page): Promise<void> {
    const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(scroll).toBeLessThanOrEqual(client);
  }

  for (const viewport of VIEWPORTS) {
    it(`at ${viewport.width}×${viewport.height}: from the navigation, five charts with their tables, the window form, a bad window`, async () => {
      const user = `ann-${viewport.name}`;
      // the listener's certificate is from the test CA, which this Chromium does not know
      const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
      await context.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
      const page = await context.newPage();
      const messages: string[] = [];
      page.on('console', (m) => messages.push(m.text()));
      await page.goto(`${base}/sign-in`);
      await page.getByLabel('Name').fill(user);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByLabel('Code from your authenticator app').fill(codeFor(user));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForLoadState('load');

      await page.getByRole('link', { name: 'Reports' }).click();
      await page.waitForLoadState('load');
      expect(new URL(page.url()).pathname).toBe('/reports');
      expect(await page.textContent('h1')).toBe('Reports');
      expect(await page.getAttribute('nav a[href="/reports"]', 'aria-current')).toBe('page');
      // the charts: images with their accessible names; the tables: regions named by their captions
      for (const name of ['Recipients per delivery method per day', 'DLP findings per category', 'Share of attempts with verified TLS, per recipient domain', 'Bounced and expired recipients per day', 'Portal recipients per day: opened and not opened']) {
        expect(await page.getByRole('img', { name }).count()).toBe(1);
      }
      expect(await page.getByRole('region', { name: 'TLS posture per recipient domain (recipients attempted)' }).count()).toBe(1);
      // a chart is as wide as its card, not wider: it scales with its viewBox
      const widths = await page.$$eval('svg.chart', (svgs) => svgs.map((s) => [s.getBoundingClientRect().width, (s.parentElement as { clientWidth: number }).clientWidth]));
      for (const [chart, card] of widths) expect(chart).toBeLessThanOrEqual(card ?? 0);
      await fits(page);
      await page.screenshot({ path: join(SHOTS, `reports-${viewport.name}.png`), fullPage: true });
      // one card at its real size: is the chart's text readable at this width?
      await page.locator('section.report').nth(2).screenshot({ path: join(SHOTS, `reports-tls-card-${viewport.name}.png`) });

      // the form: a one-day window, then a window that is too long
      await page.getByLabel('From', { exact: true }).fill(run.first);
      await page.getByLabel('To (included)', { exact: true }).fill(run.last);
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForLoadState('load');
      expect(await page.textContent('p.summary')).toContain(summary());
      await fits(page);
      await page.screenshot({ path: join(SHOTS, `reports-one-day-${viewport.name}.png`), fullPage: true });
      const bad = await page.goto(`${base}/reports?since=2020-01-01&until=${run.last}`);
      expect(bad?.status()).toBe(400);
      expect(await page.textContent('[role="alert"]')).toContain('A report covers at most 366 days');
      await fits(page);
      await page.screenshot({ path: join(SHOTS, `reports-refused-${viewport.name}.png`), fullPage: true });
      expect(messages.filter((m) => /Content Security Policy|Refused to/i.test(m))).toEqual([]);
      await context.close();
    }, 60_000);
  }
});
