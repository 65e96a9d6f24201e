/**
 * Invariants 3 and 4: the spool and database files hold no plaintext of the
 * message, and no log line carries its body, subject or the AUTH password.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDb } from '../helpers/spool-reader.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { filePaths } from '../helpers/files.js';

let setup: TestSetup;
let gw: RunningGateway;
const SUBJECT = 'Lab results for Jane Q Patient MRN-5551234';
const BODY = 'SSN 123-45-6789 diagnosis XYZZY-CONFIDENTIAL-BODY-MARKER';
const PASSWORD = 'correct-horse-battery-staple-4711';

beforeAll(async () => {
  setup = await setupGateway({
    listener: { name: 'submission', auth: true },
    connectors: [{ name: 'staff', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], users: ['alice'] }],
    extra: { log: { level: 'trace', pretty: false } },
  });
  const added = await runCli(['-c', setup.configPath, 'users', 'add', 'alice', '--password-stdin'], { input: `${PASSWORD}\n` });
  expect(added.code).toBe(0);
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

describe('no plaintext outside protected stores', () => {
  it('spool, database and logs hold no message content or credentials', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    await client.starttls({ ca: setup.pki.ca.certPem, servername: 'localhost' });
    await client.command('EHLO client.test');
    const wrong = await client.command(`AUTH PLAIN ${Buffer.from(`\0alice\0${PASSWORD}-wrong`).toString('base64')}`);
    expect(wrong.text).toBe('535 5.7.8 Authentication credentials invalid');
    const ok = await client.command(`AUTH PLAIN ${Buffer.from(`\0alice\0${PASSWORD}`).toString('base64')}`);
    expect(ok.code).toBe(235);
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<bob@example.net>')).code).toBe(250);
    const reply = await client.data(dataPayload(`Subject: ${SUBJECT}\r\n\r\n${BODY}\r\n`));
    expect(queueIdOf(reply)).toBeDefined();
    await client.quit();
    await gw.stop();

    const markers = [SUBJECT, BODY, 'XYZZY-CONFIDENTIAL', '123-45-6789', PASSWORD, Buffer.from(`\0alice\0${PASSWORD}`).toString('base64')];
    const files = await filePaths(setup.dataDir);
    // the message was stored (a small one inside the database, queue.inlineMaxBytes), so the scan below reads its ciphertext
    const inline = await withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT count(*) AS n FROM spool_inline'))?.n ?? 0);
    expect(inline + files.filter((f) => f.includes(join('spool', 'msg'))).length).toBeGreaterThan(0);
    expect(files.some((f) => f.endsWith('sealgate.db'))).toBe(true);
    for (const f of files) {
      const bytes = await readFile(f);
      for (const m of markers) {
        expect(bytes.includes(Buffer.from(m, 'utf8')), `${m} in ${f}`).toBe(false);
        expect(bytes.includes(Buffer.from(m, 'utf16le')), `${m} (UTF-16) in ${f}`).toBe(false);
      }
    }
    const logs = gw.stdout + gw.stderr;
    expect(logs).toContain('MESSAGE_ACCEPTED');
    expect(logs).toContain('AUTH_FAILED');
    for (const m of markers) expect(logs.includes(m), `${m} in logs`).toBe(false);
    expect(logs).not.toContain('bob@example.net');
  });
});
