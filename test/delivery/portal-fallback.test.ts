/**
 * The portal fallback (tls.portalFallback): protected mail that no MX can
 * take at its transport requirement moves to the portal method after the
 * grace period, instead of waiting out the retry schedule; unprotected mail
 * and other failures never do. Here the grace period is 0 and the only MX
 * offers no STARTTLS, so a recipient that needs verified TLS is held for the
 * portal after its first attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portalFallbackDue } from '../../src/delivery/engine.js';
import type { TransportRequirement } from '../../src/delivery/transport-requirement.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

describe('portalFallbackDue', () => {
  const on = { enabled: true, after: 900_000 };
  const base = { requirement: 'verify' as TransportRequirement, tlsFailure: true, state: 'deferred', createdAt: 0, now: 900_000 };
  it.each<[string, { enabled: boolean; after: number }, Partial<typeof base>, boolean]>([
    ['protected mail, TLS failure, grace period over', on, {}, true],
    ['grace period not over yet', on, { now: 899_999 }, false],
    ['fallback off', { enabled: false, after: 0 }, {}, false],
    ['unprotected mail (may)', on, { requirement: 'may' }, false],
    ['encrypt counts as protected', on, { requirement: 'encrypt' }, true],
    ['a failure that is not about TLS', on, { tlsFailure: false }, false],
    ['already final', on, { state: 'bounced' }, false],
  ])('%s', (_name, fallback, over, expected) => {
    expect(portalFallbackDue(fallback, { ...base, ...over })).toBe(expected);
  });
});

let setup: TestSetup;
let gw: RunningGateway;
let mx: MxServer;
let zone: DnsZone;

beforeAll(async () => {
  mx = await startMxServer({ ip: '127.0.0.120', port: 0 });
  zone = await startDnsZone([
    { name: 'strict.test', type: 'MX', exchange: 'mx.plain.test', priority: 10 },
    { name: 'open.test', type: 'MX', exchange: 'mx.plain.test', priority: 10 },
    { name: 'mx.plain.test', type: 'A', address: '127.0.0.120' },
  ]);
  setup = await setupGateway({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
      tls: { policies: { 'strict.test': 'verify' }, portalFallback: { enabled: true, after: '0s' }, mtaSts: { enabled: false } },
      inspection: { enabled: false },
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

describe('portal fallback at delivery', () => {
  it('holds protected mail for the portal once no MX can take it securely; opportunistic mail is delivered', async () => {
    const id = await sendMessage(gw.port, 'alice@example.com', ['a@open.test', 'b@strict.test'], 'From: alice@example.com\r\nTo: a@open.test, b@strict.test\r\nSubject: fallback\r\n\r\nbody-fallback\r\n');
    await until('the fallback', () => gw.logLines().find((l) => l.event === 'PORTAL_FALLBACK' && l.queueId === id), { context: () => gw.stdout.slice(-3000) });
    expect(mx.received.flatMap((m) => m.to.map((t) => t.address))).toEqual(['a@open.test']);
    const row = await withDb(setup.dataDir, (db) => db.get<{ state: string; method: string; decision: string }>("SELECT state, method, decision FROM recipients WHERE message_id = ? AND address = 'b@strict.test'", [id]));
    expect(row).toMatchObject({ state: 'held', method: 'portal' });
    expect(JSON.parse(row?.decision ?? '[]')).toEqual([expect.stringMatching(/^no recipient MX met the transport requirement \(verify\) for \d+ min: portal fallback$/)]);
    const events = await auditEvents(setup.configPath);
    expect(events.find((e) => e.type === 'delivery:portal_fallback')?.data).toEqual({ queueId: id, recipient: 'b@strict.test', requirement: 'verify' });
    const q = await runCli(['-c', setup.configPath, 'quarantine', 'list']);
    expect(q.stdout).toContain('b@strict.test: needs portal — no recipient MX met the transport requirement (verify)');
  });
});
