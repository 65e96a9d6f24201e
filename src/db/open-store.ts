/**
 * Opening the configured database for the commands that already work on
 * both kinds (`sealgate db migrate`, `sealgate db status`), and the guard
 * that keeps every other command and `sealgate start` off PostgreSQL until
 * their stores' SQL is portable (docs/scale-out.md "Database"): without it
 * they would silently use a SQLite file in dataDir beside the configured
 * PostgreSQL.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { SealgateError } from '../errors.js';
import type { PostgresDatabase } from './postgres.js';

/** Throws the one-line refusal when the config asks for a database kind `what` cannot use yet. */
export function requireSqliteStore(config: Pick<Config, 'store'>, what: string): void {
  if (config.store.kind === 'sqlite') return;
  throw new SealgateError('SG_CONFIG_INVALID', {
    message: `store.kind: postgres: ${what} does not run on PostgreSQL yet (its stores' SQL is still SQLite-only); set store.kind: sqlite to run it, and use sealgate db migrate / db status with postgres (docs/scale-out.md "Database")`,
  });
}

/**
 * What `sealgate start` needs on PostgreSQL (store.kind: postgres), checked
 * before anything starts, one line naming the key and the fix:
 *   - objects.kind: s3: every node must read every message's content, copies
 *     and archive entries; a local directory is one machine's.
 */
export function requireNodeStores(config: Pick<Config, 'store' | 'objects'>): void {
  if (config.store.kind !== 'postgres') return;
  if (config.objects.kind !== 's3') {
    throw new SealgateError('SG_CONFIG_INVALID', { message: 'objects.kind: with store.kind: postgres the nodes share their message content and archive through an S3-compatible store: set objects.kind: s3 (docs/scale-out.md "Object store")' });
  }
}

export interface OpenPostgresOptions {
  /** Told when store.url carries a password (it works, but belongs in store.passwordFile or the environment). */
  readonly warn?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Bound every statement by store.statementTimeout (a node and the commands that read what nodes write; not migrations). */
  readonly statementTimeout?: boolean;
}

/** The configured PostgreSQL (store.kind: postgres), password from the file or SEALGATE_DB_PASSWORD, reachable or an error naming the redacted URL. */
export async function openPostgres(config: Pick<Config, 'store'>, options: OpenPostgresOptions = {}): Promise<PostgresDatabase> {
  const store = config.store;
  // the driver is loaded only where PostgreSQL is configured: a node on SQLite never holds it in memory
  const { PostgresDatabase, parsePostgresUrl, readDbPassword, redactUrl } = await import('./postgres.js');
  if (store.kind !== 'postgres' || store.url === undefined) {
    throw new SealgateError('SG_CONFIG_INVALID', { message: 'store.kind: this needs store.kind: postgres and store.url' });
  }
  const target = parsePostgresUrl(store.url);
  if (target.password !== undefined) {
    options.warn?.('store.url carries a password: move it to store.passwordFile or SEALGATE_DB_PASSWORD (it is never printed)');
  }
  const password = await readDbPassword(store.passwordFile === undefined ? undefined : resolve(store.passwordFile), options.env ?? process.env);
  try {
    return await PostgresDatabase.open({
      url: store.url,
      password,
      poolSize: store.poolSize,
      tls: { mode: store.tls.mode, caFile: store.tls.caFile === undefined ? undefined : resolve(store.tls.caFile) },
      ...(options.statementTimeout === true ? { statementTimeoutMs: store.statementTimeout } : {}),
    });
  } catch (err) {
    if (err instanceof SealgateError) throw err;
    // already redacted by the adapter; the URL is shown without its password
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`database ${redactUrl(store.url)}: ${reason}`);
  }
}

/**
 * The configured PostgreSQL for work that needs its schema current (a
 * running node, and the commands that read what nodes write): an error that
 * says to run `sealgate db migrate` when migrations are pending (nodes never
 * migrate PostgreSQL by themselves: one operator step, not a race at start),
 * or to upgrade when the database is newer than this sealgate.
 */
export async function openCurrentPostgres(config: Pick<Config, 'store'>, options: OpenPostgresOptions = {}): Promise<PostgresDatabase> {
  const db = await openPostgres(config, { statementTimeout: true, ...options });
  try {
    const { POSTGRES_MIGRATIONS, postgresSchemaVersion } = await import('./schema-postgres.js');
    const version = await postgresSchemaVersion(db);
    const latest = POSTGRES_MIGRATIONS.length;
    if (version < latest) throw new SealgateError('SG_CONFIG_INVALID', { message: `store: the PostgreSQL database is at schema version ${version} of ${latest}: run sealgate db migrate` });
    if (version > latest) throw new SealgateError('SG_CONFIG_INVALID', { message: `store: the PostgreSQL database is at schema version ${version}, newer than this sealgate knows (${latest}): upgrade sealgate` });
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}
