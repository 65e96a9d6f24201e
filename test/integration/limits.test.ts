/**
 * Session limits on the real daemon: concurrent sessions per client address,
 * the header block size and the idle timeout. Each refusal is checked by its
 * reply line, and by what did (not) reach the queue and the spool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPayload, RawSmtp, type Reply } from '../helpers/smtp-client.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { spooledContents, withDb } from '../helpers/spool-reader.js';

const CONNECTORS = [{ name: 'loopback', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }];

async function queuedCount(setup: TestSetup): Promise<number> {
  return withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n ?? -1);
}

/** Every spooled content: files under the spool directory (messages, temporary files) and small messages kept in the database. */
function spoolFiles(setup: TestSetup): Promise<string[]> {
  return spooledContents(setup.dataDir);
}

async function open(gw: RunningGateway, localAddress: string): Promise<{ client: RawSmtp; greeting: Reply }> {
  return RawSmtp.connect(gw.port, { localAddress });
}

async function transaction(c: RawSmtp, message: string): Promise<Reply> {
  expect((await c.command('MAIL FROM:<alice@example.com>')).text).toBe('250 2.1.0 Accepted');
  expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
  return c.data(dataPayload(message));
}

describe('connections per client address and header size', () => {
  let setup: TestSetup;
  let gw: RunningGateway;

  beforeAll(async () => {
    setup = await setupGateway({ connectors: CONNECTORS, smtp: { maxConnectionsPerIp: 2, maxHeaderBytes: 1024 } });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await setup?.cleanup();
  });

  it('refuses a third concurrent session from one address with 421 4.7.0, not one from another address', async () => {
    const first = await open(gw, '127.0.0.1');
    const second = await open(gw, '127.0.0.1');
    expect(first.greeting.text).toMatch(/^220 gw\.test ESMTP/);
    expect(second.greeting.text).toMatch(/^220 gw\.test ESMTP/);

    const third = await open(gw, '127.0.0.1');
    expect(third.greeting.text).toBe('421 4.7.0 Too many connections, try again later');
    await third.client.closedByPeer();

    const other = await open(gw, '127.0.0.5');
    expect(other.greeting.text).toMatch(/^220 gw\.test ESMTP/);
    expect((await other.client.command('EHLO client.test')).code).toBe(250);
    expect((await other.client.command('MAIL FROM:<alice@example.com>')).text).toBe('250 2.1.0 Accepted');
    await other.client.quit();

    // the two sessions in progress are unaffected
    for (const s of [first, second]) expect((await s.client.command('EHLO client.test')).code).toBe(250);

    // a closed session frees its slot (the daemon sees the close a moment after the client)
    await first.client.quit();
    let again: Reply | undefined;
    for (let i = 0; i < 100 && again?.code !== 220; i++) {
      const attempt = await open(gw, '127.0.0.1');
      again = attempt.greeting;
      if (again.code === 220) await attempt.client.quit();
      else {
        attempt.client.destroy();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(again?.text).toMatch(/^220 gw\.test ESMTP/);
    await second.client.quit();

    const refused = gw.logLines().filter((l) => l.event === 'SESSION_REFUSED' && l.reason === 'SG_TOO_MANY_CONNECTIONS');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.every((l) => l.remoteIp === '127.0.0.1')).toBe(true);
  });

  it('refuses a header block over maxHeaderBytes with 552 5.3.4, queues nothing, and the session goes on', async () => {
    const { client, greeting } = await open(gw, '127.0.0.6');
    expect(greeting.code).toBe(220);
    await client.command('EHLO client.test');
    const queuedBefore = await queuedCount(setup);
    const filesBefore = await spoolFiles(setup);

    const bigHeader = Array.from({ length: 20 }, (_, i) => `X-Filler-${i}: ${'h'.repeat(60)}\r\n`).join('');
    const refused = await transaction(client, `Subject: big header\r\n${bigHeader}\r\nsmall body\r\n`);
    expect(refused.text).toBe('552 5.3.4 Message header size exceeds limit of 1024 bytes');
    expect(await queuedCount(setup)).toBe(queuedBefore);
    expect(await spoolFiles(setup)).toEqual(filesBefore);

    // a big body under a small header is fine: the limit is on the header block only
    const accepted = await transaction(client, `Subject: small header\r\n\r\n${`${'b'.repeat(70)}\r\n`.repeat(100)}`);
    expect(accepted.text).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
    expect(await queuedCount(setup)).toBe(queuedBefore + 1);
    await client.quit();

    const rejected = gw.logLines().filter((l) => l.event === 'MESSAGE_REJECTED');
    expect(rejected.map((l) => [l.reason, l.reply])).toEqual([['SG_HEADER_TOO_BIG', '552 5.3.4']]);
  });
});

describe('idle timeout', () => {
  let setup: TestSetup;
  let gw: RunningGateway;

  beforeAll(async () => {
    setup = await setupGateway({ connectors: CONNECTORS, smtp: { idleTimeoutMs: 1000, maxConnectionsPerIp: 1 } });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await setup?.cleanup();
  });

  it('closes a session idle in the middle of a transaction with 421 4.4.2 and queues nothing', async () => {
    const { client, greeting } = await open(gw, '127.0.0.1');
    expect(greeting.code).toBe(220);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    // say nothing more: the next line from the server is the timeout
    expect((await client.read()).text).toBe('421 4.4.2 Timeout - closing connection');
    await client.closedByPeer();
    client.destroy();
    expect(await queuedCount(setup)).toBe(0);

    // the timed-out session no longer counts against maxConnectionsPerIp (1)
    let next: Reply | undefined;
    for (let i = 0; i < 100 && next?.code !== 220; i++) {
      const attempt = await open(gw, '127.0.0.1');
      next = attempt.greeting;
      if (next.code === 220) {
        expect((await attempt.client.command('EHLO client.test')).code).toBe(250);
        await attempt.client.quit();
      } else {
        attempt.client.destroy();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(next?.text).toMatch(/^220 gw\.test ESMTP/);
  });
});

describe('data timeout', () => {
  let setup: TestSetup;
  let gw: RunningGateway;

  beforeAll(async () => {
    setup = await setupGateway({ connectors: CONNECTORS, smtp: { dataTimeoutMs: 1000, idleTimeoutMs: 120_000 } });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await setup?.cleanup();
  });

  it('closes a transfer that stalls past dataTimeoutMs with 421 4.4.2, queues nothing, and keeps serving', async () => {
    const { client } = await open(gw, '127.0.0.1');
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    client.write('From: alice@example.com\r\nSubject: stalled\r\n\r\nfirst line, then nothing\r\n');
    expect((await client.read()).text).toBe('421 4.4.2 Message transfer took too long');
    await client.closedByPeer();
    client.destroy();
    expect(await queuedCount(setup)).toBe(0);
    expect(await spoolFiles(setup)).toEqual([]);

    const again = await open(gw, '127.0.0.1');
    await again.client.command('EHLO client.test');
    expect((await transaction(again.client, 'Subject: fine\r\n\r\nok\r\n')).code).toBe(250);
    await again.client.quit();
  });
});

describe('connection cut mid-DATA', () => {
  let setup: TestSetup;
  let gw: RunningGateway;

  beforeAll(async () => {
    setup = await setupGateway({ connectors: CONNECTORS });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await setup?.cleanup();
  });

  it('queues nothing and leaves no spool file when the client vanishes in the middle of a message', async () => {
    const { client } = await open(gw, '127.0.0.1');
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    await client.writeDrained(Buffer.from(`Subject: cut\r\n\r\n${'x'.repeat(100)}\r\n`.repeat(2000)));
    client.destroy();
    const rejected = await gw.waitForEvent('MESSAGE_REJECTED');
    expect(rejected.reason).toBe('SG_CLIENT_GONE');
    expect(await queuedCount(setup)).toBe(0);
    expect(await spoolFiles(setup)).toEqual([]);
    // and the daemon goes on
    const again = await open(gw, '127.0.0.1');
    await again.client.command('EHLO client.test');
    expect((await transaction(again.client, 'Subject: fine\r\n\r\nok\r\n')).code).toBe(250);
    await again.client.quit();
  });
});

describe('total connections', () => {
  let setup: TestSetup;
  let gw: RunningGateway;

  beforeAll(async () => {
    setup = await setupGateway({ connectors: CONNECTORS, smtp: { maxConnections: 2 } });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await setup?.cleanup();
  });

  it('refuses a session over maxConnections from any address with 421', async () => {
    const a = await open(gw, '127.0.0.21');
    const b = await open(gw, '127.0.0.22');
    expect(a.greeting.code).toBe(220);
    expect(b.greeting.code).toBe(220);
    const c = await open(gw, '127.0.0.23');
    expect(c.greeting.text).toBe('421 4.7.0 Too many connections, try again later');
    c.client.destroy();
    await a.client.quit();
    await b.client.quit();
  });
});
