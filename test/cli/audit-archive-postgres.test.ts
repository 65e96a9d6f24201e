/**
 * `sealgate audit verify|tail` and `sealgate archive verify|key|search` (the built
 * CLI) with store.kind: postgres: the one chain that two "nodes" (two pools
 * in this process, each as a node's) append to at once verifies; a row
 * altered in PostgreSQL fails with the very line the same alteration gives on
 * SQLite; the archive written through the real stores (entries, checkpoints
 * signed with the shared key) verifies and is searched, and an altered entry is named; a
 * database whose schema is behind is refused with the command that fixes it.
 * The database password never appears in any output.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/log.js';
import { loadConfig } from '../../src/config/load.js';
import { Database } from '../../src/db/database.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { migrate } from '../../src/db/schema.js';
import { migratePostgres } from '../../src/db/schema-postgres.js';
import { openKeyring } from '../../src/runtime/stores.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { archiveLife } from '../helpers/archive-rows.js';
import { cliWithoutDbPassword, postgresStoreYaml, writeCliConfig, type CliOut } from '../helpers/postgres-cli.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const T0 = Date.UTC(2026, 11, 5, 8, 0, 0);

let server: TestPostgres;
let dir: string;
let pwFile: string;
const pools: PostgresDatabase[] = [];

/** The CLI without a SEALGATE_DB_PASSWORD from the test's own environment. */
const cli = (configPath: string, args: string[]): Promise<CliOut> => cliWithoutDbPassword(['-c', configPath, ...args]);

/** A config with this store; its data directory is made. */
async function writeConfig(store: string): Promise<{ file: string; dataDir: string }> {
  const name = randomBytes(4).toString('hex');
  const dataDir = join(dir, `data-${name}`);
  await mkdir(dataDir, { mode: 0o700 });
  const file = await writeCliConfig(join(dir, `sealgate-${name}.yaml`), { dataDir, masterKeyFile: join(dir, 'master.key'), store });
  return { file, dataDir };
}

/** A fresh, migrated PostgreSQL database, a config pointing at it, and `n` pools on it (as n nodes have). */
async function pgCluster(n: number): Promise<{ config: string; nodes: PostgresDatabase[] }> {
  const url = await server.createDatabase();
  const nodes: PostgresDatabase[] = [];
  for (let i = 0; i < n; i++) {
    const db = await PostgresDatabase.open({ url, password: server.password, poolSize: 4 });
    pools.push(db);
    nodes.push(db);
  }
  await migratePostgres(nodes[0] as PostgresDatabase);
  return { config: (await writeConfig(postgresStoreYaml(url, pwFile))).file, nodes };
}

/** The same events, in the same order and at the same times, taking turns over the databases given. */
async function sameEvents(dbs: readonly SqlDatabase[]): Promise<void> {
  for (let i = 0; i < 12; i++) {
    const db = dbs[i % dbs.length] as SqlDatabase;
    await appendAudit(db, { type: 'queue:held', data: { queueId: `Q${String(i).padStart(19, '0')}`, operator: `node${i % dbs.length}`, recipients: i } }, T0 + i * 1000);
  }
}

function noPassword(...outs: CliOut[]): void {
  for (const o of outs) expect(o.stdout + o.stderr).not.toContain(server.password);
}

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'sealgate-audit-pg-'));
  pwFile = join(dir, 'db-password');
  await writeFile(pwFile, `${server.password}\n`, { mode: 0o600 });
});

afterAll(async () => {
  for (const db of pools.splice(0)) await db.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sealgate audit on PostgreSQL', () => {
  it('verifies the one chain two nodes append to at once, and tails it', async () => {
    const { config, nodes } = await pgCluster(2);
    const [a, b] = nodes as [PostgresDatabase, PostgresDatabase];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => appendAudit(i % 2 === 0 ? a : b, { type: 'queue:retried', data: { queueId: `R${String(i).padStart(19, '0')}`, operator: i % 2 === 0 ? 'node-a' : 'node-b', recipients: 1 } }, T0 + i)),
    );
    const verify = await cli(config, ['audit', 'verify']);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain OK: 40 events, last hash [0-9a-f]{64}\n$/);

    const tail = await cli(config, ['audit', 'tail', '-n', '3', '--json']);
    expect(tail.code).toBe(0);
    const events = tail.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string; data: { operator: string } });
    expect(events.map((e) => e.seq)).toEqual([38, 39, 40]);
    expect(events.every((e) => e.type === 'queue:retried')).toBe(true);
    const operators = new Set((await a.all<{ data: string }>('SELECT data FROM audit_log')).map((r) => (JSON.parse(r.data) as { operator: string }).operator));
    expect(operators).toEqual(new Set(['node-a', 'node-b']));
    noPassword(verify, tail);
  });

  it('fails on an altered row with the same line as SQLite gives for the same alteration', async () => {
    const { config, nodes } = await pgCluster(2);
    await sameEvents(nodes);
    const sqlite = await writeConfig('{ kind: sqlite }');
    const lite = await Database.open(join(sqlite.dataDir, 'sealgate.db'));
    await migrate(lite);
    await sameEvents([lite]);
    const alter = `UPDATE audit_log SET data = replace(data, '"recipients":5', '"recipients":50') WHERE seq = 6`;
    await (nodes[0] as PostgresDatabase).exec(alter);
    await lite.exec(alter);
    await lite.close();

    const onPg = await cli(config, ['audit', 'verify']);
    const onSqlite = await cli(sqlite.file, ['audit', 'verify']);
    expect(onPg.code).toBe(1);
    expect(onPg.stdout).toBe('');
    expect(onPg.stderr).toBe('sealgate: audit chain BROKEN at event #6 (hash_mismatch): that event or its predecessor was altered or removed; 5 events before it verify\n');
    expect(onSqlite).toEqual(onPg);
    noPassword(onPg);
  });

  it('refuses a database whose schema is behind, naming sealgate db migrate', async () => {
    const url = await server.createDatabase();
    const { file: config } = await writeConfig(postgresStoreYaml(url, pwFile));
    for (const args of [['audit', 'verify'], ['archive', 'verify']]) {
      const out = await cli(config, args);
      expect(out.code).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr).toMatch(/^sealgate: store: the PostgreSQL database is at schema version 0 of \d+: run sealgate db migrate\n$/);
    }
  });
});

describe('sealgate archive on PostgreSQL', () => {
  it('verifies the archive the stores wrote, prints the shared key, and names an altered entry', async () => {
    const { config, nodes } = await pgCluster(2);
    const [a, b] = nodes as [PostgresDatabase, PostgresDatabase];
    const life = await archiveLife(a, T0);
    // the other node's event joins the same chain after the stop checkpoint (whose own event is the first one after its head)
    await appendAudit(b, { type: 'daemon:started', data: { version: 'test' } }, life.stoppedAt + 1000);

    const key = await cli(config, ['archive', 'key']);
    expect(key.code).toBe(0);
    expect(key.stdout).toBe(`ed25519 ${life.key.fingerprint} created ${new Date(T0).toISOString()}\n`);

    const ok = await cli(config, ['archive', 'verify', '--fingerprint', life.key.fingerprint]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^archive OK: \d+ audit events \(last hash [0-9a-f]{64}\); 3 entries and 4 recipient rows match their \d+ records; \d+ checkpoints signed by key [0-9a-f]{64}, the newest #\d+ \(stop, [^)]+\) covers event #\d+ \(2 newer events are covered by the chain only\)\n$/);
    const json = await cli(config, ['archive', 'verify', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, messages: 3, recipients: 4, keyFingerprint: life.key.fingerprint, uncovered: 2 });

    // search finds every node's entries, newest first, and is audited; show reads the shared rows (test/cli/archive-postgres.test.ts)
    await openKeyring(loadConfig(config).config, true); // the master key the nodes share (search derives its terms' key from it)
    const search = await cli(config, ['archive', 'search', '--json']);
    expect(search.stderr).toBe('');
    expect(search.code).toBe(0);
    expect((JSON.parse(search.stdout) as { id: string }[]).map((e) => e.id)).toEqual(['Q3', 'Q2', 'Q1']);
    const byDomain = await cli(config, ['archive', 'search', '--domain', 'example.org', '--json']);
    expect((JSON.parse(byDomain.stdout) as { id: string }[]).map((e) => e.id)).toEqual(['Q1']);
    expect(await a.all("SELECT data FROM audit_log WHERE type = 'archive:searched' ORDER BY seq")).toHaveLength(2);
    const show = await cli(config, ['archive', 'show', '0QPGARCH000000000001']);
    expect(show.code).toBe(1);
    expect(show.stderr).toBe('sealgate: no archive entry 0QPGARCH000000000001\n');

    await b.exec(`UPDATE archive_messages SET sender = 'mallory@example.com' WHERE id = 'Q2'`);
    const broken = await cli(config, ['archive', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/^sealgate: archive BROKEN at entry Q2 \(hash_mismatch\)/);
    expect(broken.stderr).not.toContain('mallory');
    noPassword(key, ok, json, search, byDomain, broken);
  });
});
