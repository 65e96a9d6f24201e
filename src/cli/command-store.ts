/**
 * Opening the stores for an operator command that runs on either database
 * (docs/scale-out.md "Running nodes on PostgreSQL"): the SQLite file in
 * dataDir (created and migrated), or the shared PostgreSQL, whose schema must
 * be current (`sealgate db migrate` is the operator's step, never a
 * command's). Never a SQLite file beside a configured PostgreSQL. A command
 * that reads or removes message content on PostgreSQL needs the shared
 * object store too (requireSharedObjects): a local directory holds one
 * machine's content, not the cluster's.
 */
import type { Config } from '../config/schema.js';
import type { SqlDatabase } from '../db/sql-database.js';
import { SealgateError } from '../errors.js';
import { openStore } from '../runtime/stores.js';
import { errorLine } from './context.js';

/** The configured database for a command; a store.url carrying a password is warned about on stderr. */
export function openCommandStore(config: Config): Promise<SqlDatabase> {
  return openStore(config, (line) => void process.stderr.write(`${errorLine(new Error(`warning: ${line}`))}\n`));
}

/** With store.kind: postgres, `what` needs objects.kind: s3 (the nodes' shared content); one line naming the key and the fix otherwise. */
export function requireSharedObjects(config: Pick<Config, 'store' | 'objects'>, what: string): void {
  if (config.store.kind !== 'postgres' || config.objects.kind === 's3') return;
  throw new SealgateError('SG_CONFIG_INVALID', {
    message: `objects.kind: with store.kind: postgres, ${what} works on the message content the nodes share: set objects.kind: s3 as the nodes have it (docs/scale-out.md "Object store")`,
  });
}

/**
 * `sealgate backup` and `restore` copy one node's SQLite file and data
 * directory: with store.kind: postgres the shared stores are backed up with
 * their own tools. One line saying so, before anything is written.
 */
export function refuseSharedStoresBackup(config: Pick<Config, 'store'>, what: 'backup' | 'restore'): void {
  if (config.store.kind !== 'postgres') return;
  throw new SealgateError('SG_CONFIG_INVALID', {
    message: `store.kind: postgres: sealgate ${what} copies one node's SQLite file and data directory; ${what === 'backup' ? 'back up' : 'restore'} the shared stores with their own tools — PostgreSQL's (pg_dump, or pg_basebackup with WAL archiving) and the object store's (versioning, replication) — and keep the master key apart (docs/scale-out.md "Backup of the shared stores")`,
  });
}
