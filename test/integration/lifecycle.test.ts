/**
 * Process lifecycle: SIGHUP reload (valid applies without dropping sessions,
 * invalid is refused and the old config stays) and SIGTERM drain (421 to new
 * sessions, DATA in flight finishes, clean exit).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { withDb } from '../helpers/spool-reader.js';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

const plain = (domains: string[]) => [{ name: 'loopback', allowIps: ['127.0.0.0/8'], senderDomains: domains, requireTls: false }];

let setup: TestSetup | undefined;
let gw: RunningGateway | undefined;

afterEach(async () => {
  await gw?.stop();
  await setup?.cleanup();
  gw = undefined;
  setup = undefined;
});

describe('SIGHUP reload', () => {
  it('applies a valid config to the next transaction of an open session', async () => {
    setup = await setupGateway({ connectors: plain(['example.com']) });
    gw = await startGateway(setup.configPath);
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<a@new.example>')).text).toBe('550 5.7.1 Sender address rejected: domain not allowed for this connector');

    const mark = gw.logLines().length;
    await setup.writeConfig({ connectors: plain(['example.com', 'new.example']) });
    gw.signal('SIGHUP');
    await gw.waitForEvent('CONFIG_RELOADED', 30_000, mark);

    // same session, not dropped
    expect((await client.command('MAIL FROM:<a@new.example>')).code).toBe(250);
    expect((await client.command('RCPT TO:<b@example.net>')).code).toBe(250);
    expect((await client.data(dataPayload('Subject: after reload\r\n\r\nx\r\n'))).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    await client.quit();
    // the audit log says which config came in, and how
    const reloaded = await withDb(setup.dataDir, (db) => db.get<{ data: string }>("SELECT data FROM audit_log WHERE type = 'config:reloaded' ORDER BY seq DESC LIMIT 1"));
    expect(JSON.parse(reloaded?.data ?? '{}')).toEqual({ source: 'file', sha256: createHash('sha256').update(await readFile(setup.configPath)).digest('hex'), trigger: 'SIGHUP', restartNeeded: [] });
  });

  it('refuses an invalid config, logs why, and keeps the running one', async () => {
    setup = await setupGateway({ connectors: plain(['example.com']) });
    gw = await startGateway(setup.configPath);
    const mark = gw.logLines().length;
    await writeFile(setup.configPath, 'smtp:\n  listeners: []\nconnectors: []\n');
    gw.signal('SIGHUP');
    const refused = await gw.waitForEvent('CONFIG_RELOAD_REFUSED', 30_000, mark);
    expect(JSON.stringify(refused)).toContain('smtp.listeners');

    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<a@example.com>')).code).toBe(250);
    await client.quit();
  });
});

describe('SIGTERM', () => {
  it('lets DATA in flight finish, answers 421 to new sessions, exits 0', async () => {
    setup = await setupGateway({ connectors: plain(['example.com']), smtp: { shutdownTimeoutMs: 20_000 } });
    gw = await startGateway(setup.configPath);
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<a@example.com>');
    await client.command('RCPT TO:<b@example.net>');
    expect((await client.command('DATA')).code).toBe(354);
    client.write('Subject: in flight\r\n\r\nfirst half\r\n');

    const mark = gw.logLines().length;
    gw.signal('SIGTERM');
    await gw.waitForEvent('DAEMON_STOPPING', 30_000, mark);

    const late = await RawSmtp.connect(gw.port);
    expect(late.greeting.text).toBe('421 4.3.2 Service shutting down, try again later');
    late.client.destroy();

    client.write('second half\r\n.\r\n');
    const reply = await client.read();
    expect(reply.text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(await gw.wait()).toBe(0);
    await withDb(setup.dataDir, async (db) => {
      expect(await db.get('SELECT id FROM messages WHERE id = ?', [queueIdOf(reply)!])).toBeDefined();
    });
    await gw.waitForEvent('DAEMON_STOPPED', 1000, mark);
  });
});
