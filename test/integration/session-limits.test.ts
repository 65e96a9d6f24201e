/**
 * Issue 18 limits on the real daemon, over raw SMTP sessions on loopback:
 * the hop count (Received fields), address literals at RCPT, recipients of a
 * null-sender message, and the time limit on one command line (a client that
 * trickles a line byte by byte). Each refusal is checked word for word, and
 * by what did (not) reach the queue, the spool and the audit log.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { dataPayload, queueIdOf, RawSmtp, type Reply } from '../helpers/smtp-client.js';
import { spooledContents, withDb } from '../helpers/spool-reader.js';

const CONNECTORS = [{ name: 'loopback', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }];
const LITERAL_REFUSED = '550 5.1.2 Address literals are not accepted: a protected recipient cannot be verified by name, MTA-STS or DANE';
const BAD_RECIPIENT = '501 5.1.3 Bad recipient address syntax';
const LIBRARY_BAD_RECIPIENT = '501 5.1.3 Error: Bad recipient address syntax';
const NULL_SENDER_REFUSED = '452 4.5.3 Too many recipients for a null-sender message';
const COMMAND_TIMEOUT = '421 4.4.2 gw.test Command line timeout';

let setup: TestSetup;
let gw: RunningGateway;

beforeAll(async () => {
  setup = await setupGateway({ connectors: CONNECTORS });
  // a small command line limit (2 s); the idle timeout stays at its 5 minutes.
  // The submission listener (AUTH after STARTTLS) uses the test certificate setupGateway wrote.
  await setup.writeConfig({
    connectors: CONNECTORS,
    smtp: { commandTimeoutMs: 2000, maxJunkCommands: 5 },
    listeners: [
      { name: 'relay', host: '127.0.0.1', port: 0, tls: 'none' },
      { name: 'submission', host: '127.0.0.1', port: 0, tls: 'starttls', auth: true, certFile: join(setup.dir, 'certs', 'server.crt'), keyFile: join(setup.dir, 'certs', 'server.key') },
    ],
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

async function session(listener = 'relay'): Promise<RawSmtp> {
  const { client, greeting } = await RawSmtp.connect(gw.ports.get(listener) ?? 0);
  expect(greeting.code).toBe(220);
  expect((await client.command('EHLO client.test')).code).toBe(250);
  return client;
}

const queuedCount = (): Promise<number> => withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n ?? -1);

/** Spooled contents: files, and small messages kept in the database (queue.inlineMaxBytes). */
const spoolFiles = (): Promise<string[]> => spooledContents(setup.dataDir);

const received = (n: number): string => Array.from({ length: n }, (_, i) => `Received: from relay${i}.example.net by relay${i + 1}.example.net; Tue, 1 Dec 2026 10:00:${String(i % 60).padStart(2, '0')} +0000\r\n`).join('');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('hop count (smtp.maxReceivedHeaders, default 50)', () => {
  it('accepts 49 Received fields (ours makes 50) and refuses 50 with 554 5.4.6 after the whole DATA; nothing is queued and the session goes on', async () => {
    const c = await session();
    const before = await queuedCount();
    const filesBefore = await spoolFiles();

    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    const ok = await c.data(dataPayload(`${received(49)}From: alice@example.com\r\nSubject: 49 hops\r\n\r\nbody\r\n`));
    expect(ok.text).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
    expect(await queuedCount()).toBe(before + 1);
    const filesAfterOk = await spoolFiles();

    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    // a body large enough to arrive in many chunks: the refusal is the reply to the whole transfer
    const looping = await c.data(dataPayload(`${received(50)}From: alice@example.com\r\nSubject: looping\r\n\r\n${`${'y'.repeat(76)}\r\n`.repeat(5000)}`));
    expect(looping.text).toBe('554 5.4.6 Too many hops');
    expect(await queuedCount()).toBe(before + 1);
    expect(await spoolFiles()).toEqual(filesAfterOk);
    expect(filesAfterOk.length).toBe(filesBefore.length + 1);

    // the session goes on
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    expect((await c.data(dataPayload('Subject: after\r\n\r\nok\r\n'))).code).toBe(250);
    await c.quit();

    const rejected = gw.logLines().filter((l) => l.event === 'MESSAGE_REJECTED' && l.reason === 'SG_TOO_MANY_HOPS');
    expect(rejected.map((l) => [l.reply, l.hops])).toEqual([['554 5.4.6', 51]]);
    const audit = (await auditEvents(setup.configPath)).filter((e) => e.type === 'ingress:message_rejected' && e.data.reason === 'SG_TOO_MANY_HOPS');
    expect(audit.map((e) => e.data)).toEqual([expect.objectContaining({ connector: 'loopback', reply: '554 5.4.6' })]);
  });

  it('refuses the same loop sent with BDAT', async () => {
    const c = await session();
    const before = await queuedCount();
    const filesBefore = await spoolFiles();
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    const first = Buffer.from(`${received(30)}`, 'latin1');
    const second = Buffer.from(`${received(20)}Subject: looping over BDAT\r\n\r\nbody\r\n`, 'latin1');
    c.write(Buffer.concat([Buffer.from(`BDAT ${first.length}\r\n`), first, Buffer.from(`BDAT ${second.length} LAST\r\n`), second]));
    const replies: Reply[] = [await c.read(), await c.read()];
    expect(replies.map((r) => r.text)).toEqual([`250 2.0.0 ${first.length} octets received`, '554 5.4.6 Too many hops']);
    expect(await queuedCount()).toBe(before);
    expect(await spoolFiles()).toEqual(filesBefore);
    await c.quit();
  });
});

describe('address literals (delivery.allowAddressLiterals: false, the default)', () => {
  it.each([
    ['IPv4', 'u@[192.0.2.1]'],
    ['IPv6', 'u@[IPv6:2001:db8::1]'],
    ['IPv6, tag in lower case', 'u@[ipv6:2001:db8::1]'],
  ])('refuses an %s literal at RCPT with 550 5.1.2; other recipients of the transaction go on', async (_name, rcpt) => {
    const c = await session();
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command(`RCPT TO:<${rcpt}>`)).text).toBe(LITERAL_REFUSED);
    expect((await c.command('RCPT TO:<bob@example.net>')).text).toBe('250 2.1.5 Accepted');
    await c.quit();
  });

  // smtp-server's own address parser refuses most malformed literals (its text); what passes it and is still
  // no IPv4 or IPv6 literal the gateway can deliver to gets the gateway's reply
  it.each([
    ['an IPv4 octet over 255', 'u@[192.0.2.256]', LIBRARY_BAD_RECIPIENT],
    ['three IPv4 octets', 'u@[192.0.2]', LIBRARY_BAD_RECIPIENT],
    ['an IPv4 octet with a leading zero', 'u@[192.0.2.01]', LIBRARY_BAD_RECIPIENT],
    ['nine IPv6 groups', 'u@[IPv6:1:2:3:4:5:6:7:8:9]', LIBRARY_BAD_RECIPIENT],
    ['an IPv4 address tagged IPv6', 'u@[IPv6:192.0.2.1]', LIBRARY_BAD_RECIPIENT],
    ['an IPv6 address without its tag', 'u@[2001:db8::1]', LIBRARY_BAD_RECIPIENT],
    ['an empty literal', 'u@[]', LIBRARY_BAD_RECIPIENT],
    ['a non-hex IPv6 group', 'u@[IPv6:2001:db8::g]', LIBRARY_BAD_RECIPIENT],
    ['an IPv6 zone id', 'u@[IPv6:fe80::1%eth0]', BAD_RECIPIENT],
  ])('answers a malformed literal (%s) with 501 5.1.3', async (_name, rcpt, expected) => {
    const c = await session();
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command(`RCPT TO:<${rcpt}>`)).text).toBe(expected);
    // nothing was added to the transaction
    expect((await c.command('DATA')).text).toBe('503 5.5.1 Error: need RCPT command');
    await c.quit();
  });

  it('audits each refusal without the address', async () => {
    const events = (await auditEvents(setup.configPath, 500)).filter((e) => e.type === 'ingress:recipient_refused' && e.data.reason === 'SG_ADDRESS_LITERAL');
    // the first refusal of a minute per client and reason in full, its repeats counted (ingress:refusals_repeated,
    // test/integration/refusal-audit.test.ts): one event, two if this file ran across a minute boundary
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeLessThanOrEqual(3);
    for (const e of events) {
      expect(Object.keys(e.data).sort()).toEqual(['connector', 'listener', 'reason', 'remoteIp', 'reply', 'sessionId']);
      expect(e.data).toMatchObject({ connector: 'loopback', listener: 'relay', reply: '550 5.1.2' });
      expect(JSON.stringify(e.data)).not.toMatch(/u@|2001:db8|192\.0\.2/);
    }
    const logged = gw.logLines().filter((l) => l.event === 'RECIPIENT_REFUSED' && l.reason === 'SG_ADDRESS_LITERAL');
    expect(logged.length).toBe(3);
    expect(JSON.stringify(logged)).not.toContain('u@');
  });
});

describe('null sender (smtp.nullSenderMaxRecipients, default 1)', () => {
  it('takes one recipient for MAIL FROM:<>, answers 452 4.5.3 to more, audits each refusal, and queues the message with its one recipient', async () => {
    const c = await session();
    expect((await c.command('MAIL FROM:<>')).text).toBe('250 2.1.0 Accepted');
    expect((await c.command('RCPT TO:<bob@example.net>')).text).toBe('250 2.1.5 Accepted');
    expect((await c.command('RCPT TO:<carol@example.net>')).text).toBe(NULL_SENDER_REFUSED);
    expect((await c.command('RCPT TO:<dan@example.org>')).text).toBe(NULL_SENDER_REFUSED);
    const reply = await c.data(dataPayload('From: MAILER-DAEMON@example.com\r\nSubject: Undelivered Mail\r\n\r\nbounce\r\n'));
    const id = queueIdOf(reply) ?? '';
    expect(id).not.toBe('');
    const rows = await withDb(setup.dataDir, (db) => db.all<{ address: string }>('SELECT address FROM recipients WHERE message_id = ?', [id]));
    expect(rows.map((r) => r.address)).toEqual(['bob@example.net']);

    // the limit is for the null sender only: the next transaction of the session takes three
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    for (const r of ['bob@example.net', 'carol@example.net', 'dan@example.org']) expect((await c.command(`RCPT TO:<${r}>`)).text).toBe('250 2.1.5 Accepted');
    expect((await c.data(dataPayload('Subject: three\r\n\r\nok\r\n'))).code).toBe(250);
    await c.quit();

    const events = (await auditEvents(setup.configPath, 500)).filter((e) => e.type === 'ingress:recipient_refused' && e.data.reason === 'SG_NULL_SENDER_TOO_MANY_RECIPIENTS');
    // the second refusal repeats the first within the minute: counted, not written in full (see above)
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeLessThanOrEqual(2);
    for (const e of events) {
      expect(e.data).toMatchObject({ connector: 'loopback', listener: 'relay', remoteIp: '127.0.0.1', reply: '452 4.5.3' });
      expect(typeof e.data.sessionId).toBe('string');
      expect(JSON.stringify(e.data)).not.toMatch(/carol|dan@/);
    }
  });
});

/** Sends `text` one byte at a time, `intervalMs` apart, until done or the connection closes. */
async function trickle(c: RawSmtp, text: string, intervalMs: number): Promise<number> {
  let sent = 0;
  for (const ch of text) {
    if (c.isClosed) break;
    c.write(ch);
    sent++;
    await sleep(intervalMs);
  }
  return sent;
}

describe('command line time limit (smtp.commandTimeoutMs)', () => {
  it('closes a session whose command line trickles in one byte at a time with 421 4.4.2', async () => {
    const c = await session();
    const line = 'MAIL FROM:<alice@example.com>\r\n';
    const sending = trickle(c, line, 250);
    expect((await c.read()).text).toBe(COMMAND_TIMEOUT);
    await c.closedByPeer();
    const sent = await sending;
    // the line never completed: the session was closed in the middle of it
    expect(sent).toBeLessThan(line.length);
    c.destroy();
    expect(gw.logLines().some((l) => l.event === 'COMMAND_TIMEOUT' && l.reply === '421 4.4.2')).toBe(true);
  });

  it('covers AUTH continuation lines (the user name after AUTH LOGIN)', async () => {
    const c = await session('submission');
    expect((await c.starttls({ ca: setup.pki.ca.certPem, servername: 'localhost' })).code).toBe(220);
    expect((await c.command('EHLO client.test')).code).toBe(250);
    expect((await c.command('AUTH LOGIN')).text).toBe(`334 ${Buffer.from('Username:').toString('base64')}`);
    const sending = trickle(c, `${Buffer.from('alice-with-a-long-name').toString('base64')}\r\n`, 250);
    expect((await c.read()).text).toBe(COMMAND_TIMEOUT);
    await c.closedByPeer();
    await sending;
    c.destroy();
  });

  it('does not limit the time between complete lines (that is the idle timeout), nor a line sent in a few parts', async () => {
    const c = await session();
    await sleep(2500); // longer than commandTimeoutMs, between two lines
    expect((await c.command('NOOP')).code).toBe(250);
    c.write('MAIL FROM:<alice');
    await sleep(100);
    c.write('@example.com>\r\n');
    expect((await c.read()).text).toBe('250 2.1.0 Accepted');
    // pipelined commands, the second one split: the first dispatch does not start the second line's clock early
    c.write('RSET\r\nNO');
    expect((await c.read()).code).toBe(250);
    await sleep(100);
    c.write('OP\r\n');
    expect((await c.read()).code).toBe(250);
    await c.quit();
  });
});

describe('commands that send no mail (smtp.maxJunkCommands, here 5)', () => {
  it('closes a session after more than 5 NOOP/RSET/VRFY/HELP with 421 4.7.0', async () => {
    const c = await session();
    for (const cmd of ['NOOP', 'RSET', 'VRFY postmaster', 'HELP', 'NOOP']) expect((await c.command(cmd)).code).toBeLessThan(400);
    const reply = await c.command('NOOP');
    expect(reply.text).toBe('421 4.7.0 gw.test Too many commands that send no mail');
    await c.closedByPeer();
    expect(gw.logLines().some((l) => l.event === 'JUNK_COMMAND_LIMIT' && l.reason === 'SG_TOO_MANY_JUNK_COMMANDS')).toBe(true);
  });

  it('counts again after every accepted message, so RSET between the messages of a long connection never reaches the limit', async () => {
    const c = await session();
    for (let i = 0; i < 4; i++) {
      for (const cmd of ['RSET', 'NOOP', 'NOOP', 'RSET']) expect((await c.command(cmd)).code).toBe(250);
      expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
      expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
      expect((await c.data(dataPayload(`Subject: junk-reset ${i}\r\n\r\nbody\r\n`))).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    }
    expect((await c.command('NOOP')).code).toBe(250);
    await c.quit();
  });
});
