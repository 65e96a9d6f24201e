/**
 * `sealgate keys`, `keys org`, `users` and `console-users` (the built CLI)
 * with store.kind: postgres: each change lands in the shared PostgreSQL (read
 * back here through the real stores, as a node reads it) and in the one audit
 * chain; a command that does not run on the shared stores (backup) still
 * refuses in one line. No output carries
 * a password or the database password.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/log.js';
import { loadConfig } from '../../src/config/load.js';
import { listConsoleUsers } from '../../src/console/users.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { migratePostgres } from '../../src/db/schema-postgres.js';
import { SqlOrgKeyStore } from '../../src/keys/org-store.js';
import { SqlKeyDirectory } from '../../src/keys/store.js';
import { openKeyring } from '../../src/runtime/stores.js';
import { listUsers, verifyUser } from '../../src/users/store.js';
import { cliWithoutDbPassword, postgresStoreYaml, writeCliConfig, type CliOut } from '../helpers/postgres-cli.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const PASSWORD = 'a-long-enough-password-7f2c';

let server: TestPostgres;
let dir: string;
let configPath: string;
let db: PostgresDatabase;


/** The CLI without a SEALGATE_DB_PASSWORD from the test's own environment. */
const cli = (args: string[], input?: string): Promise<CliOut> => cliWithoutDbPassword(['-c', configPath, ...args], input !== undefined ? { input } : {});

function clean(...outs: CliOut[]): void {
  for (const o of outs) expect(o.stdout + o.stderr).not.toMatch(new RegExp(`${PASSWORD}|${server.password}`));
}

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'sealgate-keys-pg-'));
  const pwFile = join(dir, 'db-password');
  await writeFile(pwFile, `${server.password}\n`, { mode: 0o600 });
  configPath = await writeCliConfig(join(dir, `sealgate-${randomBytes(4).toString('hex')}.yaml`), {
    dataDir: join(dir, 'data'),
    masterKeyFile: join(dir, 'master.key'),
    store: postgresStoreYaml(server.url, pwFile),
    lines: ['hostname: gw.example.org'],
  });
  db = await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 4 });
  await migratePostgres(db);
  // the master key the nodes share (console-users seals one-time-code secrets under it)
  await openKeyring(loadConfig(configPath).config, true);
});

afterAll(async () => {
  await db?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sealgate keys on PostgreSQL', () => {
  it('creates and shows the organisation key; imports, lists, shows and removes a recipient key', async () => {
    const init = await cli(['keys', 'org', 'init']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    const fp = /^organisation OpenPGP key created: ([0-9A-Fa-f]{40})$/m.exec(init.stdout)?.[1] ?? '';
    expect(fp).not.toBe('');
    expect((await new SqlOrgKeyStore(db).list()).map((k) => [k.kind, k.fingerprint])).toEqual([['pgp', fp]]);
    const show = await cli(['keys', 'org', 'show', '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject([{ kind: 'pgp', fingerprint: fp }]);

    const exported = await cli(['keys', 'org', 'export-public']);
    expect(exported.stdout).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const keyFile = join(dir, 'org.asc');
    await writeFile(keyFile, exported.stdout);
    const imported = await cli(['keys', 'import', keyFile]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect((await new SqlKeyDirectory(db).list()).map((k) => [k.fingerprint, k.address])).toEqual([[fp, 'postmaster@gw.example.org']]);
    const list = await cli(['keys', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(fp);
    const one = await cli(['keys', 'show', fp]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('postmaster@gw.example.org');

    const removed = await cli(['keys', 'remove', fp]);
    expect(removed.code).toBe(0);
    expect(await new SqlKeyDirectory(db).list()).toEqual([]);
    const types = (await db.all<{ type: string }>("SELECT type FROM audit_log WHERE type LIKE 'keys:%' ORDER BY seq")).map((r) => r.type);
    expect(types[0]).toBe('keys:org_created');
    expect(types.length).toBeGreaterThanOrEqual(3);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
    clean(init, show, imported, list, one, removed);
  });
});

describe('sealgate users and console-users on PostgreSQL', () => {
  it('adds, changes, lists and removes an AUTH user in the shared database', async () => {
    expect(await cli(['users', 'add', 'alice', '--password-stdin'], `${PASSWORD}\n`)).toEqual({ code: 0, stdout: 'user alice added\n', stderr: '' });
    expect(await verifyUser(db, 'alice', PASSWORD)).toBe(true);
    const dup = await cli(['users', 'add', 'alice', '--password-stdin'], `${PASSWORD}\n`);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr.trim().split('\n')).toHaveLength(1);
    expect((await cli(['users', 'passwd', 'alice', '--password-stdin'], `${PASSWORD}-new\n`)).stdout).toBe('password of alice changed\n');
    expect(await verifyUser(db, 'alice', `${PASSWORD}-new`)).toBe(true);
    const list = await cli(['users', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'alice', disabled: false }]);
    expect((await cli(['users', 'remove', 'alice'])).stdout).toBe('user alice removed\n');
    expect(await listUsers(db)).toEqual([]);
    clean(dup, list);
  });

  it('adds, lists and disables a console user in the shared database', async () => {
    const add = await cli(['console-users', 'add', 'ann', '--role', 'auditor', '--password-stdin'], `${PASSWORD}\n`);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^console user ann: import this into an authenticator app now .*\notpauth:\/\/totp\//);
    const list = await cli(['console-users', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'ann', role: 'auditor', disabled: false }]);
    expect((await cli(['console-users', 'disable', 'ann'])).stdout).toBe('console user ann disabled\n');
    expect((await listConsoleUsers(db)).map((u) => [u.name, u.disabled])).toEqual([['ann', true]]);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
    clean(add, list);
  });

  it('a command that does not run on the shared stores (backup) still refuses PostgreSQL in one line', async () => {
    const out = await cli(['backup', '--out', join(dir, 'backup')]);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^sealgate: store\.kind: postgres: sealgate backup copies one node's SQLite file and data directory; .*\n$/);
  });
});
