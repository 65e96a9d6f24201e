/**
 * The orphan sweep on a real gateway's data directory: a message archived
 * by the daemon (its object referenced), then, with the gateway stopped,
 * objects planted in the store as a crash between the object's put and the
 * entry's commit leaves them — an old pack no entry names, a fresh one. The next start
 * deletes the old orphan only (the referenced object is aged too: it stays
 * because it is referenced), and records it; `archive purge --dry-run`
 * counts another and `archive purge` deletes it, recorded with the
 * operating-system user. On a real SQLite database and local store: an
 * object of a message still to be archived stays, one whose entries are all
 * purged goes, a dry run deletes nothing. The pure key helpers table-driven.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, utimes, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { insertArchiveEntry } from '../../src/archive/entries.js';
import { pastGrace, singleEntryId, sweepArchiveOrphans } from '../../src/archive/orphans.js';
import { tailAudit } from '../../src/audit/log.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { auditEvents, runCli, setupGateway, startGateway, type TestSetup } from '../helpers/gateway.js';
import { requireTool } from '../helpers/peers.js';
import { dataPayload, RawSmtp } from '../helpers/smtp-client.js';

const run = promisify(execFile);
const HOUR = 3_600_000;

describe('orphan sweep helpers', () => {
  it.each<[string, string | undefined]>([
    ['archive/2026/12/01JEXAMPXE0000000000', '01JEXAMPXE0000000000'],
    ['archive/2026/12/01JEXAMPXE0000000000-a1b2c3d4e5f6', undefined],
    ['archive/2026/12/not-a-queue-id', undefined],
    ['portal/ab/cd', undefined],
  ])('singleEntryId(%j) = %j', (key, id) => {
    expect(singleEntryId(key)).toBe(id);
  });

  it.each<[number, boolean]>([
    [0, false],
    [HOUR - 1, false],
    [HOUR, true],
    [10 * HOUR, true],
    [-5_000, false],
  ])('an object %d ms old is past the grace period: %s', (age, past) => {
    expect(pastGrace({ key: 'k', bytes: 1, modifiedAt: 1_000_000_000 - age }, 1_000_000_000, HOUR)).toBe(past);
  });
});

let setup: TestSetup;
let db: string;

const objectsRoot = (): string => join(setup.dataDir, 'store', 'objects');
/** The file of an object key in the local store (local-store.ts: segments as directories, the last + "@"). */
const fileOf = (key: string): string => `${join(objectsRoot(), ...key.split('/'))}@`;
const exists = (path: string): Promise<boolean> => access(path).then(
  () => true,
  () => false,
);

async function plant(key: string, ageMs: number): Promise<string> {
  const path = fileOf(key);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, Buffer.alloc(100, 7), { mode: 0o600 });
  const t = new Date(Date.now() - ageMs);
  await utimes(path, t, t);
  return path;
}

async function sql(statement: string): Promise<string> {
  return (await run('sqlite3', [db, statement])).stdout.trim();
}

beforeAll(async () => {
  setup = await setupGateway({ connectors: [{ name: 'loopback', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }] });
  const gw = await startGateway(setup.configPath);
  const { client } = await RawSmtp.connect(gw.port);
  await client.command('EHLO client.test');
  await client.command('MAIL FROM:<alice@example.com>');
  await client.command('RCPT TO:<bob@example.net>');
  await client.data(dataPayload('Subject: kept\r\nMessage-ID: <kept@example.com>\r\n\r\nbody\r\n'));
  await client.quit();
  const deadline = Date.now() + 60_000;
  while (gw.logLines().filter((l) => l.event === 'MESSAGE_ARCHIVED').length < 1) {
    if (Date.now() > deadline) throw new Error(`message not archived; stdout: ${gw.stdout.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await gw.stop()).toBe(0);
  db = join(setup.dataDir, 'sealgate.db');
}, 120_000);

afterAll(async () => {
  await setup?.cleanup();
});

describe('orphaned archive objects', () => {
  it('the start deletes an old unreferenced pack; a referenced and a fresh one stay; purge sweeps too', async (ctx) => {
    requireTool(ctx, 'sqlite3');
    const referencedKey = await sql('SELECT object_key FROM archive_messages');
    expect(referencedKey).toMatch(/^archive\/\d{4}\/\d{2}\//);
    const referenced = fileOf(referencedKey);
    const month = referencedKey.split('/').slice(0, 3).join('/');
    // the referenced object is as old as the orphan: it stays because an entry names it
    const t = new Date(Date.now() - 3 * HOUR);
    await utimes(referenced, t, t);
    const orphan = await plant(`${month}/01JORPHAN00000000000-a1b2c3d4e5f6`, 2 * HOUR);
    const fresh = await plant(`${month}/01JFRESH000000000000-a1b2c3d4e5f6`, 60_000);
    const gw = await startGateway(setup.configPath);
    const deadline = Date.now() + 30_000;
    while (!gw.logLines().some((l) => l.event === 'ARCHIVE_ORPHANS_REMOVED')) {
      if (Date.now() > deadline) throw new Error(`no sweep; stdout: ${gw.stdout.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(gw.logLines().find((l) => l.event === 'ARCHIVE_ORPHANS_REMOVED')).toMatchObject({ objects: 1, bytes: 100 });
    expect(await gw.stop()).toBe(0);
    expect(await exists(orphan)).toBe(false);
    expect(await exists(referenced)).toBe(true);
    expect(await exists(fresh)).toBe(true);
    const swept = (await auditEvents(setup.configPath, 500)).filter((e) => e.type === 'archive:orphans_removed');
    expect(swept.map((e) => e.data)).toEqual([{ objects: 1, bytes: 100, via: 'daemon' }]);
    // the entry's content is still readable
    const id = await sql('SELECT id FROM archive_messages');
    const shown = await runCli(['-c', setup.configPath, 'archive', 'show', id, '--content', '--reason', 'test: after the sweep']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('Subject: kept');

    // archive purge sweeps as well: the dry run counts, the purge deletes and records who
    const another = await plant(`${month}/01JANOTHER0000000000-a1b2c3d4e5f6`, 2 * HOUR);
    const dry = await runCli(['-c', setup.configPath, 'archive', 'purge', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, entries: 0, orphans: { removed: 1, bytes: 100 } });
    expect(await exists(another)).toBe(true);
    const text = await runCli(['-c', setup.configPath, 'archive', 'purge', '--dry-run']);
    expect(text.stdout).toContain('would delete 1 orphaned object (100 bytes) that no entry needs');
    const purge = await runCli(['-c', setup.configPath, 'archive', 'purge', '--json']);
    expect(purge.code, purge.stderr).toBe(0);
    expect(JSON.parse(purge.stdout)).toMatchObject({ dryRun: false, orphans: { removed: 1, bytes: 100 } });
    expect(await exists(another)).toBe(false);
    expect(await exists(referenced)).toBe(true);
    const after = (await auditEvents(setup.configPath, 500)).filter((e) => e.type === 'archive:orphans_removed');
    expect(after.at(-1)?.data).toEqual({ objects: 1, bytes: 100, via: 'cli', operator: userInfo().username });
    // and the archive still verifies
    const verify = await runCli(['-c', setup.configPath, 'archive', 'verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 180_000);
});

describe('sweepArchiveOrphans on a real database and store', () => {
  it('keeps an object whose message is still to be archived, deletes one whose entries are all purged; a dry run deletes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealgate-orphans-'));
    const sdb = await Database.open(join(dir, 'sealgate.db'));
    try {
      await migrate(sdb);
      const store = new LocalObjectStore(join(dir, 'store'));
      await store.init();
      const NOW = Date.now();
      const keys = {
        waiting: 'archive/2026/12/01JWA1T1NG0000000000',
        gone: 'archive/2026/12/01JG0NE000000000000X',
        purged: 'archive/2026/12/01JPVRGED00000000000-a1b2c3d4e5f6',
        live: 'archive/2026/12/01JXVE00000000000000-a1b2c3d4e5f6',
      };
      for (const key of Object.values(keys)) {
        await store.put(key, Readable.from([Buffer.alloc(10)]));
        const t = new Date(NOW - 2 * HOUR);
        await utimes(`${join(dir, 'store', 'objects', ...key.split('/'))}@`, t, t);
      }
      await sdb.run(
        "INSERT INTO messages (id, created_at, sender, size, spool_key_id, listener, connector, client_ip, helo, body_type, archived) VALUES ('01JWA1T1NG0000000000', 0, 'a@example.com', 1, 'k', 'l', 'c', '127.0.0.1', 'h', '7BIT', 0)",
      );
      await sdb.transaction(async (tx) => {
        for (const [id, key, purged] of [
          ['01JPVRGED00000000000', keys.purged, true],
          ['01JXVE00000000000000', keys.live, false],
        ] as const) {
          await insertArchiveEntry(
            tx,
            {
              id, origin: 'smtp', message_id: null, received_at: NOW - 3 * HOUR, archived_at: NOW - 3 * HOUR, sender: 'a@example.com', sender_domain: 'example.com', connector: 'c', client_ip: '127.0.0.1',
              tls_version: null, auth_user: null, size: 10, content_sha256: '0'.repeat(64), object_key: key, object_offset: 0, object_length: 10, wrapped_key: purged ? null : Buffer.alloc(8),
              key_id: 'k', subject_sealed: null, verdict: '{}', retain_until: NOW, hold: 0, purged_at: purged ? NOW - HOUR : null,
            },
            [],
            [],
            NOW - 3 * HOUR,
          );
        }
      });
      const dry = await sweepArchiveOrphans(sdb, store, { now: NOW, dryRun: true, via: 'cli', operator: 'ann' });
      expect(dry).toEqual({ objects: 4, removed: 2, bytes: 20, young: 0 });
      expect(await collectKeys(store)).toEqual(Object.values(keys).sort());
      expect((await tailAudit(sdb, 1000)).filter((e) => e.type === 'archive:orphans_removed')).toEqual([]);

      const real = await sweepArchiveOrphans(sdb, store, { now: NOW, via: 'cli', operator: 'ann' });
      expect(real).toEqual(dry);
      expect(await collectKeys(store)).toEqual([keys.live, keys.waiting].sort());
      expect((await tailAudit(sdb, 1000)).filter((e) => e.type === 'archive:orphans_removed').map((e) => e.data)).toEqual([{ objects: 2, bytes: 20, via: 'cli', operator: 'ann' }]);
      // nothing left to do: no second event
      expect(await sweepArchiveOrphans(sdb, store, { now: NOW, via: 'cli' })).toEqual({ objects: 2, removed: 0, bytes: 0, young: 0 });
      expect((await tailAudit(sdb, 1000)).filter((e) => e.type === 'archive:orphans_removed')).toHaveLength(1);
    } finally {
      await sdb.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function collectKeys(store: LocalObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const k of store.list('archive/')) out.push(k);
  return out.sort();
}
