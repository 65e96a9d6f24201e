/**
 * `sealgate probe accept DOMAIN` (the built CLI) with store.kind: postgres:
 * the transport security a node remembered for a domain (posture memory,
 * shared by the nodes) is forgotten in the shared database and the act is
 * audited in the one chain; a second run finds nothing remembered. The
 * database password never appears in the output.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { migratePostgres } from '../../src/db/schema-postgres.js';
import { loadPosture, recordPosture } from '../../src/probe/posture.js';
import { cliWithoutDbPassword, postgresStoreYaml, writeCliConfig } from '../helpers/postgres-cli.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

let server: TestPostgres;
let dir: string;
let configPath: string;
let node: PostgresDatabase;

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'sealgate-probe-pg-'));
  const pwFile = join(dir, 'db-password');
  await writeFile(pwFile, `${server.password}\n`, { mode: 0o600 });
  configPath = await writeCliConfig(join(dir, 'sealgate.yaml'), { dataDir: join(dir, 'data'), masterKeyFile: join(dir, 'master.key'), store: postgresStoreYaml(server.url, pwFile) });
  node = await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 2 });
  await migratePostgres(node);
});

afterAll(async () => {
  await node?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sealgate probe on PostgreSQL', () => {
  it('accept forgets the posture a node remembered, audited in the one chain', async () => {
    await recordPosture(node, 'posture.example', 'verify', Date.now());
    expect(await loadPosture(node, 'posture.example')).toBeDefined();
    const first = await cliWithoutDbPassword(['-c', configPath, 'probe', 'accept', 'Posture.Example.']);
    expect(first).toEqual({ code: 0, stdout: 'posture.example: remembered transport security forgotten; the next delivery sets it again\n', stderr: '' });
    expect(await loadPosture(node, 'posture.example')).toBeUndefined();
    const events = await node.all<{ data: string }>("SELECT data FROM audit_log WHERE type = 'probe:posture_accepted'");
    expect(events.map((e) => (JSON.parse(e.data) as { domain: string }).domain)).toEqual(['posture.example']);
    const again = await cliWithoutDbPassword(['-c', configPath, 'probe', 'accept', 'posture.example']);
    expect(again).toEqual({ code: 0, stdout: 'posture.example: nothing remembered\n', stderr: '' });
    expect(first.stdout + first.stderr + again.stderr).not.toContain(server.password);
  });
});
