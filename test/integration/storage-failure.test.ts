/**
 * Storage trouble answers 4xx and leaves nothing half-written: a spool file
 * system below smtp.minFreeBytes refuses at MAIL FROM (452 4.3.1), a real
 * ENOSPC during DATA (a small tmpfs as the data directory) answers 452 4.3.1
 * after the whole transfer, and a database that cannot take the queue rows
 * answers 451 4.3.0 with the spool file removed. Each time the session, and
 * the daemon, go on.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { withDb } from '../helpers/spool-reader.js';

const run = promisify(execFile);
const CONNECTOR = { name: 'loopback', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false };
const SMALL = 'From: alice@example.com\r\nTo: bob@example.net\r\nSubject: small\r\n\r\nhello\r\n';

let setup: TestSetup | undefined;
let gw: RunningGateway | undefined;
let mounted: string | undefined;

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
  if (mounted) await run('umount', [mounted]).catch(() => undefined);
  mounted = undefined;
  await setup?.cleanup();
  setup = undefined;
});

async function session(port: number): Promise<RawSmtp> {
  const { client } = await RawSmtp.connect(port);
  expect((await client.command('EHLO client.test')).code).toBe(250);
  return client;
}

/** Spooled contents: files (spool/msg and spool/tmp) and small messages' database rows (queue.inlineMaxBytes). */
async function spoolFiles(dataDir: string): Promise<number> {
  const msgDir = join(dataDir, 'spool', 'msg');
  let n = 0;
  for (const shard of await readdir(msgDir)) n += (await readdir(join(msgDir, shard))).length;
  const inline = await withDb(dataDir, async (db) => (await db.get<{ n: number }>('SELECT count(*) AS n FROM spool_inline'))?.n ?? -1);
  return n + inline + (await readdir(join(dataDir, 'spool', 'tmp'))).length;
}

async function queuedCount(dataDir: string): Promise<number> {
  return withDb(dataDir, async (db) => (await db.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n ?? -1);
}

describe('storage failures', () => {
  it('refuses MAIL FROM with 452 4.3.1 while the spool is below minFreeBytes, and accepts after a reload', async () => {
    setup = await setupGateway({ connectors: [CONNECTOR], smtp: { minFreeBytes: 2 ** 50 } });
    gw = await startGateway(setup.configPath);
    const c = await session(gw.port);
    expect((await c.command('MAIL FROM:<alice@example.com>')).text).toBe('452 4.3.1 Insufficient system storage');
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(503);
    expect(gw.logLines().some((l) => l.event === 'SPOOL_LOW_ON_SPACE')).toBe(true);

    const from = gw.logLines().length;
    await setup.writeConfig({ connectors: [CONNECTOR], smtp: { minFreeBytes: 1024 * 1024 } });
    gw.signal('SIGHUP');
    await gw.waitForEvent('CONFIG_RELOADED', 30_000, from);
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    expect((await c.data(dataPayload(SMALL))).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    await c.quit();
  });

  it('answers 452 4.3.1 when the disk fills during DATA, keeps no partial file, and takes the next message', async (ctx) => {
    setup = await setupGateway({ connectors: [CONNECTOR], smtp: { minFreeBytes: 0, maxMessageBytes: 64 * 1024 * 1024 } });
    const dataDir = setup.dataDir;
    await mkdir(dataDir, { recursive: true });
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=6m,mode=0700', 'tmpfs', dataDir]);
      mounted = dataDir;
    } catch (err) {
      // needs root (CI runs as root); a developer machine may not allow it
      ctx.skip(`cannot mount a tmpfs for the data directory: ${(err as Error).message.split('\n')[0] ?? ''}`);
      return;
    }
    gw = await startGateway(setup.configPath);
    const c = await session(gw.port);
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    const line = `${'x'.repeat(998)}\r\n`;
    const big = `From: alice@example.com\r\nTo: bob@example.net\r\nSubject: big\r\n\r\n${line.repeat(10 * 1024)}`;
    expect((await c.data(dataPayload(big))).text).toBe('452 4.3.1 Insufficient system storage');
    expect(await spoolFiles(dataDir)).toBe(0);
    expect(await queuedCount(dataDir)).toBe(0);

    // the same session goes on, and the freed space takes a normal message
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    const reply = await c.data(dataPayload(SMALL));
    expect(reply.text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    await c.quit();
    expect(await queuedCount(dataDir)).toBe(1);
    expect(await spoolFiles(dataDir)).toBe(1);
    const rejected = gw.logLines().find((l) => l.event === 'MESSAGE_REJECTED');
    expect(rejected?.reason).toBe('SG_STORAGE_FULL');
  });

  it('answers 451 4.3.0 when the queue rows cannot be written, and keeps no spooled content (inline or file)', async () => {
    setup = await setupGateway({ connectors: [CONNECTOR] });
    gw = await startGateway(setup.configPath);
    const dataDir = setup.dataDir;
    const c = await session(gw.port);

    // another connection breaks the schema under the running daemon (legacy_alter_table: the rename leaves the
    // references of the queue_message_insert trigger, migration 35, pointing at the table now missing, as a broken
    // schema would; without it SQLite rewrites the trigger to follow the rename)
    await withDb(dataDir, async (db) => {
      await db.exec('PRAGMA legacy_alter_table = ON');
      await db.run('ALTER TABLE recipients RENAME TO recipients_away');
    });
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    expect((await c.data(dataPayload(SMALL))).text).toBe('451 4.3.0 Local error in processing');
    expect(await spoolFiles(dataDir)).toBe(0);
    expect(await queuedCount(dataDir)).toBe(0);
    // a message above queue.inlineMaxBytes is a spool file, committed before the rows: removed again
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    const large = `From: alice@example.com\r\nTo: bob@example.net\r\nSubject: large\r\n\r\n${`${'y'.repeat(998)}\r\n`.repeat(200)}`;
    expect((await c.data(dataPayload(large))).text).toBe('451 4.3.0 Local error in processing');
    expect(await spoolFiles(dataDir)).toBe(0);
    expect(await queuedCount(dataDir)).toBe(0);

    // repaired: the next transaction of the same session is queued (the daemon's connection reloads the schema it saw changed)
    await withDb(dataDir, async (db) => {
      await db.exec('PRAGMA legacy_alter_table = ON');
      await db.run('ALTER TABLE recipients_away RENAME TO recipients');
    });
    expect((await c.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    const reply = await c.data(dataPayload(SMALL));
    expect(queueIdOf(reply)).toBeDefined();
    await c.quit();
    expect(await queuedCount(dataDir)).toBe(1);
    expect(await spoolFiles(dataDir)).toBe(1);
  });
});
