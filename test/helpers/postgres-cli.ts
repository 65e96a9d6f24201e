/**
 * The built CLI against a test PostgreSQL, as an operator runs it: the
 * database password comes only from the config's `store.passwordFile`
 * (never from a SEALGATE_DB_PASSWORD the test's own environment may carry),
 * with the smallest config a command on the shared stores reads.
 */
import { writeFile } from 'node:fs/promises';
import { runCli } from './gateway.js';

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
