/**
 * `sealgate db status` / `db migrate` end to end (the built CLI) on a real
 * PostgreSQL and on SQLite, and the refusal of `sealgate start` (and of the
 * commands whose stores are SQLite-only) with store.kind: postgres. The
 * database password never appears in any output.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWithoutDbPassword, writeCliConfig, type CliOut } from '../helpers/postgres-cli.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { SCHEMA_VERSION } from '../../src/db/schema.js';


/** The CLI without a SEALGATE_DB_PASSWORD from the test's own environment, plus `env`. */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliOut> => cliWithoutDbPassword(args, { env });

let server: TestPostgres;
let dir: string;
let pwFile: string;

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'sealgate-dbcli-'));
  pwFile = join(dir, 'db-password');
  await writeFile(pwFile, `${server.password}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** A config file for the given store section (YAML flow mapping). */
async function configWith(store: string): Promise<string> {
  n++;
  return writeCliConfig(join(dir, `sealgate-${n}.yaml`), { dataDir: join(dir, `data-${n}`), store });
}

// the newest migration, the same number on both databases (the schema test keeps them in step)
const LATEST = SCHEMA_VERSION;
const ALL = Array.from({ length: LATEST }, (_, i) => i + 1);

describe('sealgate db on PostgreSQL', () => {
  it('status shows the pending migrations, migrate applies them once, status then shows up to date', async () => {
    const url = await server.createDatabase();
    const config = await configWith(`{ kind: postgres, url: "${url}", passwordFile: "${pwFile}", tls: { mode: disable } }`);

    const before = await cli(['-c', config, 'db', 'status', '--json']);
    expect(before.stderr).toBe('');
    expect(JSON.parse(before.stdout)).toEqual({ kind: 'postgres', database: url, version: 0, latest: LATEST, pending: ALL });
    const text = await cli(['-c', config, 'db', 'status']);
    expect(text.stdout).toBe(`kind: postgres\ndatabase: ${url}\nschema: version 0 of ${LATEST}, ${LATEST} pending (1-${LATEST}): run sealgate db migrate\n`);

    const first = await cli(['-c', config, 'db', 'migrate']);
    expect(first).toEqual({ code: 0, stdout: `applied ${LATEST} migration(s) (1-${LATEST}): postgres database now at version ${LATEST}\n`, stderr: '' });
    const second = await cli(['-c', config, 'db', 'migrate', '--json']);
    expect(JSON.parse(second.stdout)).toEqual({ kind: 'postgres', database: url, from: LATEST, to: LATEST, applied: [] });

    const after = await cli(['-c', config, 'db', 'status']);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`schema: version ${LATEST} of ${LATEST}, up to date`);
  });

  it('takes the password from SEALGATE_DB_PASSWORD', async () => {
    const url = await server.createDatabase();
    const config = await configWith(`{ kind: postgres, url: "${url}", tls: { mode: disable } }`);
    const r = await cli(['-c', config, 'db', 'migrate', '--json'], { SEALGATE_DB_PASSWORD: server.password });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ from: 0, to: LATEST });
  });

  it('accepts a password in the URL with a warning, and never prints it', async () => {
    const url = new URL(await server.createDatabase());
    url.password = server.password;
    const config = await configWith(`{ kind: postgres, url: "${url.toString()}", tls: { mode: disable } }`);
    const r = await cli(['-c', config, 'db', 'status']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^sealgate: warning: store\.url carries a password: move it to store\.passwordFile or SEALGATE_DB_PASSWORD/);
    expect(r.stdout).toContain(':[redacted]@127.0.0.1');
    expect(r.stdout + r.stderr).not.toContain(server.password);
  });

  it('fails in one line naming the redacted URL when the password is wrong, without the password', async () => {
    const wrong = join(dir, 'wrong-password');
    await writeFile(wrong, 'Not-The-Password-81f3\n', { mode: 0o600 });
    const config = await configWith(`{ kind: postgres, url: "${server.url}", passwordFile: "${wrong}", tls: { mode: disable } }`);
    const r = await cli(['-c', config, 'db', 'status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`sealgate: database ${server.url}: password authentication failed for user "${server.user}"\n`);
    expect(r.stderr).not.toContain('Not-The-Password-81f3');
  });

  it('sealgate start on store.kind: postgres with local objects is refused in one line, exit 2; so is archive purge', async () => {
    const config = await configWith(`{ kind: postgres, url: "${server.url}", passwordFile: "${pwFile}", tls: { mode: disable } }`);
    const start = await cli(['-c', config, 'start']);
    expect(start.code).toBe(2);
    expect(start.stdout).toBe('');
    expect(start.stderr).toBe(
      'sealgate: objects.kind: with store.kind: postgres the nodes share their message content and archive through an S3-compatible store: set objects.kind: s3 (docs/scale-out.md "Object store")\n',
    );
    // archive purge runs on PostgreSQL now (docs/scale-out.md "Operator commands on PostgreSQL"), on the shared objects only
    const retention = await cli(['-c', config, 'archive', 'purge', '--dry-run']);
    expect(retention.code).toBe(2);
    expect(retention.stdout).toBe('');
    expect(retention.stderr).toMatch(/^sealgate: objects\.kind: with store\.kind: postgres, archive purge works on the message content the nodes share: set objects\.kind: s3/);
  });
});

describe('sealgate backup and restore on PostgreSQL', () => {
  it('refuse in one line naming the shared stores\' own tools, exit 2, writing nothing', async () => {
    const config = await configWith(`{ kind: postgres, url: "${server.url}", passwordFile: "${pwFile}", tls: { mode: disable } }`);
    const out = join(dir, `backup-${n}`);
    for (const [what, args] of [['backup', ['backup', '--out', out]], ['restore', ['restore', out]]] as const) {
      const r = await cli(['-c', config, ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^sealgate: store\\.kind: postgres: sealgate ${what} copies one node's SQLite file and data directory; .*pg_dump.*docs/scale-out\\.md "Backup of the shared stores"\\)\n$`));
      expect(r.stderr).not.toContain(server.password);
    }
    expect(await stat(out).then(() => true, () => false)).toBe(false);
  });
});

describe('sealgate db on SQLite', () => {
  it('status of a data directory without a database: version 0, nothing created; migrate creates and migrates it', async () => {
    const config = await configWith('{ kind: sqlite }');
    const before = await cli(['-c', config, 'db', 'status', '--json']);
    const file = join(dir, `data-${n}`, 'sealgate.db');
    expect(JSON.parse(before.stdout)).toEqual({ kind: 'sqlite', database: file, version: 0, latest: LATEST, pending: ALL });
    const migrate = await cli(['-c', config, 'db', 'migrate']);
    expect(migrate).toEqual({ code: 0, stdout: `applied ${LATEST} migration(s) (1-${LATEST}): sqlite database now at version ${LATEST}\n`, stderr: '' });
    expect((await cli(['-c', config, 'db', 'migrate'])).stdout).toBe(`nothing to apply: sqlite database at version ${LATEST}\n`);
    expect((await cli(['-c', config, 'db', 'status'])).stdout).toBe(`kind: sqlite\ndatabase: ${file}\nschema: version ${LATEST} of ${LATEST}, up to date\n`);
  });
});
