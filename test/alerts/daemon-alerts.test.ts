/**
 * Alerts end to end: a real posture downgrade (the MX that showed a valid
 * certificate comes back with one for another name) makes the running
 * daemon send one alert mail, through its own queue, to a loopback mailbox
 * and one JSON POST to an HTTPS webhook; the same cause again within the
 * period sends nothing and is counted.
 */
import { createServer, type Server } from 'node:https';
import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let mx: MxServer | undefined;
let mailbox: MxServer;
let hook: Server;
const posts: { path: string; type: string | undefined; body: unknown }[] = [];

beforeAll(async () => {
  setup = await setupGateway();
  const good = await issueCertificate(setup.pki.ca, { commonName: 'mx.posture.test', dnsNames: ['mx.posture.test'], usage: 'server' });
  mx = await startMxServer({ ip: '127.0.0.70', port: 0, tls: { key: good.keyPem, cert: good.certPem } });
  const ops = await issueCertificate(setup.pki.ca, { commonName: 'mx.ops.test', dnsNames: ['mx.ops.test'], usage: 'server' });
  // the alert mailbox listens on the same port number as the MX (delivery.port is one for all) on another address
  mailbox = await startMxServer({ ip: '127.0.0.71', port: mx.port, tls: { key: ops.keyPem, cert: ops.certPem } });
  const hookCert = await issueCertificate(setup.pki.ca, { commonName: 'hook.test', dnsNames: ['hook.test'], usage: 'server' });
  hook = createServer({ key: hookCert.keyPem, cert: hookCert.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', type: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.72', resolve));
  zone = await startDnsZone([
    { name: 'posture.test', type: 'MX', exchange: 'mx.posture.test', priority: 10 },
    { name: 'mx.posture.test', type: 'A', address: '127.0.0.70' },
    { name: 'ops.test', type: 'MX', exchange: 'mx.ops.test', priority: 10 },
    { name: 'mx.ops.test', type: 'A', address: '127.0.0.71' },
    { name: 'hook.test', type: 'A', address: '127.0.0.72' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'encrypt', retry: { backoff: ['1h'] }, connectionIdle: 0 },
      alerts: { to: ['mail-admins@ops.test'], webhookUrl: `https://hook.test:${(hook.address() as AddressInfo).port}/sealgate/alerts`, checkInterval: '1s', period: '1h' },
    },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await mailbox?.close();
  hook?.close();
  await zone?.close();
  await setup?.cleanup();
});

const body = (m: { body: Buffer }): boolean => m.body.includes('X-Sealgate-Alert: posture-downgrade');

describe('alerts', () => {
  it('one alert mail and one webhook POST for a posture downgrade; the same cause again within the period sends nothing', async () => {
    await sendMessage(gw.port, 'alice@example.com', ['bob@posture.test'], 'From: alice@example.com\r\nSubject: Lab results for Rosa\r\n\r\nfirst-over-verified-tls\r\n');
    await until('first delivery', () => mx?.received.some((m) => m.body.includes('first-over-verified-tls')));

    const port = mx?.port ?? 0;
    await mx?.close();
    const wrong = await issueCertificate(setup.pki.ca, { commonName: 'other.test', dnsNames: ['other.test'], usage: 'server' });
    mx = await startMxServer({ ip: '127.0.0.70', port, tls: { key: wrong.keyPem, cert: wrong.certPem } });
    await sendMessage(gw.port, 'alice@example.com', ['bob@posture.test'], 'From: alice@example.com\r\nSubject: Lab results for Rosa\r\n\r\nsecond-after-downgrade\r\n');

    const mail = await until('the alert mail', () => mailbox.received.find(body), { timeoutMs: 60_000 });
    expect(mail.to.map((t) => t.address)).toEqual(['mail-admins@ops.test']);
    expect(mail.from).toBe('');
    expect(mail.secure).toBe(true);
    const parsed = await simpleParser(mail.body);
    expect(parsed.subject).toBe('[Sealgate critical] transport security of posture.test fell below what it showed before (verify); protected mail to it is held');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
    const text = parsed.text ?? '';
    expect(text).toContain('mx: mx.posture.test');
    expect(text).toContain('sealgate probe accept DOMAIN');
    // nothing from the held message
    expect(mail.body.toString('utf8')).not.toMatch(/alice|bob@|Rosa|second-after-downgrade/);

    const post = await until('the webhook POST', () => posts[0]);
    expect(post).toMatchObject({ path: '/sealgate/alerts', type: 'application/json', body: { gateway: 'gw.test', kind: 'posture-downgrade', key: 'posture-downgrade:posture.test', severity: 'critical', facts: { domain: 'posture.test', mx: 'mx.posture.test' }, suppressed: 0 } });

    // the same cause again: counted, nothing sent
    await sendMessage(gw.port, 'alice@example.com', ['bob@posture.test'], 'From: alice@example.com\r\nSubject: x\r\n\r\nthird-after-downgrade\r\n');
    await until('the repeat counted', () =>
      withDb(setup.dataDir, (db) => db.get<{ suppressed: number }>("SELECT suppressed FROM alert_state WHERE cause_key = 'posture-downgrade:posture.test'")).then((r) => ((r?.suppressed ?? 0) >= 1 ? r : undefined)),
    );
    const audit = await withDb(setup.dataDir, (db) => db.all<{ type: string; data: string }>("SELECT type, data FROM audit_log WHERE type IN ('alert:raised', 'alert:webhook') ORDER BY seq"));
    expect(audit.map((a) => [a.type, (JSON.parse(a.data) as { key: string }).key])).toEqual([
      ['alert:raised', 'posture-downgrade:posture.test'],
      ['alert:webhook', 'posture-downgrade:posture.test'],
    ]);
    expect(JSON.parse(audit[1]?.data ?? '{}')).toMatchObject({ status: '204', attempts: 1, delivered: 'true' });
    expect(mailbox.received.filter(body)).toHaveLength(1);
    expect(posts).toHaveLength(1);
  });
});
