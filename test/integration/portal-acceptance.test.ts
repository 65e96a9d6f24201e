/**
 * The secure portal end to end (issue 11's acceptance), every part real: the
 * daemon; a recipient domain whose MX is a loopback Postfix without STARTTLS
 * (relaying into the recipient's "mailbox", a recording SMTP server); the
 * sender's own mail system behind portal.replyRoute, a TLS server with a
 * certificate from the test CA; a dns2 zone; Debian's headless Chromium.
 *
 * A PHI message with an attachment cannot go to that MX over verified TLS,
 * so it falls back to the portal. The notification reaches the mailbox and
 * holds none of the body, the subject's words or the attachment's name.
 * Chromium follows the link, asks for a code, reads it from the mailbox,
 * signs in, sees the body, downloads the attachment (byte-identical) and
 * sends a reply with an attachment, which reaches the sender's mail system
 * over verified TLS, and sets up a passkey with which a second message
 * opens without a code. Nothing of the message is readable in the data
 * directory, the logs or the audit log; revoking it shows the withdrawn page.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { chromiumWanted, launchChromium } from '../helpers/browser.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer, type ReceivedMessage } from '../helpers/mx-server.js';
import { haveTool } from '../helpers/peers.js';
import { freePort, startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';
import { phiMail } from '../helpers/phi-mail.js';
import { filePaths } from '../helpers/files.js';

const SUBJECT = 'Histology zebrafish findings';
const BODY_MARKER = 'XYZZY-ACCEPT-BODY-5521';
const ATTACHMENT_NAME = 'roe-histology-5521.pdf';
const PATIENT = 'jane.roe@partner.test';
const SENDER = 'alice@example.com';
const REPLY_MARKER = 'REPLY-FROM-PATIENT-8812';
const SHOTS = join(process.cwd(), 'reports', 'screenshots', 'portal-e2e');

const attachment = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7919) % 256));
const replyFile = Buffer.from(Array.from({ length: 12_000 }, (_, i) => (i * 31) % 256));

function phiMessage(): string {
  return phiMail({ from: SENDER, to: PATIENT, subject: SUBJECT, bodyMarker: BODY_MARKER, attachmentName: ATTACHMENT_NAME, attachmentType: 'application/pdf', attachment, messageId: '<orig-acceptance@example.com>' });
}

const postfixReady = haveTool('postfix');
const run = chromiumWanted('portal-acceptance.test.ts') && (postfixReady || process.env.CI) ? describe : describe.skip;
if (!postfixReady && !process.env.CI) console.warn('portal-acceptance.test.ts skipped: postfix is not installed');

run('the secure portal end to end', () => {
  let setup: TestSetup;
  let gw: RunningGateway;
  let zone: DnsZone;
  let postfix: PostfixInstance;
  let mailbox: MxServer;
  let senderMail: MxServer;
  let browser: Browser;
  let portalPort: number;

  const inbox = (subject: RegExp): ReceivedMessage[] => mailbox.received.filter((m) => m.to.some((t) => t.address === PATIENT) && subject.test(m.body.toString('utf8')));

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    mailbox = await startMxServer({ ip: '127.0.0.142', port: 0 });
    setup = await setupGateway({ connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }] });
    const mailCert = await issueCertificate(setup.pki.ca, { commonName: 'mail.example.com', dnsNames: ['mail.example.com'], usage: 'server' });
    senderMail = await startMxServer({ ip: '127.0.0.143', port: 0, tls: { key: mailCert.keyPem, cert: mailCert.certPem + setup.pki.ca.certPem } });
    // the recipient domain's MX: Postfix with no STARTTLS, relaying to the patient's mailbox
    postfix = await startPostfix({ smtpd: { host: '127.0.0.141', port: await freePort('127.0.0.141') }, hostname: 'mx.partner.test', relayhost: { host: mailbox.ip, port: mailbox.port } });
    zone = await startDnsZone([
      { name: 'partner.test', type: 'MX', exchange: 'mx.partner.test', priority: 10 },
      { name: 'mx.partner.test', type: 'A', address: '127.0.0.141' },
      { name: 'mail.example.com', type: 'A', address: '127.0.0.143' },
    ]);
    portalPort = await freePort('127.0.0.1');
    await setup.writeConfig({
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: {
        dns: { servers: [zone.server] },
        delivery: { enabled: true, port: postfix.smtpd.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
        tls: { trustedCaFiles: [setup.pki.caFile], portalFallback: { enabled: true, after: '0s' }, mtaSts: { enabled: false } },
        inspection: { threads: 0 },
        portal: {
          enabled: true,
          listen: { host: '127.0.0.1', port: portalPort },
          publicUrl: `https://localhost:${portalPort}`,
          certFile: join(setup.dir, 'certs', 'server.crt'),
          keyFile: join(setup.dir, 'certs', 'server.key'),
          replyRoute: `mail.example.com:${senderMail.port}`,
          branding: { organisationName: 'Example Clinic', supportContact: 'privacy@example.com' },
        },
      },
    });
    gw = await startGateway(setup.configPath);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await postfix?.cleanup().catch(() => undefined);
    await mailbox?.close();
    await senderMail?.close();
    await zone?.close();
    await setup?.cleanup();
  });

  async function newContext(): Promise<BrowserContext> {
    // the portal's certificate is from the test CA: the browser is told to accept it
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, acceptDownloads: true, ignoreHTTPSErrors: true });
    await context.route('**/*', (route) => (new URL(route.request().url()).hostname === 'localhost' ? route.continue() : route.abort()));
    return context;
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  it('delivers a PHI message through the portal: notification, code, reading, download, reply over verified TLS', async () => {
    const id = await sendMessage(gw.port, SENDER, [PATIENT], phiMessage());

    // 1. the notification reaches the patient's mailbox through the cleartext MX, without content
    const notification = await until('the notification in the mailbox', () => inbox(/^Subject: Example Clinic: Secure message\r?$/m).at(0), { timeoutMs: 60_000, context: () => gw.stdout.slice(-3000) });
    const text = notification.body.toString('utf8');
    for (const secret of [BODY_MARKER, 'zebrafish', 'Histology', 'findings', ATTACHMENT_NAME, 'roe-histology', '123-45-6789', 'diabetes']) expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
    const link = new RegExp(`https://localhost:${portalPort}/m/[A-Za-z0-9_-]{43}`).exec(text)?.[0];
    expect(link).toBeDefined();
    expect(gw.logLines().some((l) => l.event === 'PORTAL_FALLBACK' && l.queueId === id)).toBe(true);

    // 2. Chromium: the link, a code from the mailbox, the message
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(link ?? '');
    await shot(page, '1-sign-in');
    await page.getByRole('button', { name: /email me a code/i }).click();
    await page.waitForSelector('input[name="code"][autocomplete="one-time-code"]');
    await shot(page, '2-code-entry');
    const codeMail = await until('the code mail in the mailbox', () => inbox(/^Subject: Example Clinic: your sign-in code\r?$/m).at(0), { timeoutMs: 60_000, context: () => gw.stdout.slice(-3000) });
    const codeText = (await simpleParser(codeMail.body)).text ?? '';
    const codes = codeText.match(/(?<!\d)\d{6,8}(?!\d)/g) ?? [];
    expect(codes).toHaveLength(1);
    await page.locator('input[name="code"]').fill(codes[0] ?? '');
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForSelector('textarea[name="body"]');
    expect(await page.textContent('body')).toContain(BODY_MARKER);
    await shot(page, '3-message');

    // 3. the attachment, byte for byte
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${ATTACHMENT_NAME}` }).click()]);
    expect(download.suggestedFilename()).toBe(ATTACHMENT_NAME);
    const saved = join(setup.dir, 'downloaded.pdf');
    await download.saveAs(saved);
    expect(Buffer.compare(await readFile(saved), attachment)).toBe(0);

    // 4. a reply with an attachment, to the sender's own mail system over verified TLS
    await page.locator('textarea[name="body"]').fill(`Thank you, doctor. ${REPLY_MARKER}`);
    await writeFile(join(setup.dir, 'insurance-card.png'), replyFile);
    await page.locator('input[type="file"][name="attachments"]').setInputFiles(join(setup.dir, 'insurance-card.png'));
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.waitForSelector('text=Your reply was sent securely.');
    await shot(page, '4-replied');
    const reply = await until('the reply at the sender', () => senderMail.received.find((m) => m.from === PATIENT), { timeoutMs: 30_000, context: () => gw.logLines().filter((l) => /DELIVERY_ATTEMPT|PORTAL_REPLY|LOOP|ERROR|FAILED/.test(l.event ?? '')).slice(-12).map((l) => JSON.stringify(l)).join('\n') + ' DNS: ' + zone.queries.join(', ') + ' ' + JSON.stringify(gw.logLines().filter((l) => l.event === 'DSN_QUEUED' || l.event === 'DELIVERY_CONNECT_FAILED').slice(-3)) });
    expect(reply.to.map((t) => t.address)).toEqual([SENDER]);
    expect(reply.secure).toBe(true);
    // the sender's server has the reply once it answered DATA; the gateway records that a moment later
    const attempt = await until('the reply recorded as delivered', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.domain === 'example.com' && l.outcome === 'delivered'));
    expect(attempt?.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    const replyMime = await simpleParser(reply.body);
    expect(replyMime.text).toContain(REPLY_MARKER);
    expect(replyMime.inReplyTo).toBe('<orig-acceptance@example.com>');
    expect(replyMime.attachments[0]?.filename).toBe('insurance-card.png');
    expect(Buffer.compare(replyMime.attachments[0]?.content ?? Buffer.alloc(0), replyFile)).toBe(0);
    const delivered = (e: { type: string; data: Record<string, unknown> }) => e.type === 'delivery:attempt' && e.data.recipient === SENDER && e.data.outcome === 'delivered';
    const events = await until('the delivery committed to the audit log', async () => {
      const all = await auditEvents(setup.configPath, 500);
      return all.some(delivered) ? all : undefined;
    });
    const verified = events.find(delivered);
    expect(verified?.data).toMatchObject({ certVerified: 'true', requirement: 'verify' });

    // 5. audited from deposit to reply, without content
    const types = new Set(events.map((e) => e.type));
    for (const t of ['portal:deposited', 'portal:notification_queued', 'portal:code_sent', 'portal:signed_in', 'portal:viewed', 'portal:downloaded', 'portal:replied']) expect(types, t).toContain(t);
    const auditText = JSON.stringify(events);
    for (const secret of [BODY_MARKER, 'zebrafish', ATTACHMENT_NAME, REPLY_MARKER, 'insurance-card', codes[0] ?? 'none']) expect(auditText).not.toContain(secret);

    // 6. a passkey (Chromium's virtual authenticator), then a second message opens with it and no code
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await page.getByRole('button', { name: 'Set up a passkey' }).click();
    await page.locator('[data-passkey-start]').click();
    await page.locator('[data-passkey-done]').waitFor({ state: 'visible' });
    await shot(page, '5-passkey-set-up');
    const codeMailsBefore = inbox(/^Subject: Example Clinic: your sign-in code\r?$/m).length;
    const notificationsBefore = inbox(/^Subject: Example Clinic: Secure message\r?$/m).length;
    const second = await sendMessage(gw.port, SENDER, [PATIENT], phiMessage().replace(BODY_MARKER, `${BODY_MARKER}-SECOND`).replace('<orig-acceptance@example.com>', '<orig-acceptance-2@example.com>'));
    const secondNotice = await until('the second notification', () => inbox(/^Subject: Example Clinic: Secure message\r?$/m).at(notificationsBefore), { timeoutMs: 60_000, context: () => gw.stdout.slice(-3000) });
    const secondLink = new RegExp(`https://localhost:${portalPort}/m/[A-Za-z0-9_-]{43}`).exec(secondNotice.body.toString('utf8'))?.[0];
    expect(secondLink).toBeDefined();
    expect(secondLink).not.toBe(link);
    await page.goto(secondLink ?? '');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForSelector('textarea[name="body"]');
    expect(await page.textContent('body')).toContain(`${BODY_MARKER}-SECOND`);
    await shot(page, '6-second-message-by-passkey');
    expect(inbox(/^Subject: Example Clinic: your sign-in code\r?$/m)).toHaveLength(codeMailsBefore);
    const afterPasskey = await auditEvents(setup.configPath, 500);
    expect(afterPasskey.some((e) => e.type === 'portal:passkey_registered' && e.data.recipient === PATIENT)).toBe(true);
    expect(afterPasskey.some((e) => e.type === 'portal:signed_in' && e.data.method === 'passkey' && e.data.recipient === PATIENT)).toBe(true);
    expect(second).not.toBe(id);

    // 7. revoked: the link shows the withdrawn page
    const revoked = await runCli(['-c', setup.configPath, 'portal', 'revoke', id]);
    expect(revoked.code).toBe(0);
    const gone = await page.goto(link ?? '');
    expect(gone?.status()).toBe(410);
    expect(await page.textContent('h1')).toBe('This message was withdrawn');
    await shot(page, '7-withdrawn');
    await context.close();

    // 8. nothing readable in the data directory or the logs
    await gw.stop();
    const markers = [BODY_MARKER, ATTACHMENT_NAME, 'zebrafish', REPLY_MARKER, 'insurance-card', link?.slice(-43) ?? 'none', secondLink?.slice(-43) ?? 'none'];
    const attachmentSample = attachment.subarray(1000, 1064);
    for (const file of await filePaths(setup.dataDir)) {
      const bytes = await readFile(file);
      for (const m of markers) expect(bytes.includes(Buffer.from(m)), `${m} in ${file}`).toBe(false);
      expect(bytes.includes(attachmentSample), `attachment bytes in ${file}`).toBe(false);
    }
    for (const m of markers) expect(gw.stdout + gw.stderr).not.toContain(m);
  });
});
