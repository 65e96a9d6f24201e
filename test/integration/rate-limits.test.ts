/**
 * Rate limits and burst holds on a running daemon, over real SMTP on
 * loopback: the 11th message in a minute from a sender limited to 10 gets
 * 451 4.7.1 naming the limit; with action hold the message over the limit is
 * accepted with its recipients held, listed by `queue list --held`, released
 * with `queue release` and delivered to a sink; a burst to new external
 * recipients is held the same way and raises a sender-burst cause; every
 * decision is audited without the sender's local part; /metrics counts them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp, sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway;
let sink: MxServer;
let zone: DnsZone;
let metricsPort: number;

const body = (n: number): string => `From: someone\r\nTo: someone\r\nSubject: note ${n}\r\n\r\nhello ${n}\r\n`;

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'relay.test', dnsNames: ['relay.test'], usage: 'server' });
  sink = await startMxServer({ ip: '127.0.0.14', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  zone = await startDnsZone([{ name: 'relay.test', type: 'A', address: '127.0.0.14' }]);
  await setup.writeConfig({
    connectors: [
      { name: 'deferring', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['defer.example'], requireTls: false, limits: { action: 'defer', perSender: { messagesPerMinute: 10, recipientsPerMinute: 30 } } },
      { name: 'holding', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['hold.example'], requireTls: false, limits: { action: 'hold', perSender: { messagesPerMinute: 2 }, burst: { newRecipients: 3, within: '10m' } } },
      { name: 'defaulted', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['default.example'], requireTls: false },
    ],
    extra: {
      dns: { servers: [zone.server] },
      metrics: { enabled: true, port: 0 },
      alerts: { to: ['admins@ops.example'], checkInterval: '1s' },
      // the default for connectors without their own limits (only "defaulted" here)
      limits: { action: 'defer', perSender: { messagesPerMinute: 1 } },
      delivery: { enabled: true, defaultRequirement: 'may', smarthost: { host: 'relay.test', port: sink.port } },
    },
  });
  gw = await startGateway(setup.configPath);
  metricsPort = (await gw.waitForEvent('METRICS_LISTENING')).port as number;
});

afterAll(async () => {
  await gw?.stop();
  await sink?.close();
  await zone?.close();
  await setup?.cleanup();
});

async function metric(line: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const hit = text.split('\n').find((l) => l.startsWith(`${line} `));
  return hit === undefined ? undefined : Number(hit.slice(line.length + 1));
}

async function heldList(): Promise<{ id: string; states: Record<string, number> }[]> {
  const r = await runCli(['-c', setup.configPath, 'queue', 'list', '--held', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { id: string; states: Record<string, number> }[];
}

describe('action defer', () => {
  it('the 11th message in a minute from a sender limited to 10 gets 451 4.7.1 naming the limit; another sender is not affected', async () => {
    for (let i = 0; i < 10; i++) expect(await sendMessage(gw.port, 'alice@defer.example', [`to${i}@partner.example`], body(i))).toMatch(/^[0-9A-Z]{20}$/);
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    const refused = await client.command('MAIL FROM:<alice@defer.example>');
    expect(refused.code).toBe(451);
    expect(refused.text).toContain('4.7.1 sender over its limit of 10 messages per minute on connector deferring; try again later');
    expect(refused.text).not.toContain('alice');
    expect((await client.command('MAIL FROM:<bob@defer.example>')).code).toBe(250);
    await client.quit();

    const events = (await auditEvents(setup.configPath)).filter((e) => e.type === 'ingress:rate_limited' && e.data.action === 'defer');
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ connector: 'deferring', stage: 'mail', limit: 'perSender.messagesPerMinute', max: 10, count: 10, senderDomain: 'defer.example' });
    expect(events[0]?.data.senderHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(events)).not.toContain('alice');
    expect(await metric('sealgate_rate_limited_total{action="defer",connector="deferring"}')).toBe(1);
  });
});

describe('top-level limits', () => {
  it('apply to a connector without its own limits', async () => {
    expect(await sendMessage(gw.port, 'frank@default.example', ['x@partner.example'], body(40))).toMatch(/^[0-9A-Z]{20}$/);
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    const refused = await client.command('MAIL FROM:<frank@default.example>');
    expect(refused.code).toBe(451);
    expect(refused.text).toContain('4.7.1 sender over its limit of 1 messages per minute on connector defaulted');
    await client.quit();
  });
});

describe('action defer, recipients', () => {
  it('answers 451 4.7.1 at the RCPT that would pass a recipient limit; the recipients before it are delivered', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<erin@defer.example>')).code).toBe(250);
    for (let i = 0; i < 30; i++) expect((await client.command(`RCPT TO:<r${i}@partner.example>`)).code).toBe(250);
    const over = await client.command('RCPT TO:<r30@partner.example>');
    expect(over.code).toBe(451);
    expect(over.text).toContain('4.7.1 sender over its limit of 30 recipients per minute on connector deferring; try again later');
    const id = queueIdOf(await client.data(dataPayload(body(30))));
    expect(id).toMatch(/^[0-9A-Z]{20}$/);
    await client.quit();
    await until('the 30 accepted recipients delivered', () => sink.received.some((m) => m.to.some((t) => t.address === 'r29@partner.example')));
    expect(sink.received.some((m) => m.to.some((t) => t.address === 'r30@partner.example'))).toBe(false);
    expect(await metric('sealgate_rate_limited_total{action="defer",connector="deferring"}')).toBe(2);
    expect(await metric('sealgate_rate_limited_total{action="defer",connector="defaulted"}')).toBe(1);
    const events = (await auditEvents(setup.configPath)).filter((e) => e.type === 'ingress:rate_limited' && e.data.stage === 'rcpt');
    expect(events.map((e) => e.data)).toEqual([expect.objectContaining({ action: 'defer', limit: 'perSender.recipientsPerMinute', max: 30, count: 0, senderDomain: 'defer.example' })]);
  });
});

describe('action hold', () => {
  it('accepts the message over the limit with its recipients held; queue list --held shows it; queue release delivers it', async () => {
    await sendMessage(gw.port, 'carol@hold.example', ['one@partner.example'], body(1));
    await sendMessage(gw.port, 'carol@hold.example', ['two@partner.example'], body(2));
    const third = await sendMessage(gw.port, 'carol@hold.example', ['three@partner.example'], body(3));
    expect(third).toMatch(/^[0-9A-Z]{20}$/);
    await until('the first two delivered', () => ['one@partner.example', 'two@partner.example'].every((a) => sink.received.some((m) => m.to.some((t) => t.address === a))));

    const held = await heldList();
    expect(held.map((m) => m.id)).toEqual([third]);
    expect(held[0]?.states).toEqual({ held: 1 });
    const text = await runCli(['-c', setup.configPath, 'queue', 'list', '--held']);
    expect(text.stdout).toContain(third);
    const both = await runCli(['-c', setup.configPath, 'queue', 'list', '--held', '--state', 'deferred']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --held or --state, not both');
    expect(sink.received.some((m) => m.to.some((t) => t.address === 'three@partner.example'))).toBe(false);

    const events = (await auditEvents(setup.configPath)).filter((e) => e.type === 'ingress:rate_limited' && e.data.action === 'hold');
    expect(events.map((e) => e.data)).toEqual([expect.objectContaining({ queueId: third, connector: 'holding', stage: 'data', limit: 'perSender.messagesPerMinute', max: 2, count: 2, senderDomain: 'hold.example' })]);

    const released = await runCli(['-c', setup.configPath, 'queue', 'release', third]);
    expect(released.stdout).toBe(`released ${third}: 1 recipient\n`);
    await until('the released message delivered', () => sink.received.some((m) => m.to.some((t) => t.address === 'three@partner.example')));
    expect(await heldList()).toEqual([]);
    const audit = await auditEvents(setup.configPath);
    expect(audit.some((e) => e.type === 'queue:released' && e.data.queueId === third)).toBe(true);
    expect(await metric('sealgate_rate_limited_total{action="hold",connector="holding"}')).toBe(1);
  });

  it('holds a burst to new external recipients and audits it as burst.newRecipients; recipients in senderDomains are not counted', async () => {
    const internal = await sendMessage(gw.port, 'dave@hold.example', ['a@hold.example', 'b@hold.example', 'c@hold.example', 'd@hold.example'], body(4));
    const burst = await sendMessage(gw.port, 'dave@hold.example', ['n1@far.example', 'n2@far.example', 'n3@far.example', 'n4@far.example'], body(5));
    const held = await heldList();
    expect(held.map((m) => m.id)).toEqual([burst]);
    expect(held[0]?.states).toEqual({ held: 4 });
    await until('the internal message delivered', () => sink.received.some((m) => m.to.some((t) => t.address === 'd@hold.example')));
    expect(internal).toMatch(/^[0-9A-Z]{20}$/);
    const events = (await auditEvents(setup.configPath)).filter((e) => e.type === 'ingress:rate_limited' && e.data.queueId === burst);
    expect(events.map((e) => e.data)).toEqual([expect.objectContaining({ action: 'hold', limit: 'burst.newRecipients', max: 3, count: 0, senderDomain: 'hold.example' })]);
    expect(JSON.stringify(events)).not.toContain('dave');
    expect(await metric('sealgate_rate_limited_total{action="hold",connector="holding"}')).toBe(2);

    // the alert monitor turns the burst hold into a sender-burst alert, mailed through the queue
    const raised = await until('a sender-burst alert', async () => (await auditEvents(setup.configPath)).find((e) => e.type === 'alert:raised' && e.data.kind === 'sender-burst'));
    expect(raised.data).toMatchObject({ key: `sender-burst:${String(events[0]?.data.senderHash)}`, severity: 'warning', channels: ['mail'] });
    await until('the alert mail delivered', () => sink.received.some((m) => m.to.some((t) => t.address === 'admins@ops.example')));
    const alertMail = sink.received.find((m) => m.to.some((t) => t.address === 'admins@ops.example'));
    expect(alertMail?.body.toString('utf8')).toContain('queue list --held');
    expect(alertMail?.body.toString('utf8')).not.toContain('dave');
  });
});
