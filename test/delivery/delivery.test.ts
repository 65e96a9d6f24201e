/**
 * The delivery engine end to end on loopback: the real daemon, a dns2 test
 * zone as its only DNS server, and real SMTP servers as recipient MX hosts on
 * 127.0.0.x. Messages go in through SMTP and must come out at the right MX.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, runCli, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
const mx: Record<string, MxServer> = {};

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; gateway log tail: ${gw?.stdout.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Moves the message's creation time forward so its (3 s) lifetime cannot end while a test works on it through the CLI. */
async function extendLifetime(id: string): Promise<void> {
  await withDb(setup.dataDir, (db) => db.run('UPDATE messages SET created_at = ? WHERE id = ?', [Date.now() + 60_000, id]));
}

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.test', dnsNames: ['mx1.alpha.test', 'mx.beta.test', 'mx2.failover.test', 'mx.flaky.test', 'mx.strict.test'], usage: 'server' });
  const tls = { key: cert.keyPem, cert: cert.certPem };
  // one port for every MX address (delivery.port); pick a free one on the first address
  mx.alpha = await startMxServer({ ip: '127.0.0.2', port: 0, tls });
  const port = mx.alpha.port;
  mx.beta = await startMxServer({ ip: '127.0.0.3', port, tls });
  mx.failover = await startMxServer({ ip: '127.0.0.5', port, tls }); // 127.0.0.4 (preferred) has nothing listening
  mx.flaky = await startMxServer({ ip: '127.0.0.6', port, tls, rcpt: (_a, n) => (n === 1 ? [451, '4.3.0 Try again later'] : undefined) });
  mx.strict = await startMxServer({ ip: '127.0.0.7', port, tls, rcpt: (a) => (a.startsWith('nobody@') ? [550, '5.1.1 No such user here'] : undefined) });
  const senderCert = await issueCertificate(setup.pki.ca, { commonName: 'mx.example.com', dnsNames: ['mx.example.com'], usage: 'server' });
  const wrongName = await issueCertificate(setup.pki.ca, { commonName: 'other.test', dnsNames: ['other.test'], usage: 'server' });
  mx.misnamed = await startMxServer({ ip: '127.0.0.9', port, tls: { key: wrongName.keyPem, cert: wrongName.certPem } });
  mx.cleartext = await startMxServer({ ip: '127.0.0.10', port });
  mx.sender = await startMxServer({ ip: '127.0.0.15', port, tls: { key: senderCert.keyPem, cert: senderCert.certPem } });
  zone = await startDnsZone([
    { name: 'alpha.test', type: 'MX', exchange: 'mx1.alpha.test', priority: 10 },
    { name: 'mx1.alpha.test', type: 'A', address: '127.0.0.2' },
    { name: 'beta.test', type: 'MX', exchange: 'mx.beta.test', priority: 10 },
    { name: 'mx.beta.test', type: 'A', address: '127.0.0.3' },
    { name: 'failover.test', type: 'MX', exchange: 'mx1.failover.test', priority: 10 },
    { name: 'failover.test', type: 'MX', exchange: 'mx2.failover.test', priority: 20 },
    { name: 'mx1.failover.test', type: 'A', address: '127.0.0.4' },
    { name: 'mx2.failover.test', type: 'A', address: '127.0.0.5' },
    { name: 'flaky.test', type: 'MX', exchange: 'mx.flaky.test', priority: 10 },
    { name: 'mx.flaky.test', type: 'A', address: '127.0.0.6' },
    { name: 'strict.test', type: 'MX', exchange: 'mx.strict.test', priority: 10 },
    { name: 'mx.strict.test', type: 'A', address: '127.0.0.7' },
    { name: 'nullmx.test', type: 'MX', exchange: '', priority: 0 },
    { name: 'misnamed.test', type: 'MX', exchange: 'mx.misnamed.test', priority: 10 },
    { name: 'mx.misnamed.test', type: 'A', address: '127.0.0.9' },
    { name: 'cleartext.test', type: 'MX', exchange: 'mx.cleartext.test', priority: 10 },
    { name: 'mx.cleartext.test', type: 'A', address: '127.0.0.10' },
    { name: 'down.test', type: 'MX', exchange: 'mx.down.test', priority: 10 },
    { name: 'mx.down.test', type: 'A', address: '127.0.0.11' },
    // the senders' own domain, where DSNs go
    { name: 'example.com', type: 'MX', exchange: 'mx.example.com', priority: 10 },
    { name: 'mx.example.com', type: 'A', address: '127.0.0.15' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port, defaultRequirement: 'verify', retry: { backoff: ['1s'], maxLifetime: '3s' }, delayWarningAfter: '1s', connectTimeout: '5s', deadHostTime: '1s' },
    },
  });
  gw = await startGateway(setup.configPath);
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all(Object.values(mx).map((m) => m.close()));
  await zone?.close();
  await setup?.cleanup();
});

async function send(rcpts: string[], body: string, rcptArgs = ''): Promise<string> {
  const { client } = await RawSmtp.connect(gw.port);
  await client.command('EHLO client.test');
  expect((await client.command('MAIL FROM:<alice@example.com> ENVID=env-42 RET=HDRS')).code).toBe(250);
  for (const r of rcpts) expect((await client.command(`RCPT TO:<${r}>${rcptArgs}`)).code).toBe(250);
  const reply = await client.data(dataPayload(`From: alice@example.com\r\nSubject: delivery test\r\n\r\n${body}\r\n`));
  await client.quit();
  const id = queueIdOf(reply);
  if (!id) throw new Error(`not queued: ${reply.text}`);
  return id;
}

const recipientRows = (id: string) =>
  withDb(setup.dataDir, (db) => db.all<{ address: string; state: string; attempts: number; last_code: number | null; last_enhanced: string | null; last_mx: string | null }>('SELECT address, state, attempts, last_code, last_enhanced, last_mx FROM recipients WHERE message_id = ? ORDER BY seq', [id]));

describe('delivery engine', () => {
  it('delivers one message to two domains over verified TLS, each recipient with its own DSN parameters', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<alice@example.com> ENVID=env-1');
    await client.command('RCPT TO:<bob@alpha.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@alpha.test');
    await client.command('RCPT TO:<carol@beta.test> NOTIFY=NEVER');
    await client.command('RCPT TO:<dan@alpha.test>');
    const reply = await client.data(dataPayload('From: alice@example.com\r\nTo: bob@alpha.test, dan@alpha.test\r\nCc: carol@beta.test\r\nSubject: two domains\r\n\r\nbody-two-domains\r\n.leading dot\r\n'));
    await client.quit();
    const id = queueIdOf(reply) ?? '';
    const atAlpha = await until('delivery to alpha', () => mx.alpha?.received.find((m) => m.body.includes('body-two-domains')));
    const atBeta = await until('delivery to beta', () => mx.beta?.received.find((m) => m.body.includes('body-two-domains')));
    expect(atAlpha.to.map((t) => t.address).sort()).toEqual(['bob@alpha.test', 'dan@alpha.test']);
    expect(atAlpha.to.find((t) => t.address === 'bob@alpha.test')).toMatchObject({ notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;bob@alpha.test' });
    expect(atAlpha.to.find((t) => t.address === 'dan@alpha.test')?.notify).toBeUndefined();
    expect(atBeta.to).toEqual([{ address: 'carol@beta.test', notify: ['NEVER'], orcpt: undefined }]);
    expect(atAlpha.secure).toBe(true);
    expect(atAlpha.from).toBe('alice@example.com');
    // the body arrives as queued: our Received header on top, dot-stuffing undone by the receiver
    expect(atAlpha.body.toString()).toMatch(/^Received: from client\.test/);
    expect(atAlpha.body.toString()).toContain('\r\nbody-two-domains\r\n.leading dot\r\n');
    // every recipient final: the message left the queue, its attempts are audited
    await until('message removed', async () => ((await recipientRows(id)).length === 0 ? true : undefined));
    const audit = await runCli(['-c', setup.configPath, 'audit', 'tail', '--json', '-n', '50']);
    const attempts = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, string> }).filter((e) => e.type === 'delivery:attempt' && e.data.queueId === id);
    expect(attempts.map((a) => a.data.recipient).sort()).toEqual(['bob@alpha.test', 'carol@beta.test', 'dan@alpha.test']);
    for (const a of attempts) expect(a.data).toMatchObject({ outcome: 'delivered', reply: expect.stringMatching(/^250 2\.\d\.\d$/) as unknown, tlsVersion: expect.stringMatching(/^TLSv1\.[23]$/) as unknown, certSha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) as unknown, certVerified: 'true', requirement: 'verify' });
    expect(audit.stdout).not.toContain('body-two-domains');
  });

  it('gives a blind copy (not in To/Cc) its own transaction: no delivery names it beside another recipient', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<alice@example.com>');
    await client.command('RCPT TO:<bob@alpha.test>');
    await client.command('RCPT TO:<eve@alpha.test>');
    await client.command('RCPT TO:<fay@alpha.test>');
    await client.data(dataPayload('From: alice@example.com\r\nTo: Bob <bob@alpha.test>\r\nSubject: bcc\r\n\r\nbody-bcc\r\n'));
    await client.quit();
    const copies = await until('three copies at alpha', () => {
      const got = mx.alpha?.received.filter((m) => m.body.includes('body-bcc')) ?? [];
      return got.length >= 3 ? got : undefined;
    });
    expect(copies.map((m) => m.to.map((t) => t.address)).sort()).toEqual([['bob@alpha.test'], ['eve@alpha.test'], ['fay@alpha.test']]);
    for (const m of copies) expect(m.body.toString()).not.toMatch(/eve@|fay@/);
  });

  it('relays a BDAT message with bare LFs as CRLF and dot-stuffed DATA: a lone dot line never ends it early', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<alice@example.com>');
    await client.command('RCPT TO:<eve@alpha.test>');
    const chunk = Buffer.from('Subject: bdat relay\n\nbefore-dot\n.\nafter-dot\nMAIL FROM:<smuggled@example.com>\n', 'latin1');
    client.write(Buffer.concat([Buffer.from(`BDAT ${chunk.length} LAST\r\n`), chunk]));
    expect(queueIdOf(await client.read())).toBeDefined();
    await client.quit();
    const got = await until('relayed BDAT message', () => mx.alpha?.received.find((m) => m.body.includes('before-dot')));
    const text = got.body.toString('latin1');
    expect(text).toContain('\r\nbefore-dot\r\n.\r\nafter-dot\r\nMAIL FROM:<smuggled@example.com>\r\n');
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('fails over to the next MX when the preferred one refuses connections', async () => {
    const id = await send(['erin@failover.test'], 'body-failover');
    const got = await until('delivery via the second MX', () => mx.failover?.received.find((m) => m.body.includes('body-failover')));
    expect(got.to.map((t) => t.address)).toEqual(['erin@failover.test']);
    await until('message removed', async () => ((await recipientRows(id)).length === 0 ? true : undefined));
  });

  it('defers on 4xx and delivers on the retry', async () => {
    const id = await send(['frank@flaky.test'], 'body-flaky');
    const got = await until('delivery after retry', () => mx.flaky?.received.find((m) => m.body.includes('body-flaky')));
    expect(got.to.map((t) => t.address)).toEqual(['frank@flaky.test']);
    expect(mx.flaky?.rcptAttempts.get('frank@flaky.test')).toBe(2);
    await until('message removed', async () => ((await recipientRows(id)).length === 0 ? true : undefined));
    const log = gw.logLines().filter((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id);
    expect(log.map((l) => l.outcome)).toEqual(['deferred', 'delivered']);
    expect(log[0]?.reply).toBe('451 4.3.0');
  });

  it('bounces a recipient the MX refuses with 5xx, delivers the other one', async () => {
    const id = await send(['nobody@strict.test', 'grace@strict.test'], 'body-strict');
    const got = await until('delivery of the good recipient', () => mx.strict?.received.find((m) => m.body.includes('body-strict')));
    expect(got.to.map((t) => t.address)).toEqual(['grace@strict.test']);
    const log = await until('both outcomes', () => {
      const lines = gw.logLines().filter((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id);
      return lines.length === 2 ? lines : undefined;
    });
    expect(log.map((l) => `${String(l.outcome)} ${String(l.reply)}`).sort()).toEqual(['bounced 550 5.1.1', 'delivered 250 2.6.0']);
    // the sender gets a DSN for the bounced recipient only: null sender, headers only, no subject, no body
    const dsn = await until('the bounce DSN', () => mx.sender?.received.find((m) => m.body.includes(`X-Sealgate-Queue-ID: ${id}`) && m.body.includes('Action: failed')));
    expect(dsn.from).toBe('');
    expect(dsn.to.map((t) => t.address)).toEqual(['alice@example.com']);
    const text = dsn.body.toString('utf8');
    expect(text).toMatch(/Content-Type: multipart\/report;[\s\S]*report-type=delivery-status/i);
    expect(text).toContain('Final-Recipient: rfc822;nobody@strict.test');
    expect(text).toContain('Status: 5.1.1');
    expect(text).toMatch(/Diagnostic-Code: smtp; ?550 5\.1\.1/);
    expect(text).not.toContain('grace@strict.test');
    expect(text).not.toContain('body-strict');
    expect(text).not.toContain('delivery test');
  });

  it('honours NOTIFY=NEVER: a bounce without a DSN', async () => {
    const id = await send(['nobody@strict.test'], 'body-never', ' NOTIFY=NEVER');
    await until('the bounce', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id && l.outcome === 'bounced'));
    await until('message removed', async () => ((await recipientRows(id)).length === 0 ? true : undefined));
    expect(mx.sender?.received.some((m) => m.body.includes(`X-Sealgate-Queue-ID: ${id}`))).toBe(false);
    expect(gw.logLines().some((l) => l.event === 'DSN_QUEUED' && l.queueId === id)).toBe(false);
  });

  it('bounces at once for a null MX domain, without connecting anywhere', async () => {
    const id = await send(['henry@nullmx.test'], 'body-nullmx');
    const line = await until('null MX outcome', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id));
    expect(line).toMatchObject({ outcome: 'bounced', reply: '556 5.1.10' });
    expect(line.mx).toBeUndefined();
  });

  it('with verify, a certificate that does not name the MX host gets nothing (deferred); with encrypt the same MX gets the message', async () => {
    const id = await send(['judy@misnamed.test'], 'body-misnamed');
    const line = await until('a deferral', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id));
    expect(line).toMatchObject({ outcome: 'deferred', mx: 'mx.misnamed.test' });
    expect(mx.misnamed?.received).toEqual([]);
    // the attempt is logged inside the transaction that records it: wait for the commit
    const rows = await until('the deferral recorded', async () => ((await recipientRows(id))[0]?.last_enhanced ? recipientRows(id) : undefined));
    expect(rows[0]?.last_enhanced).toBe('4.7.5');
    // an operator lowers this recipient's requirement to encrypt (as a per-domain policy will);
    // the lifetime restarts first, so a slow machine cannot let the 3 s lifetime run out before the hold
    await extendLifetime(id);
    await runCli(['-c', setup.configPath, 'queue', 'hold', id]);
    await withDb(setup.dataDir, (db) => db.run(`UPDATE recipients SET requirement = 'encrypt' WHERE message_id = ?`, [id]));
    await runCli(['-c', setup.configPath, 'queue', 'release', id]);
    const got = await until('delivery with encrypt', () => mx.misnamed?.received.find((m) => m.body.includes('body-misnamed')));
    expect(got.secure).toBe(true);
  });

  it('with may, a cleartext-only MX gets the message without TLS', async () => {
    const id = await send(['kate@cleartext.test'], 'body-cleartext');
    await until('a deferral under verify', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id));
    expect(mx.cleartext?.received).toEqual([]);
    await extendLifetime(id);
    await runCli(['-c', setup.configPath, 'queue', 'hold', id]);
    await withDb(setup.dataDir, (db) => db.run(`UPDATE recipients SET requirement = 'may' WHERE message_id = ?`, [id]));
    await runCli(['-c', setup.configPath, 'queue', 'release', id]);
    const got = await until('cleartext delivery', () => mx.cleartext?.received.find((m) => m.body.includes('body-cleartext')));
    expect(got.secure).toBe(false);
  });

  it('expires a recipient whose MX stays down past the maximum lifetime', async () => {
    const id = await send(['leo@down.test'], 'body-down');
    const expired = await until('expiry', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id && l.outcome === 'expired'), 30_000);
    const before = gw.logLines().filter((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id);
    expect(before.slice(0, -1).every((l) => l.outcome === 'deferred')).toBe(true);
    expect(expired.ip === undefined || expired.ip === '127.0.0.11').toBe(true);
    // a delay warning once it waited delayWarningAfter, then the failure notice
    const delay = await until('the delay DSN', () => mx.sender?.received.find((m) => m.body.includes(`X-Sealgate-Queue-ID: ${id}`) && m.body.includes('Action: delayed')));
    expect(delay.body.toString()).toContain('Will-Retry-Until:');
    const failure = await until('the expiry DSN', () => mx.sender?.received.find((m) => m.body.includes(`X-Sealgate-Queue-ID: ${id}`) && m.body.includes('Action: failed')));
    expect(failure.body.toString()).toContain('Final-Recipient: rfc822;leo@down.test');
    const delays = mx.sender?.received.filter((m) => m.body.includes(`X-Sealgate-Queue-ID: ${id}`) && m.body.includes('Action: delayed')) ?? [];
    expect(delays).toHaveLength(1);
  });

  it('queue bounce gives up on a deferred message and notifies the sender', async () => {
    const id = await send(['mia@down.test'], 'body-operator-bounce');
    // the lifetime restarts first, so a loaded machine's slow CLI cannot let the 3 s lifetime run out before the hold
    await extendLifetime(id);
    await until('a deferral', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id));
    // hold it between two attempts (an in-flight recipient is left to its attempt)
    await until('held', async () => ((await runCli(['-c', setup.configPath, 'queue', 'hold', id])).stdout.includes(': 1 recipient') ? true : undefined));
    const bounced = await runCli(['-c', setup.configPath, 'queue', 'bounce', id]);
    expect(bounced.stdout).toBe(`bounced ${id}: 1 recipient\n`);
    const dsn = await until('the operator bounce DSN', () => mx.sender?.received.find((m) => m.body.includes(`X-Sealgate-Queue-ID: ${id}`) && m.body.includes('Action: failed')));
    expect(dsn.body.toString()).toContain('Final-Recipient: rfc822;mia@down.test');
    expect((await recipientRows(id)).length).toBe(0);
  });

  it('never delivers without TLS when the requirement is verify: a cleartext-only MX gets nothing', async () => {
    const plain = await startMxServer({ ip: '127.0.0.8', port: mx.alpha?.port ?? 0 });
    mx.plain = plain;
    await zone.close();
    // a zone with the cleartext MX for a new domain (same port: the daemon keeps its dns.servers)
    zone = await startDnsZone([{ name: 'plain.test', type: 'MX', exchange: 'mx.plain.test', priority: 10 }, { name: 'mx.plain.test', type: 'A', address: '127.0.0.8' }], { port: zone.port });
    const id = await send(['ivan@plain.test'], 'body-plain');
    const line = await until('a deferral', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id));
    expect(line).toMatchObject({ outcome: 'deferred' });
    expect(plain.received).toEqual([]);
    const rows = await recipientRows(id);
    expect(rows[0]).toMatchObject({ state: 'deferred', last_mx: 'mx.plain.test' });
  });
});
