/**
 * CHUNKING / BDAT (RFC 3030) on the real daemon, over raw sockets: chunk
 * sizes counted exactly, several chunks, BDAT 0 LAST, pipelining, DATA mixing,
 * RSET, the size limit across chunks, a chunk longer than announced, a cut
 * connection and a SIGKILL in the middle of a chunk.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueIdOf, RawSmtp, type Reply } from '../helpers/smtp-client.js';
import { queueShow, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { readSpooled, spooledContents, stripTraceHeaders, withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

const CONNECTORS = [{ name: 'loopback', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }];
const MAX = 64 * 1024;

let setup: TestSetup;
let gw: RunningGateway;

beforeAll(async () => {
  setup = await setupGateway({
    connectors: CONNECTORS,
    smtp: { maxMessageBytes: MAX, bareLineEndings: 'reject' },
    listeners: [
      { name: 'relay', host: '127.0.0.1', port: 0, tls: 'none' },
      { name: 'nochunk', host: '127.0.0.1', port: 0, tls: 'none', chunking: false },
    ],
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

async function session(port = gw.ports.get('relay') ?? 0): Promise<RawSmtp> {
  const { client } = await RawSmtp.connect(port);
  const ehlo = await client.command('EHLO client.test');
  expect(ehlo.code).toBe(250);
  return client;
}

async function envelope(c: RawSmtp): Promise<void> {
  expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
  expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
}

/** Sends BDAT commands with their data in one write (pipelined), returns one reply per chunk. */
async function bdat(c: RawSmtp, chunks: readonly Buffer[], lastIndex = chunks.length - 1): Promise<Reply[]> {
  const parts: Buffer[] = [];
  chunks.forEach((chunk, i) => {
    parts.push(Buffer.from(`BDAT ${chunk.length}${i === lastIndex ? ' LAST' : ''}\r\n`, 'latin1'), chunk);
  });
  c.write(Buffer.concat(parts));
  const replies: Reply[] = [];
  for (let i = 0; i < chunks.length; i++) replies.push(await c.read());
  return replies;
}

const queued = () => withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n ?? -1);

/** Files in the spool, once no abandoned transfer's temporary file is left (RSET answers before its removal finishes). */
async function spoolFiles(): Promise<number> {
  await until('no temporary spool file', async () => (await readdir(join(setup.dataDir, 'spool', 'tmp'))).length === 0, { timeoutMs: 30_000 });
  // files, and small messages kept in the database (queue.inlineMaxBytes)
  return (await spooledContents(setup.dataDir)).length;
}

describe('BDAT', () => {
  it('advertises CHUNKING on listeners that have it, not on the others', async () => {
    const c = await session();
    expect((await c.command('EHLO client.test')).lines.join('\n')).toMatch(/^250[- ]CHUNKING$/m);
    await c.quit();
    const { client } = await RawSmtp.connect(gw.ports.get('nochunk') ?? 0);
    expect((await client.command('EHLO client.test')).lines.join('\n')).not.toContain('CHUNKING');
    expect((await client.command('BDAT 0 LAST')).code).toBe(500);
    await client.quit();
  });

  it('queues a multi-chunk message with bare LFs and 8-bit bytes; bare LFs become CRLF, nothing else changes', async () => {
    const c = await session();
    await envelope(c);
    const head = Buffer.from('From: alice@example.com\nTo: bob@example.net\nSubject: chunked\n\n', 'latin1');
    const body1 = Buffer.from('line one\nline two with caf\xe9 and a dot:\n.\nstill body\r\n', 'latin1');
    const body2 = Buffer.from('last line without newline', 'latin1');
    const replies = await bdat(c, [head, body1, body2, Buffer.alloc(0)]);
    expect(replies.slice(0, 3).map((r) => r.text)).toEqual([`250 2.0.0 ${head.length} octets received`, `250 2.0.0 ${body1.length} octets received`, `250 2.0.0 ${body2.length} octets received`]);
    const id = queueIdOf(replies[3] ?? { code: 0, lines: [], text: '' });
    expect(replies[3]?.text).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
    const stored = stripTraceHeaders(await readSpooled(setup.dataDir, setup.masterKeyFile, id ?? ''), true);
    const sent = Buffer.concat([head, body1, body2]).toString('latin1').replace(/\r?\n/g, '\r\n');
    // the last line gets the CRLF a message must end with
    expect(stored.toString('latin1').replace(/\r\n$/, '')).toBe(sent);
    await c.quit();
  });

  it('BDAT 0 LAST alone ends a message sent in earlier chunks, and the session goes on to the next message', async () => {
    const c = await session();
    await envelope(c);
    const msg = Buffer.from('Subject: zero last\r\n\r\nbody\r\n');
    const [ack] = await bdat(c, [msg], -1);
    expect(ack?.text).toBe(`250 2.0.0 ${msg.length} octets received`);
    const last = await c.command('BDAT 0 LAST');
    expect(queueIdOf(last)).toBeDefined();
    await envelope(c);
    const [again] = await bdat(c, [Buffer.from('Subject: second\r\n\r\nbody\r\n')]);
    expect(queueIdOf(again ?? { code: 0, lines: [], text: '' })).toBeDefined();
    await c.quit();
  });

  it('refuses BDAT before MAIL/RCPT with 503, discarding the chunk bytes', async () => {
    const c = await session();
    const [reply] = await bdat(c, [Buffer.from('MAIL FROM:<smuggled@example.com>\r\n')]);
    expect(reply?.text).toBe('503 5.5.1 Error: need MAIL command');
    // the chunk was data, not commands: the next transaction starts clean
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(503);
    await c.quit();
  });

  it('a chunk longer than announced: the extra bytes are read as commands, never as message data', async () => {
    const c = await session();
    await envelope(c);
    c.write('BDAT 5\r\nHELLO WORLD\r\n');
    expect((await c.read()).text).toBe('250 2.0.0 5 octets received');
    expect((await c.read()).code).toBe(500); // " WORLD" is not a command
    // the transaction is still open with the 5 bytes; DATA cannot be mixed in
    expect((await c.command('DATA')).text).toBe('503 5.5.1 Error: DATA not allowed after BDAT; send RSET');
    expect((await c.command('RSET')).code).toBe(250);
    await c.quit();
  });

  it('RCPT after the first chunk is refused with 503, and the message goes to the recipients accepted before it (found by fuzzing)', async () => {
    const c = await session();
    await envelope(c);
    const [ack] = await bdat(c, [Buffer.from('Subject: late recipient\r\n\r\nbody\r\n')], -1);
    expect(ack?.code).toBe(250);
    // the envelope went to the spool with the first chunk: a 250 here would lose this recipient silently
    expect((await c.command('RCPT TO:<late@example.net>')).text).toBe('503 5.5.1 Error: RCPT not allowed after BDAT; send RSET');
    const last = await c.command('BDAT 0 LAST');
    const id = queueIdOf(last) ?? '';
    expect(id).not.toBe('');
    expect((await queueShow(setup.configPath, id)).recipients.map((r) => r.address)).toEqual(['bob@example.net']);
    // a new transaction takes recipients again
    await envelope(c);
    expect((await c.command('RCPT TO:<carol@example.net>')).code).toBe(250);
    await c.quit();
  });

  it('RSET between chunks abandons the message: nothing queued, no spool file', async () => {
    const before = await queued();
    const files = await spoolFiles();
    const c = await session();
    await envelope(c);
    await bdat(c, [Buffer.from('Subject: abandoned\r\n\r\npart one\r\n')], -1);
    expect((await c.command('RSET')).code).toBe(250);
    await envelope(c);
    const [done] = await bdat(c, [Buffer.from('Subject: kept\r\n\r\nbody\r\n')]);
    expect(queueIdOf(done ?? { code: 0, lines: [], text: '' })).toBeDefined();
    await c.quit();
    expect(await queued()).toBe(before + 1);
    expect(await spoolFiles()).toBe(files + 1);
  });

  it('enforces the size limit across chunks with 552 5.3.4, drains, and the session goes on', async () => {
    const before = await queued();
    const c = await session();
    await envelope(c);
    const half = Buffer.alloc(40_000, 'a');
    const replies = await bdat(c, [Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), half]), half, Buffer.from('tail')]);
    expect(replies[0]?.text).toBe(`250 2.0.0 ${half.length + 16} octets received`);
    expect(replies[1]?.text).toBe(`552 5.3.4 Message size exceeds fixed maximum message size of ${MAX} bytes`);
    expect(replies[2]?.code).toBe(552);
    await envelope(c);
    const [ok] = await bdat(c, [Buffer.from('Subject: small\r\n\r\nbody\r\n')]);
    expect(queueIdOf(ok ?? { code: 0, lines: [], text: '' })).toBeDefined();
    await c.quit();
    expect(await queued()).toBe(before + 1);
  });

  it('queues nothing when the connection is cut in the middle of a chunk', async () => {
    const before = await queued();
    const files = await spoolFiles();
    const c = await session();
    await envelope(c);
    const from = gw.logLines().length;
    await c.writeDrained(Buffer.from(`BDAT 50000 LAST\r\nSubject: cut\r\n\r\n${'x'.repeat(10_000)}`));
    c.destroy();
    const rejected = await gw.waitForEvent('MESSAGE_REJECTED', 30_000, from);
    expect(rejected.reason).toBe('SG_CLIENT_GONE');
    expect(await queued()).toBe(before);
    expect(await spoolFiles()).toBe(files);
  });
});

describe('BDAT and kill -9', () => {
  let local: TestSetup;
  afterAll(async () => {
    await local?.cleanup();
  });

  it('a SIGKILL in the middle of a chunk leaves no partial message queued', async () => {
    local = await setupGateway({ connectors: CONNECTORS, listener: { tls: 'none' } });
    const first = await startGateway(local.configPath);
    const c = (await RawSmtp.connect(first.port)).client;
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<alice@example.com>');
    await c.command('RCPT TO:<bob@example.net>');
    await c.writeDrained(Buffer.from(`BDAT 2000000 LAST\r\nSubject: killed\r\n\r\n${'y'.repeat(500_000)}`));
    await first.kill9();
    c.destroy();
    const second = await startGateway(local.configPath);
    try {
      const rows = await withDb(local.dataDir, async (db) => (await db.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n);
      expect(rows).toBe(0);
      expect(await readdir(join(local.dataDir, 'spool', 'tmp'))).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
