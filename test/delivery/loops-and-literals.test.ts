/**
 * Issue 18 at delivery, on the real daemon: a recipient whose MX, implicit MX
 * or address literal is the gateway's own listening address (same IP and
 * port) bounces at once with 5.4.6 instead of being sent to itself; when only
 * some MX hosts loop the others are used. And with
 * delivery.allowAddressLiterals the gateway delivers to an address literal
 * (no DNS) with opportunistic TLS, but holds back mail that needs more.
 *
 * Loopback only: the gateway listens on 127.0.0.1:PORT and delivers to
 * PORT, the recipient MX hosts are real SMTP servers on 127.0.0.x:PORT.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until as waitUntil } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
const mx: Record<string, MxServer> = {};

/** The shared poller, with the gateway's log tail on a timeout. */
const until = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> => waitUntil(what, probe, { context: () => `gateway log tail: ${gw?.stdout.slice(-3000)}` });

/** A port free on 127.0.0.1 right now: the gateway listens there and delivers to it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  setup = await setupGateway();
  const port = await freePort();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.test', dnsNames: ['mx2.partial.test', 'mx.example.com'], usage: 'server' });
  const tls = { key: cert.keyPem, cert: cert.certPem };
  mx.literal = await startMxServer({ ip: '127.0.0.2', port, tls });
  mx.partial = await startMxServer({ ip: '127.0.0.3', port, tls });
  mx.held = await startMxServer({ ip: '127.0.0.4', port, tls });
  mx.sender = await startMxServer({ ip: '127.0.0.15', port, tls });
  zone = await startDnsZone([
    // every MX host is the gateway itself
    { name: 'loop.test', type: 'MX', exchange: 'mx.loop.test', priority: 10 },
    { name: 'mx.loop.test', type: 'A', address: '127.0.0.1' },
    // no MX: the domain's own address is the implicit MX, and it is the gateway
    { name: 'implicit.test', type: 'A', address: '127.0.0.1' },
    // the preferred MX is the gateway, the second one a real MX
    { name: 'partial.test', type: 'MX', exchange: 'mx1.partial.test', priority: 10 },
    { name: 'partial.test', type: 'MX', exchange: 'mx2.partial.test', priority: 20 },
    { name: 'mx1.partial.test', type: 'A', address: '127.0.0.1' },
    { name: 'mx2.partial.test', type: 'A', address: '127.0.0.3' },
    // the senders' own domain, where DSNs go
    { name: 'example.com', type: 'MX', exchange: 'mx.example.com', priority: 10 },
    { name: 'mx.example.com', type: 'A', address: '127.0.0.15' },
  ]);
  await setup.writeConfig({
    listener: { port },
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port, allowAddressLiterals: true, defaultRequirement: 'may', retry: { backoff: ['1s'], maxLifetime: '1h' }, connectTimeout: '5s', deadHostTime: '1s' },
    },
  });
  gw = await startGateway(setup.configPath);
  expect(gw.port).toBe(port);
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all(Object.values(mx).map((m) => m.close()));
  await zone?.close();
  await setup?.cleanup();
});

async function send(rcpts: string[], marker: string, options: { requireTls?: boolean } = {}): Promise<string> {
  const { client } = await RawSmtp.connect(gw.port);
  await client.command('EHLO client.test');
  if (options.requireTls) {
    expect((await client.starttls({ ca: setup.pki.ca.certPem, servername: 'localhost' })).code).toBe(220);
    await client.command('EHLO client.test');
  }
  expect((await client.command(`MAIL FROM:<alice@example.com>${options.requireTls ? ' REQUIRETLS' : ''}`)).code).toBe(250);
  for (const r of rcpts) expect((await client.command(`RCPT TO:<${r}>`)).text).toBe('250 2.1.5 Accepted');
  const reply = await client.data(dataPayload(`From: alice@example.com\r\nSubject: loop test\r\n\r\n${marker}\r\n`));
  await client.quit();
  const id = queueIdOf(reply);
  if (!id) throw new Error(`not queued: ${reply.text}`);
  return id;
}

type Row = { address: string; state: string; attempts: number; last_code: number | null; last_enhanced: string | null; last_mx: string | null; last_error: string | null };
const rows = (id: string): Promise<Row[]> =>
  withDb(setup.dataDir, (db) => db.all<Row>('SELECT address, state, attempts, last_code, last_enhanced, last_mx, last_error FROM recipients WHERE message_id = ? ORDER BY seq', [id]));

/** The DSN the sender's MX got about `id`. */
const dsnAbout = (id: string) => until(`DSN about ${id}`, () => mx.sender?.received.find((m) => m.body.toString('latin1').includes(`X-Sealgate-Queue-ID: ${id}`)));

describe('mail that would loop back to the gateway', () => {
  it.each([
    ['its only MX', 'bob@loop.test', 'loop.test', 'mx.loop.test'],
    ['its implicit MX (the domain\'s own A record)', 'bob@implicit.test', 'implicit.test', 'implicit.test'],
  ])('bounces at once with 5.4.6 when %s is one of our listening addresses', async (_name, rcpt, domain, host) => {
    const accepted = gw.logLines().filter((l) => l.event === 'MESSAGE_ACCEPTED').length;
    const id = await send([rcpt], `loop-${domain}`);
    const dsn = await dsnAbout(id);
    const text = dsn.body.toString('latin1');
    expect(text).toMatch(/^Action: failed$/m);
    expect(text).toMatch(/^Status: 5\.4\.6$/m);
    expect(text).toContain(`Diagnostic-Code: smtp; 554 5.4.6 mail for ${domain} loops back to myself`);
    // final after one attempt, never delivered to ourselves
    await until('message finished', async () => (await rows(id)).length === 0);
    const audit = await auditEvents(setup.configPath, 500);
    const attempt = audit.find((e) => e.type === 'delivery:attempt' && e.data.queueId === id);
    expect(attempt?.data).toMatchObject({ recipient: rcpt, mx: host, reply: '554 5.4.6', outcome: 'bounced' });
    const loop = audit.find((e) => e.type === 'delivery:loop_detected' && e.data.queueId === id);
    expect(loop?.data).toEqual({ queueId: id, domain, hosts: [host], outcome: 'bounced' });
    const logged = gw.logLines().filter((l) => l.event === 'DELIVERY_LOOP' && l.queueId === id);
    expect(logged.map((l) => [l.domain, l.outcome])).toEqual([[domain, 'bounced']]);
    expect(JSON.stringify(logged)).not.toContain('@');
    // the gateway did not take the message from itself: ours is the only one it accepted
    expect(gw.logLines().filter((l) => l.event === 'MESSAGE_ACCEPTED').length).toBe(accepted + 1);
  });

  it('skips an MX host that is ourselves and delivers to the next one', async () => {
    const id = await send(['carol@partial.test'], 'partial-loop-body');
    const got = await until('delivery at mx2.partial.test', () => mx.partial?.received.find((m) => m.body.includes('partial-loop-body')));
    expect(got.to.map((t) => t.address)).toEqual(['carol@partial.test']);
    await until('message finished', async () => (await rows(id)).length === 0);
    const audit = await auditEvents(setup.configPath, 500);
    expect(audit.find((e) => e.type === 'delivery:loop_detected' && e.data.queueId === id)?.data).toEqual({ queueId: id, domain: 'partial.test', hosts: ['mx1.partial.test'], outcome: 'skipped' });
    expect(audit.find((e) => e.type === 'delivery:attempt' && e.data.queueId === id)?.data).toMatchObject({ mx: 'mx2.partial.test', ip: '127.0.0.3', reply: '250 2.6.0', outcome: 'delivered' });
  });

  it('bounces an address literal that is our own listening address', async () => {
    const id = await send(['dan@[127.0.0.1]'], 'literal-loop');
    const text = (await dsnAbout(id)).body.toString('latin1');
    expect(text).toMatch(/^Status: 5\.4\.6$/m);
    expect(text).toContain('Diagnostic-Code: smtp; 554 5.4.6 mail for [127.0.0.1] loops back to myself');
  });
});

describe('address literals (delivery.allowAddressLiterals: true)', () => {
  it('delivers to the literal address without DNS, over opportunistic TLS', async () => {
    const queriesBefore = zone.queries.length;
    const id = await send(['erin@[127.0.0.2]'], 'literal-delivery-body');
    const got = await until('delivery at 127.0.0.2', () => mx.literal?.received.find((m) => m.body.includes('literal-delivery-body')));
    expect(got.to.map((t) => t.address)).toEqual(['erin@[127.0.0.2]']);
    // STARTTLS was offered and used; the certificate names no address literal and was not checked
    expect(got.secure).toBe(true);
    await until('message finished', async () => (await rows(id)).length === 0);
    const attempt = (await auditEvents(setup.configPath, 500)).find((e) => e.type === 'delivery:attempt' && e.data.queueId === id);
    expect(attempt?.data).toMatchObject({ mx: '[127.0.0.2]', ip: '127.0.0.2', requirement: 'may', certVerified: 'false', outcome: 'delivered' });
    // nothing was asked about the literal (only the sender's domain, for nothing here)
    expect(zone.queries.slice(queriesBefore).filter((q) => q.includes('127.0.0.2') || q.includes('['))).toEqual([]);
  });

  it('holds back mail that needs verified TLS (REQUIRETLS): deferred with 4.7.5, never sent to the literal', async () => {
    const id = await send(['frank@[127.0.0.4]'], 'literal-requiretls-body', { requireTls: true });
    const row = await until('first attempt recorded', async () => (await rows(id)).find((r) => r.attempts >= 1));
    expect(row).toMatchObject({ state: 'deferred', last_code: 451, last_enhanced: '4.7.5' });
    expect(row.last_error).toBe('Transport requirement verify cannot be met at an address literal (opportunistic TLS only); not delivering');
    // a second attempt decides the same way
    await until('second attempt', async () => ((await rows(id))[0]?.attempts ?? 0) >= 2);
    expect(mx.held?.received.some((m) => m.body.includes('literal-requiretls-body'))).toBe(false);
    expect(mx.held?.connections).toBe(0);
  });

  it('bounces queued literal mail with 5.1.2 once an operator turns allowAddressLiterals off (SIGHUP)', async () => {
    const id = await send(['gina@[127.0.0.4]'], 'literal-turned-off', { requireTls: true });
    await until('first attempt recorded', async () => ((await rows(id))[0]?.attempts ?? 0) >= 1);
    const from = gw.logLines().length;
    await setup.writeConfig({
      listener: { port: gw.port },
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: {
        dns: { servers: [zone.server] },
        delivery: { enabled: true, port: gw.port, allowAddressLiterals: false, defaultRequirement: 'may', retry: { backoff: ['1s'], maxLifetime: '1h' }, connectTimeout: '5s', deadHostTime: '1s' },
      },
    });
    gw.signal('SIGHUP');
    await gw.waitForEvent('CONFIG_RELOADED', 30_000, from);
    const text = (await dsnAbout(id)).body.toString('latin1');
    expect(text).toMatch(/^Status: 5\.1\.2$/m);
    expect(text).toContain('Diagnostic-Code: smtp; 550 5.1.2 Address literals are not accepted here (delivery.allowAddressLiterals is off)');
    // and new literal recipients are refused at RCPT again
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<alice@example.com>');
    expect((await client.command('RCPT TO:<hank@[127.0.0.2]>')).text).toBe('550 5.1.2 Address literals are not accepted: a protected recipient cannot be verified by name, MTA-STS or DANE');
    await client.quit();
  });
});
