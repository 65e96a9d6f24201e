/**
 * A private PostgreSQL server for tests: Debian's binaries
 * (/usr/lib/postgresql/<version>/bin, the newest installed), a cluster made
 * by initdb in a fresh temporary directory, listening on 127.0.0.1 on a free
 * port with its unix socket in that directory. The package's own cluster and
 * service never matter: nothing here reads /etc/postgresql or talks to them.
 *
 * initdb and the server refuse to run as root (the tests and CI do), so the
 * directory is chowned to `nobody` and both run under `runuser -u nobody`.
 *
 * Durability as in production: fsync=on, synchronous_commit=on. initdb itself
 * runs with --no-sync (its files are thrown away after the test file; syncing
 * them would only slow every start).
 *
 * Password authentication (scram-sha-256) even on loopback, so tests exercise
 * the password path (store.passwordFile / SEALGATE_DB_PASSWORD) and can check
 * that it never shows in error text. One server per test file: initdb is the
 * slow part (~1-3 s), a database per test is cheap (createDatabase).
 */
import { execFile } from 'node:child_process';
import { chown, mkdtemp, readdir, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface TestPostgres {
  /** postgres://USER@127.0.0.1:PORT/DB of the database made for this test file, without the password. */
  readonly url: string;
  /** The superuser's password (give it through a file or SEALGATE_DB_PASSWORD, as production does). */
  readonly password: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** The cluster's directory (data, socket, log). */
  readonly dir: string;
  /** A further empty database; gives its URL (without the password). */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (immediate) and removes the directory. */
  stop(): Promise<void>;
  /** Stops the server at once (an outage: open connections break), keeping its directory: `start` brings it back. */
  kill(): Promise<void>;
  /** Starts the same server again, on the same port and data directory (after `kill`; the data committed before is there). */
  start(): Promise<void>;
}

/** The newest installed PostgreSQL's bin directory, e.g. /usr/lib/postgresql/15/bin. */
export async function postgresBinDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = (await readdir(root).catch(() => [] as string[]))
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (await stat(join(bin, 'initdb')).then(() => true, () => false)) return bin;
  }
  throw new Error(`no PostgreSQL server binaries under ${root}/*/bin (install the Debian package "postgresql"; .ci/run does)`);
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const isRoot = process.getuid?.() === 0;
const RUN_AS = 'nobody';

/** Runs a PostgreSQL binary as the unprivileged user when we are root. */
async function pgRun(bin: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const [file, argv] = isRoot ? ['runuser', ['-u', RUN_AS, '--', bin, ...args]] : [bin, [...args]];
  return run(file, argv, { timeout: 60_000, env: { ...process.env, LC_ALL: 'C', LANG: 'C' } });
}

async function giveAway(path: string): Promise<void> {
  if (!isRoot) return;
  const { stdout } = await run('id', ['-u', RUN_AS]);
  const { stdout: g } = await run('id', ['-g', RUN_AS]);
  await chown(path, Number(stdout.trim()), Number(g.trim()));
}

export interface PostgresStartOptions {
  /** Serve TLS (ssl=on) with this certificate chain and key (PEM files; copied into the cluster directory). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export async function startPostgres(options: PostgresStartOptions = {}): Promise<TestPostgres> {
  const bin = await postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-pg-'));
  await giveAway(dir);
  if (isRoot) {
    // every directory above it must let that user through (a TMPDIR of mode 0700 would not)
    await run('runuser', ['-u', RUN_AS, '--', 'test', '-w', dir]).catch(async () => {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`user ${RUN_AS} cannot write ${dir}: point TMPDIR at a directory everyone may pass through (e.g. /tmp)`);
    });
  }
  const user = 'sealgate_test';
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const pwFile = join(dir, 'pw');
  await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  await giveAway(pwFile);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  try {
    await pgRun(join(bin, 'initdb'), ['-D', data, '-U', user, '-A', 'scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
  await rm(pwFile, { force: true });

  const tlsOptions: string[] = [];
  if (options.tls) {
    // the server reads its key only when it belongs to its own user and no one else may read it
    const cert = join(dir, 'server.crt');
    const key = join(dir, 'server.key');
    await writeFile(cert, await readFile(options.tls.certFile), { mode: 0o644 });
    await writeFile(key, await readFile(options.tls.keyFile), { mode: 0o600 });
    await giveAway(cert);
    await giveAway(key);
    tlsOptions.push('-c ssl=on', `-c ssl_cert_file=${cert}`, `-c ssl_key_file=${key}`);
  }
  let port = 0;
  let lastError = '';
  const serverOptions = (p: number): string =>
    [
      `-c listen_addresses=127.0.0.1`,
      `-c port=${p}`,
      `-c unix_socket_directories=${dir}`,
      '-c fsync=on',
      '-c synchronous_commit=on',
      '-c max_connections=60',
      '-c shared_buffers=16MB',
      ...tlsOptions,
    ].join(' ');
  const startServer = (p: number): Promise<unknown> => pgRun(join(bin, 'pg_ctl'), ['start', '-D', data, '-w', '-t', '60', '-l', log, '-o', serverOptions(p)]);
  // a free port can be taken between the check and the server's bind: try a few
  for (let attempt = 0; attempt < 3 && port === 0; attempt++) {
    const candidate = await freePort('127.0.0.1');
    try {
      await startServer(candidate);
      port = candidate;
    } catch (err) {
      lastError = `${(err as { stderr?: string }).stderr ?? String(err)}\n${await readFile(log, 'utf8').catch(() => '')}`;
    }
  }
  if (port === 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${lastError}`);
  }

  const base = `postgres://${user}@127.0.0.1:${port}`;
  let stopped = false;
  let next = 0;
  const createDatabase = async (name?: string): Promise<string> => {
    const db = name ?? `sg_test_${process.pid}_${++next}`;
    const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${db.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
    return `${base}/${db}`;
  };
  const killServer = async (): Promise<void> => {
    await pgRun(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w']).catch(() => undefined);
  };
  const stopServer = async (): Promise<void> => {
    await killServer();
    await rm(dir, { recursive: true, force: true });
  };
  let url: string;
  try {
    url = await createDatabase();
  } catch (err) {
    await stopServer();
    throw err;
  }
  return {
    url,
    password,
    port,
    user,
    database: new URL(url).pathname.slice(1),
    dir,
    createDatabase,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopServer();
    },
    kill: killServer,
    async start() {
      if (stopped) throw new Error('this PostgreSQL was stopped and its directory removed: start a new one');
      try {
        await startServer(port);
      } catch (err) {
        throw new Error(`PostgreSQL did not start again on port ${port}: ${(err as { stderr?: string }).stderr ?? String(err)}\n${await readFile(log, 'utf8').catch(() => '')}`);
      }
    },
  };
}
