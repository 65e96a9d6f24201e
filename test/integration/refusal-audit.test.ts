/**
 * Every ingress refusal leaves an audit event, bounded: real SMTP sessions
 * against the daemon are refused at connect (client not allowed), at MAIL
 * (sender domain not allowed 550, STARTTLS required 530) and at RCPT (too
 * many recipients 452). The first refusal per client IP, stage and reason
 * is audited with its details (the sender's domain, never its local part);
 * the repeats of that minute become one `ingress:refusals_repeated` event
 * with the count, written when the window ends or at shutdown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway;

beforeAll(async () => {
  setup = await setupGateway({
    connectors: [
      { name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false },
      { name: 'tenant', kind: 'generic', allowIps: ['127.0.0.170/32'], senderDomains: ['example.com'], requireTls: true },
    ],
    smtp: { maxRecipients: 2 },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

type Event = Awaited<ReturnType<typeof auditEvents>>[number];
const ofType = (events: Event[], type: string, reason: string): Event[] => events.filter((e) => e.type === type && e.data.reason === reason);

describe('refusals in the audit log', () => {
  it('audits the first refusal of each kind at once, with the sender domain but never the local part', async () => {
    // MAIL refused: sender domain not allowed, five times in one session
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    for (let i = 0; i < 5; i++) {
      expect((await client.command(`MAIL FROM:<mallory${i}@evil.test>`)).code).toBe(550);
      await client.command('RSET');
    }
    // RCPT refused: over smtp.maxRecipients
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    for (const to of ['a@example.net', 'b@example.net']) expect((await client.command(`RCPT TO:<${to}>`)).code).toBe(250);
    expect((await client.command('RCPT TO:<c@example.net>')).code).toBe(452);
    await client.quit();
    // MAIL refused: the tenant's connector requires STARTTLS
    const tenant = await RawSmtp.connect(gw.port, { localAddress: '127.0.0.170' });
    await tenant.client.command('EHLO tenant.test');
    expect((await tenant.client.command('MAIL FROM:<alice@example.com>')).code).toBe(530);
    await tenant.client.quit();
    // connection refused: no connector allows this client, three times
    for (let i = 0; i < 3; i++) expect((await RawSmtp.connect(gw.port, { localAddress: '127.0.0.171' })).greeting.code).toBe(554);

    // the ingress appends audit events as it answers: wait for the last refusal's
    const events = await until('the refusals audited', async () => {
      const got = await auditEvents(setup.configPath, 200);
      return ofType(got, 'ingress:connection_refused', 'SG_CLIENT_NOT_ALLOWED').length > 0 ? got : undefined;
    });
    expect(ofType(events, 'ingress:sender_refused', 'SG_SENDER_DOMAIN_NOT_ALLOWED').map((e) => e.data)).toEqual([
      expect.objectContaining({ listener: 'relay', remoteIp: '127.0.0.1', connector: 'loopback', reply: '550 5.7.1', senderDomain: 'evil.test' }),
    ]);
    expect(ofType(events, 'ingress:sender_refused', 'SG_TLS_REQUIRED').map((e) => e.data)).toEqual([expect.objectContaining({ remoteIp: '127.0.0.170', connector: 'tenant', reply: '530 5.7.0', senderDomain: 'example.com' })]);
    expect(ofType(events, 'ingress:recipient_refused', 'SG_TOO_MANY_RECIPIENTS').map((e) => e.data)).toEqual([expect.objectContaining({ remoteIp: '127.0.0.1', connector: 'loopback', reply: '452 4.5.3' })]);
    expect(ofType(events, 'ingress:connection_refused', 'SG_CLIENT_NOT_ALLOWED').map((e) => e.data)).toEqual([expect.objectContaining({ remoteIp: '127.0.0.171' })]);
    const all = JSON.stringify(events);
    expect(all).not.toMatch(/mallory|a@example\.net|c@example\.net/);
  });

  it('writes the repeats of the minute as one count, at the latest when the daemon stops; the chain verifies', async () => {
    await gw.stop();
    const events = await auditEvents(setup.configPath, 200);
    const repeated = events.filter((e) => e.type === 'ingress:refusals_repeated').map((e) => e.data);
    expect(repeated).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ remoteIp: '127.0.0.1', stage: 'mail', reason: 'SG_SENDER_DOMAIN_NOT_ALLOWED', reply: '550 5.7.1', count: 4 }),
        expect.objectContaining({ remoteIp: '127.0.0.171', stage: 'connect', reason: 'SG_CLIENT_NOT_ALLOWED', count: 2 }),
      ]),
    );
    // refusals seen once have no repeat event
    expect(repeated.filter((d) => d.reason === 'SG_TLS_REQUIRED' || d.reason === 'SG_TOO_MANY_RECIPIENTS')).toEqual([]);
    // written before daemon:stopped, so the chain and its last checkpoint cover them
    expect(events.findIndex((e) => e.type === 'ingress:refusals_repeated')).toBeLessThan(events.findIndex((e) => e.type === 'daemon:stopped'));
    expect((await runCli(['-c', setup.configPath, 'audit', 'verify'])).code).toBe(0);
  });
});
