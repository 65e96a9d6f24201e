/**
 * The built CLI against a test PostgreSQL, as an operator runs it: the
 * database password comes only from the config's `store.passwordFile`
 * (never from a SEALGATE_DB_PASSWORD the test's own environment may carry),
 * with the smallest config a command on the shared stores reads.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './gateway.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { startS3Server, type TestS3 } from './s3-server.js';

export interface CliOut {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `sealgate ARGS` with the test's environment minus SEALGATE_DB_PASSWORD, plus `env`. */
export function cliWithoutDbPassword(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliOut> {
  const { SEALGATE_DB_PASSWORD: _drop, ...base } = process.env;
  return runCli(args, { env: { ...base, ...options.env }, ...(options.input !== undefined ? { input: options.input } : {}) });
}

/** The `store` section (YAML flow mapping) for a test PostgreSQL on loopback, with the password file when given. */
export function postgresStoreYaml(url: string, passwordFile?: string): string {
  return `{ kind: postgres, url: "${url}", ${passwordFile !== undefined ? `passwordFile: "${passwordFile}", ` : ''}tls: { mode: disable } }`;
}

/**
 * Writes `file`: a data directory, one cleartext listener, one connector,
 * the master key file when given, `store` (YAML) and any further top-level
 * YAML `lines` (`objects: …`, `hostname: …`). Returns `file`.
 */
export async function writeCliConfig(file: string, config: { readonly dataDir: string; readonly store: string; readonly masterKeyFile?: string; readonly lines?: readonly string[] }): Promise<string> {
  await writeFile(
    file,
    [
      `dataDir: ${config.dataDir}`,
      'smtp: { listeners: [{ name: relay, tls: none, port: 0 }] }',
      'connectors: [{ name: c, allowIps: [127.0.0.0/8], senderDomains: [example.com] }]',
      ...(config.masterKeyFile !== undefined ? [`keys: { masterKeyFile: ${config.masterKeyFile} }`] : []),
      `store: ${config.store}`,
      ...(config.lines ?? []),
      '',
    ].join('\n'),
  );
  return file;
}

/** A test PostgreSQL and s3rver with the two configs an operator command on the shared stores is tried with. */
export interface CliStores {
  readonly server: TestPostgres;
  readonly s3: TestS3;
  /** A temporary directory for the configs, the data directory and the command's own files. */
  readonly dir: string;
  /** store: the PostgreSQL (password from a file); objects: the bucket (prefix nodes/, one attempt, 10 s). */
  readonly configPath: string;
  /** The same with objects.kind: local, as a node must not have beside PostgreSQL. */
  readonly localObjectsConfig: string;
  /** Stops both servers and removes the directory. */
  stop(): Promise<void>;
}

/** Starts the servers and writes the two configs (one master key file, one data directory); `name` names the directory. */
export async function startCliStores(name: string): Promise<CliStores> {
  const server = await startPostgres();
  const s3 = await startS3Server();
  const dir = await mkdtemp(join(tmpdir(), `sealgate-${name}-`));
  const pwFile = join(dir, 'db-password');
  await writeFile(pwFile, `${server.password}\n`, { mode: 0o600 });
  const secretFile = join(dir, 's3-secret');
  await writeFile(secretFile, `${s3.secretAccessKey}\n`, { mode: 0o600 });
  const write = (objectsYaml: string): Promise<string> =>
    writeCliConfig(join(dir, `sealgate-${randomBytes(4).toString('hex')}.yaml`), {
      dataDir: join(dir, 'data'),
      masterKeyFile: join(dir, 'master.key'),
      store: postgresStoreYaml(server.url, pwFile),
      lines: [`objects: ${objectsYaml}`],
    });
  const configPath = await write(
    `{ kind: s3, s3: { endpoint: "${s3.endpoint}", bucket: ${s3.bucket}, region: ${s3.region}, prefix: nodes/, forcePathStyle: true, accessKeyId: ${s3.accessKeyId}, secretAccessKeyFile: "${secretFile}", maxAttempts: 1, timeout: 10s } }`,
  );
  const localObjectsConfig = await write('{ kind: local }');
  return {
    server,
    s3,
    dir,
    configPath,
    localObjectsConfig,
    async stop() {
      await server.stop();
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
