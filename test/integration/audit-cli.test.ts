/**
 * The audit trail of a real session, and tamper evidence: editing one row of
 * the audit table with the sqlite3 shell makes `sealgate audit verify` fail
 * and name that event.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPayload, RawSmtp } from '../helpers/smtp-client.js';
import { runCli, setupGateway, startGateway, type TestSetup } from '../helpers/gateway.js';
import { requireTool } from '../helpers/peers.js';

const run = promisify(execFile);
let setup: TestSetup;

beforeAll(async () => {
  setup = await setupGateway({ connectors: [{ name: 'loopback', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }] });
  const gw = await startGateway(setup.configPath);
  const { client } = await RawSmtp.connect(gw.port);
  await client.command('EHLO client.test');
  await client.command('MAIL FROM:<alice@example.com>');
  await client.command('RCPT TO:<bob@example.net>');
  await client.data(dataPayload('Subject: Secret diagnosis\r\n\r\nbody text\r\n'));
  await client.quit();
  (await RawSmtp.connect(gw.port, { localAddress: '127.0.0.9' })).client.destroy();
  await new Promise((r) => setTimeout(r, 300));
  await gw.stop();
});

afterAll(async () => {
  await setup?.cleanup();
});

describe('audit log', () => {
  it('records the session without content, and verifies', async () => {
    const tail = await runCli(['-c', setup.configPath, 'audit', 'tail', '-n', '50', '--json']);
    expect(tail.code).toBe(0);
    const events = tail.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string; data: Record<string, unknown> });
    const types = events.map((e) => e.type);
    for (const t of ['daemon:started', 'ingress:connection_accepted', 'ingress:message_accepted', 'ingress:connection_refused', 'daemon:stopped']) expect(types).toContain(t);
    const accepted = events.find((e) => e.type === 'ingress:message_accepted');
    expect(accepted?.data).toMatchObject({ sender: 'alice@example.com', recipients: ['bob@example.net'], connector: 'loopback' });
    expect(tail.stdout).not.toContain('Secret diagnosis');
    expect(tail.stdout).not.toContain('body text');
    // which configuration was in force: the SHA-256 of the config file as sha256sum prints it
    const started = events.find((e) => e.type === 'daemon:started');
    expect(started?.data).toMatchObject({ configSource: 'file', configSha256: createHash('sha256').update(await readFile(setup.configPath)).digest('hex') });
    const refused = events.find((e) => e.type === 'ingress:connection_refused');
    expect(refused?.data).toMatchObject({ remoteIp: '127.0.0.9', reason: 'SG_CLIENT_NOT_ALLOWED' });

    const verify = await runCli(['-c', setup.configPath, 'audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain OK: \d+ events/);
  });

  it('names the first altered event after one row is edited with the sqlite3 shell', async (ctx) => {
    requireTool(ctx, 'sqlite3');
    const db = join(setup.dataDir, 'sealgate.db');
    await run('sqlite3', [db, `UPDATE audit_log SET data = replace(data, 'alice@example.com', 'mallory@example.com') WHERE type = 'ingress:message_accepted'`]);
    const { stdout } = await run('sqlite3', [db, `SELECT seq FROM audit_log WHERE type = 'ingress:message_accepted'`]);
    const seq = Number(stdout.trim());
    const verify = await runCli(['-c', setup.configPath, 'audit', 'verify']);
    expect(verify.code).toBe(1);
    expect(verify.stderr.trim()).toMatch(new RegExp(`^sealgate: audit chain BROKEN at event #${seq} \\(hash_mismatch\\)`));
  });
});
