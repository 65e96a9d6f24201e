/**
 * `sealgate archive verify` and `archive key` against a real gateway's
 * database: two messages archived by the daemon, a clean stop, then the
 * untouched archive verifies (exit 0) and each copy of the data directory
 * altered with the sqlite3 shell fails (exit 1) naming the entry.
 */
import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { dataPayload, RawSmtp } from '../helpers/smtp-client.js';
import { runCli, setupGateway, startGateway, type TestSetup } from '../helpers/gateway.js';
import { requireTool } from '../helpers/peers.js';

const run = promisify(execFile);
let setup: TestSetup;
let logFile: string;
let entries: string[] = [];

async function send(port: number, rcpts: string[], subject: string): Promise<void> {
  const { client } = await RawSmtp.connect(port);
  await client.command('EHLO client.test');
  await client.command('MAIL FROM:<alice@example.com>');
  for (const r of rcpts) await client.command(`RCPT TO:<${r}>`);
  await client.data(dataPayload(`Subject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\nbody\r\n`));
  await client.quit();
}

beforeAll(async () => {
  setup = await setupGateway({ connectors: [{ name: 'loopback', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }] });
  const gw = await startGateway(setup.configPath);
  await send(gw.port, ['bob@example.net', 'carol@example.org'], 'first one');
  await send(gw.port, ['dave@example.net', 'erin@example.com'], 'second one');
  const deadline = Date.now() + 60_000;
  while (gw.logLines().filter((l) => l.event === 'MESSAGE_ARCHIVED').length < 2) {
    if (Date.now() > deadline) throw new Error(`messages not archived; stdout: ${gw.stdout.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await gw.stop()).toBe(0);
  logFile = join(setup.dir, 'gateway.log');
  await writeFile(logFile, gw.stdout);
  const { stdout } = await run('sqlite3', [join(setup.dataDir, 'sealgate.db'), 'SELECT id FROM archive_messages ORDER BY id']);
  entries = stdout.trim().split('\n');
});

afterAll(async () => {
  await setup?.cleanup();
});

/** A copy of the data directory and a config that points at it. */
async function copy(name: string): Promise<{ config: string; db: string }> {
  const dataDir = join(setup.dir, `data-${name}`);
  await cp(setup.dataDir, dataDir, { recursive: true });
  const config = parse(await readFile(setup.configPath, 'utf8')) as Record<string, unknown>;
  const path = join(setup.dir, `sealgate-${name}.yaml`);
  await writeFile(path, stringify({ ...config, dataDir }));
  return { config: path, db: join(dataDir, 'sealgate.db') };
}

async function sql(db: string, statement: string): Promise<string> {
  return (await run('sqlite3', [db, statement])).stdout.trim();
}

describe('archive key', () => {
  it('prints the fingerprint, and the public key with --pem', async () => {
    const r = await runCli(['-c', setup.configPath, 'archive', 'key']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ed25519 [0-9a-f]{64} created \d{4}-\d\d-\d\dT/);
    const pem = await runCli(['-c', setup.configPath, 'archive', 'key', '--pem']);
    expect(pem.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
  });
});

describe('archive verify', () => {
  it('an untouched archive verifies, with the logged checkpoints and the known fingerprint too', async (ctx) => {
    requireTool(ctx, 'sqlite3');
    expect(entries).toHaveLength(2);
    const fp = (await runCli(['-c', setup.configPath, 'archive', 'key'])).stdout.split(' ')[1] ?? '';
    const r = await runCli(['-c', setup.configPath, 'archive', 'verify', '--log', logFile, '--fingerprint', fp]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^archive OK: \d+ audit events \(last hash [0-9a-f]{64}\); 2 entries and 4 recipient rows match their \d+ records; \d+ checkpoints signed by key [0-9a-f]{64}, the newest #\d+ \(stop, [^)]+\) covers event #\d+/);
    expect(r.stdout).toMatch(/; [2-9]\d* logged checkpoints match\n$/);
    const json = await runCli(['-c', setup.configPath, 'archive', 'verify', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, messages: 2, recipients: 4, keyFingerprint: fp, newestCheckpoint: { reason: 'stop' } });
    // verifying reads only: the audit chain still verifies and has not grown
    expect((await runCli(['-c', setup.configPath, 'audit', 'verify'])).code).toBe(0);
  });

  const cases: { name: string; tamper: (db: string, id: string) => Promise<void>; expected: (id: string) => RegExp }[] = [
    {
      name: 'one column of a recipient row altered',
      tamper: async (db, id) => void (await sql(db, `UPDATE archive_recipients SET state = 'delivered' WHERE archive_id = '${id}' AND seq = 1`)),
      expected: (id) => new RegExp(`^sealgate: archive BROKEN at entry ${id} recipient #1 \\(hash_mismatch\\)`),
    },
    {
      name: 'a message row altered',
      tamper: async (db, id) => void (await sql(db, `UPDATE archive_messages SET sender = 'mallory@example.com' WHERE id = '${id}'`)),
      expected: (id) => new RegExp(`^sealgate: archive BROKEN at entry ${id} \\(hash_mismatch\\)`),
    },
    {
      name: 'a recipient row deleted',
      tamper: async (db, id) => void (await sql(db, `DELETE FROM archive_recipients WHERE archive_id = '${id}' AND seq = 2`)),
      expected: (id) => new RegExp(`^sealgate: archive BROKEN at audit event #\\d+ \\(row_missing\\): entry ${id} recipient #2, recorded by`),
    },
    {
      name: "two rows' content swapped",
      tamper: async (db, id) =>
        void (await sql(
          db,
          `UPDATE archive_recipients SET evidence = CASE seq WHEN 1 THEN (SELECT evidence FROM archive_recipients WHERE archive_id = '${id}' AND seq = 2) ELSE (SELECT evidence FROM archive_recipients WHERE archive_id = '${id}' AND seq = 1) END,
             address = CASE seq WHEN 1 THEN (SELECT address FROM archive_recipients WHERE archive_id = '${id}' AND seq = 2) ELSE (SELECT address FROM archive_recipients WHERE archive_id = '${id}' AND seq = 1) END
           WHERE archive_id = '${id}'`,
        )),
      expected: (id) => new RegExp(`^sealgate: archive BROKEN at entry ${id} recipient #1 \\(hash_mismatch\\)`),
    },
    {
      name: 'an audit row removed',
      tamper: async (db) => void (await sql(db, `DELETE FROM audit_log WHERE seq = (SELECT min(seq) FROM audit_log WHERE type = 'archive:record')`)),
      expected: () => /^sealgate: archive BROKEN at audit event #\d+ \(gap\)/,
    },
    {
      name: 'the newest entries dropped (the last 5 audit rows and the archive rows they recorded)',
      tamper: async (db) => {
        const cut = Number(await sql(db, 'SELECT max(seq) - 5 FROM audit_log'));
        await sql(db, `DELETE FROM audit_log WHERE seq > ${cut}; DELETE FROM archive_recipients WHERE record_seq > ${cut}; DELETE FROM archive_messages WHERE record_seq > ${cut}`);
      },
      expected: () => /^sealgate: archive BROKEN at checkpoint #\d+ \(truncated\): checkpoint #\d+ signed audit event #\d+ but the chain ends at #\d+/,
    },
    {
      name: 'a forged checkpoint signature',
      tamper: async (db) => void (await sql(db, `UPDATE archive_checkpoints SET signature = '${Buffer.alloc(64, 1).toString('base64')}' WHERE seq = 1`)),
      expected: () => /^sealgate: archive BROKEN at checkpoint #1 \(bad_signature\)/,
    },
  ];

  it.for(cases)('$name: exit 1, the entry named', async ({ name, tamper, expected }, ctx) => {
    requireTool(ctx, 'sqlite3');
    const id = entries[0] ?? '';
    const c = await copy(name.replace(/\W+/g, '-'));
    await tamper(c.db, id);
    const r = await runCli(['-c', c.config, 'archive', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(expected(id));
    expect(r.stderr).not.toContain('@');
  });

  it('usage errors exit 2 with one line; a fingerprint other than the key one exits 1', async () => {
    const noLog = await runCli(['-c', setup.configPath, 'archive', 'verify', '--log', join(setup.dir, 'no-such.log')]);
    expect(noLog.code).toBe(2);
    expect(noLog.stderr).toMatch(/^sealgate: cannot read log file .*no-such\.log \(ENOENT\)\n$/);
    const badFp = await runCli(['-c', setup.configPath, 'archive', 'verify', '--fingerprint', 'abc']);
    expect(badFp.code).toBe(2);
    const otherFp = await runCli(['-c', setup.configPath, 'archive', 'verify', '--fingerprint', 'f'.repeat(64)]);
    expect(otherFp.code).toBe(1);
    expect(otherFp.stderr).toMatch(/^sealgate: archive BROKEN at gateway signing key \(other_key\)/);
  });

  it('a consistent roll-back to the start checkpoint passes inside the database and fails against the logged checkpoints', async (ctx) => {
    requireTool(ctx, 'sqlite3');
    const c = await copy('rollback');
    // everything after the start checkpoint's own event goes, the later checkpoints with it
    const cut = Number(await sql(c.db, 'SELECT audit_seq + 1 FROM archive_checkpoints WHERE seq = 1'));
    await sql(c.db, `DELETE FROM audit_log WHERE seq > ${cut}; DELETE FROM archive_checkpoints WHERE seq > 1; DELETE FROM archive_messages; DELETE FROM archive_recipients`);
    const inside = await runCli(['-c', c.config, 'archive', 'verify']);
    expect(inside.code).toBe(0); // the documented limit: within the hour, the database alone cannot tell
    const anchored = await runCli(['-c', c.config, 'archive', 'verify', '--log', logFile]);
    expect(anchored.code).toBe(1);
    expect(anchored.stderr.trim()).toMatch(/^sealgate: archive BROKEN at logged checkpoint #2 \(anchor_missing\)/);
  });
});
