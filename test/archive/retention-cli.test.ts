/**
 * `sealgate archive hold|release|purge` against a real gateway's archive:
 * three messages archived by the daemon, a clean stop, then their retention
 * moved into the past with the sqlite3 shell (no clock to wait for). A hold
 * by id keeps its entry (and whatever object holds it) through the purge;
 * a dry run changes nothing; the purge shreds the others, deletes their
 * objects and records it; `archive verify` stays OK; a release per search
 * then a purge leave no object at all. Every act is in `audit tail` with
 * the operating-system user. A purge beside a running gateway works, and
 * the gateway goes on archiving.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, runCli, setupGateway, startGateway, type TestSetup } from '../helpers/gateway.js';
import { requireTool } from '../helpers/peers.js';
import { dataPayload, RawSmtp } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

const run = promisify(execFile);
let setup: TestSetup;
let db: string;
let ids: string[] = [];
const bodies = new Map<string, string>();

const cli = (...args: string[]) => runCli(['-c', setup.configPath, 'archive', ...args]);

async function sql(statement: string): Promise<string> {
  return (await run('sqlite3', [db, statement])).stdout.trim();
}

async function send(port: number, from: string, subject: string): Promise<void> {
  const { client } = await RawSmtp.connect(port);
  await client.command('EHLO client.test');
  await client.command(`MAIL FROM:<${from}>`);
  await client.command('RCPT TO:<bob@example.net>');
  await client.data(dataPayload(`Subject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\nbody of ${subject}\r\n`));
  await client.quit();
}

/** Every file under the object store's archive directory. */
async function archiveObjects(): Promise<string[]> {
  const root = join(setup.dataDir, 'store', 'objects', 'archive');
  const out: string[] = [];
  for (const e of await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out.sort();
}

beforeAll(async () => {
  setup = await setupGateway({ connectors: [{ name: 'loopback', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }] });
  const gw = await startGateway(setup.configPath);
  await send(gw.port, 'alice@example.com', 'first one');
  await send(gw.port, 'alice@example.com', 'second one');
  await send(gw.port, 'carl@example.com', 'third one');
  const deadline = Date.now() + 60_000;
  while (gw.logLines().filter((l) => l.event === 'MESSAGE_ARCHIVED').length < 3) {
    if (Date.now() > deadline) throw new Error(`messages not archived; stdout: ${gw.stdout.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await gw.stop()).toBe(0);
  db = join(setup.dataDir, 'sealgate.db');
}, 120_000);

afterAll(async () => {
  await setup?.cleanup();
});

describe('archive hold, purge, release', () => {
  it('holds, dry-runs, purges, verifies, releases per search and purges the rest', async (ctx) => {
    requireTool(ctx, 'sqlite3');
    ids = (await sql('SELECT id FROM archive_messages ORDER BY received_at, id')).split('\n');
    expect(ids).toHaveLength(3);
    const [first, second, third] = ids as [string, string, string];
    for (const id of ids) {
      const r = await cli('show', id, '--content', '--reason', 'test: keep the bytes');
      expect(r.code).toBe(0);
      bodies.set(id, r.stdout);
    }
    // all three are past retention now
    await sql(`UPDATE archive_messages SET retain_until = received_at - 1`);
    // an edit outside the gateway: the hold and the purge below record each row anew, and verify checks those versions

    const held = await cli('hold', second.toLowerCase(), '--reason', 'litigation hold 2026-17');
    expect(held.stderr).toBe('');
    expect(held).toMatchObject({ code: 0, stdout: 'held 1 entry (0 already held)\n' });

    const objectsBefore = await archiveObjects();
    const headBefore = await sql('SELECT max(seq) FROM audit_log');
    const dry = await cli('purge', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as Record<string, unknown>;
    expect(plan).toMatchObject({ dryRun: true, entries: 2, heldExpired: 1 });
    expect(await archiveObjects()).toEqual(objectsBefore);
    expect(await sql('SELECT max(seq) FROM audit_log')).toBe(headBefore);
    expect(await sql('SELECT count(*) FROM archive_messages WHERE purged_at IS NOT NULL')).toBe('0');

    const purge = await cli('purge', '--json');
    expect(purge.stderr).toBe('');
    expect(purge.code).toBe(0);
    expect(JSON.parse(purge.stdout)).toEqual({ ...plan, dryRun: false, before: (JSON.parse(purge.stdout) as { before: number }).before });
    expect(await sql(`SELECT id, wrapped_key IS NULL, subject_sealed IS NULL, purged_at IS NOT NULL, hold FROM archive_messages ORDER BY received_at, id`)).toBe(
      [`${first}|1|1|1|0`, `${second}|0|0|0|1`, `${third}|1|1|1|0`].join('\n'),
    );
    // the held entry's object stays (it may be a pack shared with the purged ones); every other object is gone
    const heldObject = `${join(setup.dataDir, 'store', 'objects', await sql(`SELECT object_key FROM archive_messages WHERE id = '${second}'`))}@`; // the local store's file suffix
    expect(await archiveObjects()).toEqual(objectsBefore.filter((o) => o === heldObject));
    const gone = await cli('show', first, '--content', '--reason', 'after purge');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/was purged: its key was destroyed/);
    const kept = await cli('show', second, '--content', '--reason', 'still held');
    expect(kept).toMatchObject({ code: 0, stdout: bodies.get(second) });
    expect((await cli('show', first, '--json')).stdout).toMatch(/"purgedAt":"\d{4}-/);

    const verified = await cli('verify');
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^archive OK: /);

    // a purged entry cannot be held; a release per search needs a reason
    expect(await cli('hold', first)).toMatchObject({ code: 1, stderr: expect.stringMatching(/was purged/) as unknown });
    expect(await cli('release', '--from', 'alice@example.com')).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs --reason/) as unknown });
    const released = await cli('release', '--from', 'alice@example.com', '--reason', 'matter closed', '--json');
    expect(released.stderr).toBe('');
    expect(JSON.parse(released.stdout)).toEqual({ matched: 2, changed: 1, unchanged: 1, purged: 0 });
    const rest = await cli('purge');
    expect(rest).toMatchObject({ code: 0, stdout: expect.stringMatching(/^purged 1 entry retained until before .*\ndeleted 1 object; 0 packs stay/) as unknown });
    expect(await archiveObjects()).toEqual([]);
    expect(await cli('purge')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^nothing purged/) as unknown });
    expect((await cli('verify')).code).toBe(0);

    const me = userInfo().username;
    const events = (await auditEvents(setup.configPath, 400)).filter((e) => ['archive:held', 'archive:released', 'archive:purged'].includes(e.type))
      .map(({ type, data }) => ({ type, data }));
    expect(events).toEqual([
      { type: 'archive:held', data: { queueIds: [second], count: 1, operator: me, via: 'cli', reason: 'litigation hold 2026-17' } },
      { type: 'archive:purged', data: { queueIds: [first, third], count: 2, objects: expect.any(Number) as unknown, operator: me, via: 'cli' } },
      { type: 'archive:released', data: { queueIds: [second], count: 1, operator: me, via: 'cli', reason: 'matter closed', filters: ['from'] } },
      { type: 'archive:purged', data: { queueIds: [second], count: 1, objects: 1, operator: me, via: 'cli' } },
    ]);
  }, 120_000);

  it('purges beside a running gateway, which goes on archiving; verify OK after its stop', async (ctx) => {
    requireTool(ctx, 'sqlite3');
    const gw = await startGateway(setup.configPath);
    try {
      await send(gw.port, 'alice@example.com', 'fourth one');
      await until('the fourth message archived', async () => (await sql('SELECT count(*) FROM archive_messages')) === '4');
      const fourth = await sql('SELECT id FROM archive_messages WHERE purged_at IS NULL');
      await sql(`PRAGMA busy_timeout = 10000; UPDATE archive_messages SET retain_until = received_at - 1 WHERE id = '${fourth}'`);
      const purge = await cli('purge', '--json');
      expect(purge.stderr).toBe('');
      expect(JSON.parse(purge.stdout)).toMatchObject({ entries: 1, objectsDeleted: 1 });
      await send(gw.port, 'alice@example.com', 'fifth one');
      await until('the fifth message archived', async () => (await sql('SELECT count(*) FROM archive_messages WHERE purged_at IS NULL')) === '1');
    } finally {
      expect(await gw.stop()).toBe(0);
    }
    const verified = await cli('verify');
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
  }, 120_000);

  it('refuses bad input with one line and exit 2, an unknown entry with exit 1, changing nothing', async (ctx) => {
    requireTool(ctx, 'sqlite3');
    const head = await sql('SELECT max(seq) FROM audit_log');
    for (const [args, code, message] of [
      [['hold'], 2, /name the entries/],
      [['hold', 'not-an-id'], 2, /queue id/],
      [['hold', '01PVRGE0000000000001', '--from', 'alice@example.com', '--reason', 'x'], 2, /not both/],
      [['hold', '--from', 'alice@example.com'], 2, /needs --reason/],
      [['hold', '--from', 'alice@example.com', '--reason', 'x', '--max', '0'], 2, /--max must be/],
      [['hold', '--since', 'yesterday', '--reason', 'x'], 2, /--since/],
      [['hold', '01PVRGE0000000000001'], 1, /no archive entry 01PVRGE0000000000001: nothing changed/],
      [['release', '01PVRGE0000000000001', '--reason', 'a\u0007b'], 2, /one line/],
    ] as const) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect(await sql('SELECT max(seq) FROM audit_log')).toBe(head);
  });
});
