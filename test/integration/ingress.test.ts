/**
 * The ingress end to end: the real daemon on loopback, driven by a raw SMTP
 * client and swaks; replies checked word for word; what was queued read back
 * through the encrypted spool.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { readSpooled, stripTraceHeaders, withDb } from '../helpers/spool-reader.js';
import { requireTool } from '../helpers/peers.js';

const run = promisify(execFile);

let setup: TestSetup;
let gw: RunningGateway;
let tlsOptions: { ca: string; servername: string };

beforeAll(async () => {
  setup = await setupGateway({
    connectors: [
      { name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com', '*.example.org'] },
      { name: 'lab', kind: 'generic', allowIps: ['127.0.0.20/32'], senderDomains: ['lab.example'], requireTls: false },
    ],
    smtp: { maxMessageBytes: 64 * 1024, maxRecipients: 3 },
  });
  gw = await startGateway(setup.configPath);
  tlsOptions = { ca: setup.pki.ca.certPem, servername: 'localhost' };
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

async function session(localAddress = '127.0.0.1'): Promise<RawSmtp> {
  const { client, greeting } = await RawSmtp.connect(gw.port, { localAddress });
  expect(greeting.text).toMatch(/^220 gw\.test ESMTP/);
  expect((await client.command('EHLO client.test')).code).toBe(250);
  return client;
}

async function tlsSession(localAddress = '127.0.0.1'): Promise<RawSmtp> {
  const c = await session(localAddress);
  expect((await c.starttls(tlsOptions)).text).toMatch(/^220 /);
  expect((await c.command('EHLO client.test')).code).toBe(250);
  return c;
}

describe('ingress', () => {
  it('advertises the ESMTP extensions, STARTTLS before TLS and no AUTH on a relay listener', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    const ehlo = await client.command('EHLO client.test');
    const text = ehlo.lines.join('\n');
    for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'DSN', 'STARTTLS', `SIZE ${64 * 1024}`]) expect(text).toContain(ext);
    expect(text).not.toContain('AUTH');
    await client.starttls(tlsOptions);
    const after = (await client.command('EHLO client.test')).lines.join('\n');
    expect(after).toContain('REQUIRETLS');
    expect(after).not.toContain('STARTTLS');
    await client.quit();
  });

  it('queues a message over STARTTLS and stores exactly the bytes sent plus trace headers', async () => {
    const c = await tlsSession();
    expect((await c.command('MAIL FROM:<alice@example.com> RET=HDRS ENVID=env-1 REQUIRETLS')).text).toBe('250 2.1.0 Accepted');
    expect((await c.command('RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net')).text).toBe('250 2.1.5 Accepted');
    expect((await c.command('RCPT TO:<carol@example.net>')).code).toBe(250);
    const message = 'From: alice@example.com\r\nTo: bob@example.net\r\nSubject: test one\r\nMessage-ID: <m1@example.com>\r\n\r\nHello\r\n..leading dot line\r\n';
    const reply = await c.data(dataPayload(message));
    expect(reply.text).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
    const id = queueIdOf(reply)!;
    await c.quit();

    const spooled = await readSpooled(setup.dataDir, setup.masterKeyFile, id);
    expect(stripTraceHeaders(spooled).toString('latin1')).toBe(message);
    expect(spooled.toString('latin1')).toMatch(/^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.3 with cipher [A-Z0-9_]+\)\r\n\tby gw\.test \(Sealgate\) with ESMTPS id [0-9A-Z]{20};\r\n/);

    await withDb(setup.dataDir, async (db) => {
      const m = await db.get<Record<string, unknown>>('SELECT * FROM messages WHERE id = ?', [id]);
      expect(m).toMatchObject({ sender: 'alice@example.com', connector: 'loopback', listener: 'relay', tls_version: 'TLSv1.3', requiretls: 1, dsn_ret: 'HDRS', dsn_envid: 'env-1', size: spooled.length });
      const r = await db.all<Record<string, unknown>>('SELECT address, domain, state, dsn_notify, dsn_orcpt FROM recipients WHERE message_id = ? ORDER BY seq', [id]);
      expect(r).toEqual([
        { address: 'bob@example.net', domain: 'example.net', state: 'queued', dsn_notify: 'SUCCESS,FAILURE', dsn_orcpt: 'rfc822;bob@example.net' },
        { address: 'carol@example.net', domain: 'example.net', state: 'queued', dsn_notify: null, dsn_orcpt: null },
      ]);
    });
  });

  it('adds a Message-ID when the message has none', async () => {
    const c = await tlsSession();
    await c.command('MAIL FROM:<alice@example.com>');
    await c.command('RCPT TO:<bob@example.net>');
    const id = queueIdOf(await c.data(dataPayload('Subject: no id\r\n\r\nbody\r\n')))!;
    await c.quit();
    const spooled = (await readSpooled(setup.dataDir, setup.masterKeyFile, id)).toString('latin1');
    expect(spooled).toContain(`Subject: no id\r\nMessage-ID: <${id}@gw.test>\r\n\r\nbody\r\n`);
  });

  it('refuses a sender domain the connector does not allow', async () => {
    const c = await tlsSession();
    expect((await c.command('MAIL FROM:<mallory@evil.example>')).text).toBe('550 5.7.1 Sender address rejected: domain not allowed for this connector');
    expect((await c.command('RCPT TO:<bob@example.net>')).text).toMatch(/^503 /);
    expect((await c.command('MAIL FROM:<alice@sub.example.org>')).code).toBe(250);
    await c.quit();
  });

  it('refuses MAIL FROM before STARTTLS when the connector requires TLS', async () => {
    const c = await session();
    expect((await c.command('MAIL FROM:<alice@example.com>')).text).toBe('530 5.7.0 Must issue a STARTTLS command first');
    await c.quit();
  });

  it('refuses a client address outside every connector range at connect', async () => {
    const { client, greeting } = await RawSmtp.connect(gw.port, { localAddress: '127.0.0.10' });
    expect(greeting.text).toBe('554 5.7.1 Client host not authorized to use this server');
    client.destroy();
  });

  it('lets a cleartext connector relay only for its own domain', async () => {
    const c = await session('127.0.0.20');
    expect((await c.command('MAIL FROM:<alice@example.com>')).text).toBe('550 5.7.1 Sender address rejected: domain not allowed for this connector');
    expect((await c.command('MAIL FROM:<tech@lab.example>')).code).toBe(250);
    expect((await c.command('RCPT TO:<x@example.net>')).code).toBe(250);
    expect((await c.data(dataPayload('Subject: lab\r\n\r\nresult\r\n'))).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    await c.quit();
  });

  it('refuses an over-size message after draining it, and the session goes on', async () => {
    const c = await tlsSession();
    await c.command('MAIL FROM:<alice@example.com>');
    await c.command('RCPT TO:<bob@example.net>');
    const big = `Subject: big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(100);
    expect((await c.data(dataPayload(big))).text).toBe('552 5.3.4 Message size exceeds fixed maximum message size of 65536 bytes');
    await c.command('MAIL FROM:<alice@example.com>');
    await c.command('RCPT TO:<bob@example.net>');
    expect((await c.data(dataPayload('Subject: small\r\n\r\nok\r\n'))).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    await c.quit();
  });

  it('limits recipients per message with 452 4.5.3', async () => {
    const c = await tlsSession();
    await c.command('MAIL FROM:<alice@example.com>');
    for (const r of ['a', 'b', 'c']) expect((await c.command(`RCPT TO:<${r}@example.net>`)).code).toBe(250);
    expect((await c.command('RCPT TO:<d@example.net>')).text).toBe('452 4.5.3 Too many recipients');
    await c.quit();
  });

  it('refuses malformed recipient addresses', async () => {
    const c = await tlsSession();
    await c.command('MAIL FROM:<alice@example.com>');
    expect((await c.command('RCPT TO:<no-domain>')).text).toMatch(/^501 5\.1\.3 (Error: )?Bad recipient address syntax$/);
    await c.quit();
  });

  it('accepts mail from swaks over STARTTLS', async (ctx) => {
    requireTool(ctx, 'swaks');
    const { stdout } = await run('swaks', ['--server', `127.0.0.1:${gw.port}`, '--tls', '--from', 'alice@example.com', '--to', 'bob@example.net', '--header', 'Subject: swaks test'], { timeout: 60_000 });
    expect(stdout).toMatch(/<~ {1,2}250 2\.0\.0 Ok: queued as [0-9A-Z]{20}/);
  });
});
