/**
 * SMTP smuggling: sequences that some servers take for end-of-data must never
 * split one DATA into two messages, and what is stored has CRLF line endings
 * only, so a lenient downstream server cannot be tricked either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { readSpooled, withDb } from '../helpers/spool-reader.js';

let setup: TestSetup;
let gw: RunningGateway;

beforeAll(async () => {
  setup = await setupGateway({ connectors: [{ name: 'loopback', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }] });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

const smuggled = 'MAIL FROM:<admin@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n';

describe('SMTP smuggling defence', () => {
  it.each([
    ['\\n.\\n', '\n.\n'],
    ['\\n.\\r\\n', '\n.\r\n'],
    ['\\r.\\r', '\r.\r'],
    ['\\r.\\r\\n', '\r.\r\n'],
    ['\\r\\n.\\n', '\r\n.\n'],
  ])('%s inside DATA yields exactly one message with CRLF line endings', async (_name, sequence) => {
    const before = await withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages'))?.n ?? 0);
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO attacker.test');
    await client.command('MAIL FROM:<alice@example.com>');
    await client.command('RCPT TO:<bob@example.net>');
    const go = await client.command('DATA');
    expect(go.code).toBe(354);
    client.write(`Subject: innocent\r\n\r\nhello${sequence}${smuggled}.\r\n`);
    const reply = await client.read();
    expect(reply.text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    // nothing else is pending: the next command gets its own reply
    expect((await client.command('NOOP')).text).toMatch(/^250 /);
    await client.quit();

    const after = await withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages'))?.n ?? 0);
    expect(after - before).toBe(1);
    const stored = (await readSpooled(setup.dataDir, setup.masterKeyFile, queueIdOf(reply)!)).toString('latin1');
    expect(stored).not.toMatch(/[^\r]\n/);
    expect(stored).not.toMatch(/\r[^\n]/);
    // the would-be commands are body text of the one message, now on CRLF lines
    expect(stored).toContain('\r\nMAIL FROM:<admin@example.com>\r\n');
    expect(stored).toMatch(/hello\r\n\.\r\n(\r\n)?MAIL FROM/);
  });

  it('with bareLineEndings: reject, a bare LF gets 550 5.6.0 and nothing is queued', async () => {
    const strict = await setupGateway({ connectors: [{ name: 'loopback', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }], smtp: { bareLineEndings: 'reject' } });
    const g = await startGateway(strict.configPath);
    try {
      const { client } = await RawSmtp.connect(g.port);
      await client.command('EHLO attacker.test');
      await client.command('MAIL FROM:<alice@example.com>');
      await client.command('RCPT TO:<bob@example.net>');
      await client.command('DATA');
      client.write(`Subject: x\r\n\r\nhello\n.\n${smuggled}.\r\n`);
      expect((await client.read()).text).toBe('550 5.6.0 Message contains bare CR or LF line endings');
      await client.quit();
      const n = await withDb(strict.dataDir, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages'))?.n);
      expect(n).toBe(0);
    } finally {
      await g.stop();
      await strict.cleanup();
    }
  });
});
