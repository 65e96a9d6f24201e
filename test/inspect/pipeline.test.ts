/**
 * Inspection and the decision in the pipeline, on the real daemon: a clean
 * message goes out opportunistically, a PHI message to a cleartext-only MX
 * is held back (it needs verified TLS), PHI to a consumer mailbox domain is
 * held for an administrator (E2E or portal needed), and no matched value ever
 * reaches the logs or the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let mx: MxServer;

const PHI_BODY = 'Patient DOB: 04/17/1968, SSN 536-22-1234, was diagnosed with type 2 diabetes; continue metformin.';

beforeAll(async () => {
  mx = await startMxServer({ ip: '127.0.0.80', port: 0 });
  zone = await startDnsZone([
    { name: 'clinic.test', type: 'MX', exchange: 'mx.clinic.test', priority: 10 },
    { name: 'consumer.test', type: 'MX', exchange: 'mx.clinic.test', priority: 10 },
    { name: 'mx.clinic.test', type: 'A', address: '127.0.0.80' },
  ]);
  setup = await setupGateway({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1m'] } },
      inspection: { enabled: true, e2eDomains: ['consumer.test'] },
    },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

async function send(to: string, subject: string, body: string): Promise<string> {
  const { client } = await RawSmtp.connect(gw.port);
  await client.command('EHLO client.test');
  await client.command('MAIL FROM:<alice@example.com>');
  await client.command(`RCPT TO:<${to}>`);
  const id = queueIdOf(await client.data(dataPayload(`From: alice@example.com\r\nSubject: ${subject}\r\n\r\n${body}\r\n`)));
  await client.quit();
  return id ?? '';
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${gw.stdout.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('inspection before delivery', () => {
  it('delivers clean mail opportunistically, holds PHI back from a cleartext MX, holds PHI to a consumer domain', async () => {
    const clean = await send('a@clinic.test', 'lunch', 'See you at noon.');
    const phi = await send('b@clinic.test', 'results', PHI_BODY);
    const consumer = await send('c@consumer.test', 'results', PHI_BODY);

    await until('clean delivery', () => mx.received.find((m) => m.body.includes('See you at noon.')));
    const phiAttempt = await until('the PHI message attempt', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === phi));
    expect(phiAttempt.outcome).toBe('deferred');
    expect(mx.received.some((m) => m.body.includes('metformin'))).toBe(false);

    await until('the consumer-domain message inspected', () => gw.logLines().find((l) => l.event === 'MESSAGE_INSPECTED' && l.queueId === consumer));
    // the MX has the clean message once its DATA is answered; the gateway records that a moment later
    await until('the clean message recorded as delivered', () => gw.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === clean));
    const rows = await withDb(setup.dataDir, (db) => db.all<{ message_id: string; state: string; requirement: string; method: string }>('SELECT message_id, state, requirement, method FROM recipients ORDER BY message_id'));
    // deferred between attempts (a retry may have it in flight for a moment when the machine is slow)
    const phiRow = await until('the PHI recipient deferred', async () =>
      withDb(setup.dataDir, (db) => db.get<{ state: string; requirement: string; method: string }>("SELECT state, requirement, method FROM recipients WHERE message_id = ? AND state = 'deferred'", [phi])),
    );
    expect(phiRow).toMatchObject({ requirement: 'verify', method: 'tls-verified' });
    expect(rows.find((r) => r.message_id === phi)).toMatchObject({ requirement: 'verify', method: 'tls-verified' });
    expect(rows.find((r) => r.message_id === consumer)).toMatchObject({ method: 'quarantine', state: 'held' });
    expect(rows.find((r) => r.message_id === clean)).toBeUndefined(); // delivered and gone

    const held = await runCli(['-c', setup.configPath, 'queue', 'list', '--state', 'held', '--json']);
    expect((JSON.parse(held.stdout) as { id: string }[]).map((m) => m.id)).toEqual([consumer]);

    const quarantine = await runCli(['-c', setup.configPath, 'quarantine', 'list', '--json']);
    const q = JSON.parse(quarantine.stdout) as { id: string; held: { address: string; method: string; reasons: string[] }[]; verdict: { phi: boolean; findings: { category: string }[] } }[];
    expect(q.map((m) => m.id)).toEqual([consumer]);
    expect(q[0]?.held).toEqual([{ address: 'c@consumer.test', method: 'quarantine', reasons: expect.arrayContaining([expect.stringContaining('verified TLS is not enough')]) as unknown }]);
    expect(q[0]?.verdict.phi).toBe(true);
    expect(quarantine.stdout).not.toContain('536-22-1234');
    const text = await runCli(['-c', setup.configPath, 'quarantine', 'list']);
    expect(text.stdout).toContain(`${consumer}  `);
    expect(text.stdout).toMatch(/ {2}PHI {2}\[SSN×1, DOB×1, HEALTH_TERM×\d+\]\n {2}c@consumer\.test: needs quarantine — /);

    // the verdict is recorded as categories and counts, never values
    const audit = await runCli(['-c', setup.configPath, 'audit', 'tail', '--json', '-n', '50']);
    const verdicts = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> }).filter((e) => e.type === 'inspect:verdict');
    expect(verdicts.find((v) => v.data.queueId === phi)?.data).toMatchObject({ phi: 'true', protection: 'verified-tls', categories: expect.arrayContaining(['SSN', 'DOB', 'PHI']) as unknown });
    for (const text of [audit.stdout, gw.stdout, gw.stderr]) {
      expect(text).not.toContain('536-22-1234');
      expect(text).not.toContain('04/17/1968');
      expect(text).not.toContain('metformin');
    }
  });

  it('holds a named patient with a home address and care back from a cleartext MX, and sends the newsletter with the clinic\'s number', async () => {
    const named = await send('d@clinic.test', 'route', 'Thursday: Maria Alvarez, 14 Elm Street, Springfield - wound care and home oxygen.');
    const newsletter = await send('e@clinic.test', 'news', 'Join our diabetes education class on Tuesday!\r\n\r\nRiverside Clinic | Tel (217) 555-0100 | www.riverside.example');
    await until('the newsletter delivered', () => gw.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === newsletter));
    expect(mx.received.some((m) => m.body.includes('diabetes education class'))).toBe(true);
    const attempt = await until('the named patient attempt recorded', async () =>
      withDb(setup.dataDir, (db) => db.get<{ state: string; requirement: string; method: string }>("SELECT state, requirement, method FROM recipients WHERE message_id = ? AND state = 'deferred'", [named])),
    );
    expect(attempt).toMatchObject({ requirement: 'verify', method: 'tls-verified' });
    expect(mx.received.some((m) => m.body.includes('Maria Alvarez'))).toBe(false);
    const verdict = await withDb(setup.dataDir, (db) => db.get<{ verdict: string }>('SELECT verdict FROM messages WHERE id = ?', [named]));
    expect(JSON.parse(verdict?.verdict ?? '{}')).toMatchObject({ phi: true, phiRule: 'individual-and-health' });
    expect(gw.stdout).not.toContain('Alvarez');
  });
});
