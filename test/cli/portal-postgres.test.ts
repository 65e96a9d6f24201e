/**
 * `sealgate portal` (the built CLI) with store.kind: postgres: list, status,
 * revoke, passkeys and purge read and change the shared PostgreSQL (deposits
 * made there by a "node": the stores in this process), with the object store
 * both share; a database whose schema is behind is refused with the command
 * that fixes it. The database password never appears in any output.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/log.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { migratePostgres } from '../../src/db/schema-postgres.js';
import { openObjectStore, type OpenedObjectStore } from '../../src/objects/open.js';
import { PasskeyStore } from '../../src/portal/passkey-store.js';
import { PortalStore } from '../../src/portal/portal-store.js';
import { openKeyring } from '../../src/runtime/stores.js';
import { cliWithoutDbPassword, postgresStoreYaml, writeCliConfig, type CliOut } from '../helpers/postgres-cli.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const QUEUE_ID = 'PORTALPGQUEUE0000001';
const DAY = 86_400_000;

let server: TestPostgres;
let dir: string;
let pwFile: string;
let db: PostgresDatabase;
let objects: OpenedObjectStore;
let configPath: string;
let config: Config;

/** The CLI without a SEALGATE_DB_PASSWORD from the test's own environment. */
const cli = (args: string[]): Promise<CliOut> => cliWithoutDbPassword(['-c', configPath, ...args]);

const writeConfig = (url: string): Promise<string> =>
  writeCliConfig(join(dir, `sealgate-${randomBytes(4).toString('hex')}.yaml`), { dataDir: join(dir, 'data'), masterKeyFile: join(dir, 'master.key'), store: postgresStoreYaml(url, pwFile) });

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'sealgate-portal-pg-'));
  pwFile = join(dir, 'db-password');
  await writeFile(pwFile, `${server.password}\n`, { mode: 0o600 });
  configPath = await writeConfig(server.url);
  config = loadConfig(configPath).config;
  db = await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 4 });
  await migratePostgres(db);
  objects = await openObjectStore(config);
  await objects.init();
});

afterAll(async () => {
  await db?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sealgate portal on PostgreSQL', () => {
  it('lists, shows, revokes and purges what a node deposited in the shared database', async () => {
    const keyring = await openKeyring(config, true);
    const portal = new PortalStore({ db, objects, keyring });
    const now = Date.now();
    const deposit = await portal.deposit({
      queueId: QUEUE_ID,
      source: Readable.from([Buffer.from('Subject: results\r\n\r\nconfidential\r\n')]),
      recipients: [{ address: 'pat@gmail.example', bcc: false }],
      expiresAt: now + DAY,
      now,
    });
    const expired = await portal.deposit({ queueId: 'PORTALPGQUEUE0000002', source: Readable.from([Buffer.from('x')]), recipients: [{ address: 'old@x.example', bcc: false }], expiresAt: now - DAY + 1, now: now - DAY });

    const list = await cli(['portal', 'list', '--json']);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as { depositId: string; state: string }[];
    expect(listed.map((m) => [m.depositId, m.state]).sort()).toEqual([[deposit.depositId, 'active'], [expired.depositId, 'expired']].sort());

    const status = await cli(['portal', 'status', QUEUE_ID, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ deposits: [{ depositId: deposit.depositId }] });

    const revoke = await cli(['portal', 'revoke', QUEUE_ID]);
    expect(revoke.code).toBe(0);
    expect(await db.get('SELECT revoked_at IS NOT NULL AS revoked, shredded_at IS NOT NULL AS shredded, wrapped_key FROM portal_messages WHERE deposit_id = ?', [deposit.depositId])).toEqual({ revoked: true, shredded: true, wrapped_key: null });

    const purge = await cli(['portal', 'purge', '--json']);
    expect(purge.code).toBe(0);
    expect(JSON.parse(purge.stdout)).toMatchObject({ dryRun: false, shredded: [{ depositId: expired.depositId, reason: 'expired' }], failed: [] });

    const types = (await db.all<{ type: string }>("SELECT type FROM audit_log WHERE type LIKE 'portal:%' ORDER BY seq")).map((r) => r.type);
    expect(types).toEqual(['portal:revoked', 'portal:shredded', 'portal:shredded']);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
    for (const out of [list, status, revoke, purge]) expect(out.stdout + out.stderr).not.toContain(server.password);
  });

  it('lists and removes a recipient\'s passkeys', async () => {
    const store = new PasskeyStore(db);
    const credentialId = randomBytes(24).toString('base64url');
    await store.add({ credentialId, recipient: 'pk@x.example', publicKey: new Uint8Array(randomBytes(77)), counter: 0, transports: ['usb'], now: Date.now() });
    expect(JSON.parse((await cli(['portal', 'passkeys', 'pk@x.example', '--json'])).stdout)).toMatchObject({ address: 'pk@x.example', passkeys: [{ transports: ['usb'] }] });
    expect(await cli(['portal', 'passkeys', 'pk@x.example', '--remove'])).toEqual({ code: 0, stdout: 'removed 1 passkey of pk@x.example\n', stderr: '' });
    expect(await store.count('pk@x.example')).toBe(0);
  });

  it('refuses a database whose schema is behind, naming sealgate db migrate', async () => {
    const url = await server.createDatabase();
    const behind = await writeConfig(url);
    const out = await cliWithoutDbPassword(['-c', behind, 'portal', 'list']);
    expect(out.code).not.toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^sealgate: the database is at schema version 0, this sealgate needs \d+: run sealgate db migrate\n$/);
  });
});
