/**
 * The portal deposit end to end on the real daemon: a PHI message with an
 * attachment, sent to a consumer mailbox domain (in e2eDomains) and to a
 * domain whose MX has no STARTTLS (PHI needs verified TLS: the portal
 * fallback), is stored once in the portal and each recipient is notified by
 * a mail that arrives at its (loopback) MX holding none of the body, the
 * subject words or the attachment name. The stored copy opens with the
 * master key and the link token to the original bytes; the queue forgets the
 * message; the data directory, the logs and the audit log hold nothing of it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { simpleParser } from 'mailparser';
import { isLogoFile, logoType } from '../../src/portal/logo.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCodeMail } from '../../src/portal/code-mail.js';
import { depositLifetime, notificationSubject, subjectSensitiveOf } from '../../src/portal/deposit-step.js';
import { formatDuration } from '../../src/cli/commands/policy.js';
import { effectivePublicUrl } from '../../src/portal/portal-runtime.js';
import { loadKeyring } from '../../src/crypto/keyring.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { objectStoreRoot } from '../../src/objects/location.js';
import { hashPortalToken, PortalStore } from '../../src/portal/portal-store.js';
import { portalSchema } from '../../src/portal/config-schema.js';
import { z } from 'zod';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';
import { filePaths } from '../helpers/files.js';
import { phiMail } from '../helpers/phi-mail.js';

const SUBJECT = 'Quarterly zebrafish lab results';
const BODY_MARKER = 'XYZZY-PORTAL-BODY-4471';
const ATTACHMENT_NAME = 'jane-roe-pathology-4471.txt';
const ATTACHMENT_MARKER = 'QUUX-ATTACHMENT-CONTENT-9923';
const PUBLIC_URL = 'https://portal.gw.test';

function phiMessage(to: string): string {
  return phiMail({ from: 'alice@example.com', to, subject: SUBJECT, bodyMarker: BODY_MARKER, attachmentName: ATTACHMENT_NAME, attachmentType: 'text/plain', attachment: Buffer.from(`Pathology report\r\n${ATTACHMENT_MARKER}\r\n`) });
}

describe('pure parts of the deposit', () => {
  it.each<[string, string, boolean, boolean, string]>([
    ['neutral by default', 'Lab results', false, false, 'Secure message'],
    ['original when allowed and clean', 'Lab results', false, true, 'Lab results'],
    ['neutral when sensitive even if allowed', 'SSN 123-45-6789', true, true, 'Secure message'],
    ['neutral when empty', '  ', false, true, 'Secure message'],
  ])('notification subject: %s', (_n, subject, sensitive, show, expected) => {
    expect(notificationSubject(subject, sensitive, show)).toBe(expected);
  });

  it.each<[string | null, boolean]>([
    [null, true],
    ['not json', true],
    ['{}', true],
    ['{"subjectSensitive":true}', true],
    ['{"subjectSensitive":false}', false],
  ])('subjectSensitiveOf(%s) = %s', (verdict, expected) => {
    expect(subjectSensitiveOf(verdict)).toBe(expected);
  });

  it.each<[number, number | undefined, number]>([
    [30, undefined, 30],
    [30, 7, 7],
    [7, 30, 7],
  ])('deposit lifetime: portal.expiry %d, profile %s → %d', (config, profile, expected) => {
    expect(depositLifetime(config, profile)).toBe(expected);
  });

  it.each<[number, string]>([
    [7 * 86_400_000, '7d'],
    [36 * 3_600_000, '36h'],
    [90 * 60_000, '90m'],
    [45_000, '45s'],
    [1500, '1500ms'],
  ])('formatDuration(%d) = %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  const portal = (over: Record<string, unknown>) => portalSchema(z.string(), z.string()).parse(over);
  it.each<[Record<string, unknown>, string]>([
    [{}, 'https://127.0.0.1:8443'],
    [{ listen: { host: '0.0.0.0', port: 9443 } }, 'https://localhost:9443'],
    [{ listen: { host: '::1', port: 443 } }, 'https://[::1]:443'],
    [{ publicUrl: 'https://secure.example.org/' }, 'https://secure.example.org'],
  ])('public URL of %j', (over, expected) => {
    expect(effectivePublicUrl(portal(over))).toBe(expected);
  });

  it.each<[string, Buffer, string | undefined]>([
    ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]), 'image/png'],
    ['JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0]), 'image/jpeg'],
    ['GIF', Buffer.from('GIF89a....'), 'image/gif'],
    ['SVG', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'image/svg+xml'],
    ['HTML', Buffer.from('<html><script>alert(1)</script>'), undefined],
    ['text', Buffer.from('hello'), undefined],
  ])('logo type of %s bytes', (_name, bytes, expected) => {
    expect(logoType(bytes)).toBe(expected);
  });

  it.each<[string | undefined, boolean]>([
    ['/etc/sealgate/logo.png', true],
    ['logo.png', true],
    ['https://www.example.org/logo.png', false],
    ['data:image/png;base64,AAAA', false],
    [undefined, false],
  ])('isLogoFile(%s) = %s', (logo, expected) => {
    expect(isLogoFile(logo)).toBe(expected);
  });

  it('the code mail carries the code as the only 6-8 digit number of its text part', () => {
    const branding = portal({ branding: { supportContact: 'call 5551234567 or 1234567', footer: 'Example Clinic, 221B Baker St' } }).branding;
    const mail = buildCodeMail({ branding, code: '04711234', expiresAt: 600_000, now: 0 });
    expect(mail.text.match(/(?<!\d)\d{6,8}(?!\d)/g)).toEqual(['04711234']);
    expect(mail.text).toContain('10 minutes');
    expect(mail.text).toContain('Example Clinic');
    expect(mail.html).toContain('04711234');
    expect(() => buildCodeMail({ branding, code: '12345', expiresAt: 1, now: 0 })).toThrow(RangeError);
  });
});

let setup: TestSetup;
let gw: RunningGateway;
let tmpLogoDir: string;
const LOGO = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('logo-bytes-for-the-test')]);
let consumerMx: MxServer;
let plainMx: MxServer;
let zone: DnsZone;

beforeAll(async () => {
  consumerMx = await startMxServer({ ip: '127.0.0.121', port: 0 });
  plainMx = await startMxServer({ ip: '127.0.0.122', port: consumerMx.port });
  zone = await startDnsZone([
    { name: 'gmail.com', type: 'MX', exchange: 'mx.consumer.test', priority: 10 },
    { name: 'example.com', type: 'MX', exchange: 'mx.consumer.test', priority: 10 },
    { name: 'mx.consumer.test', type: 'A', address: '127.0.0.121' },
    { name: 'plain.test', type: 'MX', exchange: 'mx.plain.test', priority: 10 },
    { name: 'mx.plain.test', type: 'A', address: '127.0.0.122' },
    { name: 'strict.test', type: 'MX', exchange: 'mx.plain.test', priority: 10 },
  ]);
  tmpLogoDir = await mkdtemp(join(tmpdir(), 'sealgate-logo-'));
  await writeFile(join(tmpLogoDir, 'logo.png'), LOGO);
  setup = await setupGateway({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      log: { level: 'trace', pretty: false },
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: consumerMx.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
      tls: { policies: { 'strict.test': 'verify' }, portalFallback: { enabled: true, after: '0s' }, mtaSts: { enabled: false } },
      inspection: { threads: 0 },
      portal: { enabled: true, senderRevokeLinks: true, publicUrl: PUBLIC_URL, listen: { host: '127.0.0.1', port: 0 }, branding: { organisationName: 'Example Clinic', logo: join(tmpLogoDir, 'logo.png') } },
    },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await consumerMx?.close();
  await plainMx?.close();
  await zone?.close();
  await setup?.cleanup();
  if (tmpLogoDir) await rm(tmpLogoDir, { recursive: true, force: true });
});

describe('deposit into the portal', () => {
  it('stores one copy, notifies each recipient without content, and finishes the message', async () => {
    const original = phiMessage('jane.roe@gmail.com, bob@plain.test, carol@strict.test');
    const id = await sendMessage(gw.port, 'alice@example.com', ['jane.roe@gmail.com', 'bob@plain.test', 'carol@strict.test'], original);
    const notifications = () => [...consumerMx.received, ...plainMx.received].filter((m) => m.from === '' && m.to[0]?.address !== 'alice@example.com');
    await until('two notifications', () => notifications().length >= 2 || undefined, { timeoutMs: 60_000, context: () => gw.stdout.slice(-3000) });
    await until('the message finished', () => gw.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === id), { context: () => gw.stdout.slice(-3000) });

    // nothing but notifications reached the MX hosts: the message itself went nowhere weaker
    expect([...consumerMx.received, ...plainMx.received].every((m) => m.from === '')).toBe(true);
    // the sender's copy: one mail with the withdraw link, nothing of the message
    const senderMail = await until('the sender mail', () => consumerMx.received.find((m) => m.to[0]?.address === 'alice@example.com'));
    const senderText = senderMail.body.toString('utf8');
    expect(senderText).toMatch(/^Subject: Example Clinic: your message was delivered securely\r?$/m);
    expect(senderText).toMatch(/https:\/\/portal\.gw\.test\/w\/[A-Za-z0-9_-]{43}/);
    // one sender mail per copy, not per recipient
    expect(consumerMx.received.filter((m) => m.to[0]?.address === 'alice@example.com')).toHaveLength(1);
    for (const secret of [BODY_MARKER, 'zebrafish', ATTACHMENT_NAME, ATTACHMENT_MARKER, '123-45-6789']) expect(senderText).not.toContain(secret);
    const byRecipient = new Map(notifications().map((m) => [m.to[0]?.address, m.body.toString('utf8')]));
    expect([...byRecipient.keys()].sort()).toEqual(['bob@plain.test', 'jane.roe@gmail.com']);
    const tokens = new Map<string, string>();
    for (const [address, text] of byRecipient) {
      for (const secret of [BODY_MARKER, 'zebrafish', 'Quarterly', ATTACHMENT_NAME, 'pathology', ATTACHMENT_MARKER, '123-45-6789', 'diabetes']) {
        expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
      }
      expect(text).toMatch(/^Subject: Example Clinic: Secure message\r?$/m);
      // the logo file travels inside the mail: HTML shows it by cid:, the part carries its bytes
      const parsed = await simpleParser(Buffer.from(text), { keepCidLinks: true });
      expect(parsed.html).toContain('src="cid:logo@sealgate.portal"');
      const logoPart = parsed.attachments.find((a) => a.cid === 'logo@sealgate.portal');
      expect(logoPart?.contentType).toBe('image/png');
      expect(Buffer.compare(logoPart?.content ?? Buffer.alloc(0), LOGO)).toBe(0);
      const link = /https:\/\/portal\.gw\.test\/m\/([A-Za-z0-9_-]{43})/.exec(text);
      expect(link, `a link in the notification to ${address}`).not.toBeNull();
      tokens.set(address ?? '', link?.[1] ?? '');
    }
    expect(new Set(tokens.values()).size).toBe(2);

    // one deposit for both, each token stored only as its hash, both notified
    const rows = await withDb(setup.dataDir, async (db) => ({
      deposits: await db.all<{ deposit_id: string; queue_id: string; sender: string }>('SELECT deposit_id, queue_id, sender FROM portal_messages'),
      recipients: await db.all<{ address: string; token_hash: string; notified_at: number | null; bcc: number }>('SELECT address, token_hash, notified_at, bcc FROM portal_recipients ORDER BY address'),
      queued: await db.get<{ n: number }>('SELECT count(*) AS n FROM recipients WHERE message_id = ?', [id]),
    }));
    expect(rows.deposits).toHaveLength(1);
    expect(rows.deposits.every((d) => d.queue_id === id && d.sender === 'alice@example.com')).toBe(true);
    expect(rows.recipients.map((r) => r.address)).toEqual(['bob@plain.test', 'carol@strict.test', 'jane.roe@gmail.com']);
    for (const r of rows.recipients.filter((x) => tokens.has(x.address))) {
      expect(r.token_hash).toBe(hashPortalToken(tokens.get(r.address) ?? ''));
      expect(r.notified_at).not.toBeNull();
      expect(r.bcc).toBe(0);
    }
    expect(rows.queued?.n).toBe(0);

    // the copy opens to the original bytes with the master key
    const keyring = await loadKeyring({ masterKeyFile: setup.masterKeyFile, previousKeyFiles: [], create: false });
    await withDb(setup.dataDir, async (db) => {
      const store = new PortalStore({ db, objects: new LocalObjectStore(objectStoreRoot(setup.dataDir)), keyring });
      const match = await store.findByToken(tokens.get('jane.roe@gmail.com') ?? '');
      expect(match?.queueId).toBe(id);
      const chunks: Buffer[] = [];
      for await (const c of await store.open(match?.depositId ?? '')) chunks.push(c as Buffer);
      const copy = Buffer.concat(chunks).toString('utf8');
      expect(copy).toContain(BODY_MARKER);
      expect(copy).toContain(`Subject: ${SUBJECT}`);
    });

    // audited, without content
    const events = await auditEvents(setup.configPath);
    const deposited = events.filter((e) => e.type === 'portal:deposited');
    expect(deposited.map((e) => e.data.recipient).sort()).toEqual(['bob@plain.test', 'carol@strict.test', 'jane.roe@gmail.com']);
    const queuedNotices = events.filter((e) => e.type === 'portal:notification_queued');
    expect(queuedNotices).toHaveLength(3);

    // the archive entry's evidence: each recipient's portal copy and the notification queued for them
    const archived = await withDb(setup.dataDir, (db) => db.all<{ address: string; method: string; state: string; evidence: string }>('SELECT address, method, state, evidence FROM archive_recipients WHERE archive_id = ? ORDER BY seq', [id]));
    const depositId = deposited[0]?.data.depositId;
    expect(archived.map((r) => [r.address, r.method, r.state, JSON.parse(r.evidence) as unknown])).toEqual(
      queuedNotices
        .map((e) => [e.data.recipient, 'portal', 'delivered', { portal: { depositId, notificationQueueId: e.data.noticeQueueId }, tls: null }])
        .sort((a, b) => archived.findIndex((r) => r.address === a[0]) - archived.findIndex((r) => r.address === b[0])),
    );

    // carol's domain requires verified TLS for all mail and its MX has none: her notification waits
    // in the queue like any mail — it never falls back to the portal itself (that would loop)
    const carolNotice = queuedNotices.find((e) => e.data.recipient === 'carol@strict.test')?.data.noticeQueueId as string;
    await until('the notification attempt to carol', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === carolNotice));
    // the attempt is logged inside the transaction that records it: wait for its commit
    const carol = await until('the attempt to carol recorded', async () => {
      const row = await withDb(setup.dataDir, (db) => db.get<{ state: string; method: string | null; attempts: number }>('SELECT state, method, attempts FROM recipients WHERE message_id = ?', [carolNotice]));
      return row && row.attempts > 0 && row.state !== 'in-flight' ? row : undefined;
    });
    expect({ state: carol.state, method: carol.method }).toEqual({ state: 'deferred', method: null });
    expect(events.filter((e) => e.type === 'delivery:portal_fallback').map((e) => e.data.queueId)).not.toContain(carolNotice);
    expect(events.filter((e) => e.type === 'delivery:portal_fallback').map((e) => e.data.recipient).sort()).toEqual(['bob@plain.test', 'carol@strict.test']);
    const auditText = JSON.stringify(events);
    for (const secret of [BODY_MARKER, 'zebrafish', ATTACHMENT_NAME, ...tokens.values()]) expect(auditText).not.toContain(secret);

    // nothing readable in the data directory or the logs
    await gw.stop();
    const markers = [BODY_MARKER, ATTACHMENT_MARKER, ATTACHMENT_NAME, 'zebrafish', ...tokens.values()];
    for (const file of await filePaths(setup.dataDir)) {
      const bytes = await readFile(file);
      for (const m of markers) expect(bytes.includes(Buffer.from(m)), `${m} in ${file}`).toBe(false);
    }
    for (const m of markers) expect(gw.stdout + gw.stderr).not.toContain(m);
  });
});
