/**
 * Opening the gateway's stores from a config: the database (migrated), the
 * master keyring, and the names they live under. Kept apart from
 * src/daemon.ts so a CLI command that only reads the database does not load
 * the whole daemon (inspection, delivery, portal, console) at start-up.
 */
import { mkdir } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { loadKeyring, type Keyring } from '../crypto/keyring.js';
import { Database } from '../db/database.js';
import { migrate } from '../db/schema.js';
import { openCurrentPostgres, requireSqliteStore } from '../db/open-store.js';
import type { SqlDatabase } from '../db/sql-database.js';
import { DatabaseInlineSpool } from '../spool/inline-store.js';
import { Spool } from '../spool/spool.js';
import { ObjectSpoolBlobs } from '../spool/object-blobs.js';
import type { ObjectStore } from '../objects/object-store.js';
import type { SealgateError } from '../errors.js';

export function databasePath(config: Config): string {
  return join(resolve(config.dataDir), 'sealgate.db');
}

/** The file spool's directory (objects.kind: local): dataDir/spool. */
export function spoolRoot(config: Pick<Config, 'dataDir'>): string {
  return join(resolve(config.dataDir), 'spool');
}

export async function openDatabase(config: Config): Promise<Database> {
  // with store.kind: postgres, a command must not quietly use a SQLite file beside it
  requireSqliteStore(config, 'this command');
  await mkdir(resolve(config.dataDir), { recursive: true, mode: 0o700 });
  const db = await Database.open(databasePath(config));
  await migrate(db);
  return db;
}

/**
 * The configured database for a running node: the SQLite file in dataDir
 * (created and migrated), or the shared PostgreSQL, whose schema must be
 * current (`sealgate db migrate` is the operator's step: nodes never migrate
 * it by themselves).
 */
export async function openStore(config: Config, warn?: (line: string) => void): Promise<SqlDatabase> {
  if (config.store.kind === 'postgres') return openCurrentPostgres(config, warn ? { warn } : {});
  return openDatabase(config);
}

export function gatewayHostname(config: Config): string {
  return config.hostname ?? osHostname();
}

export async function openKeyring(config: Config, create: boolean): Promise<Keyring> {
  return loadKeyring({
    masterKeyFile: resolve(config.keys.masterKeyFile),
    previousKeyFiles: config.keys.previousKeyFiles.map((f) => resolve(f)),
    create,
  });
}

/** Where the spool keeps content beyond the inline limit when it is not dataDir/spool (objects.kind: s3). */
export interface SpoolObjects {
  /** The opened (and, in the daemon, initialised) object store. */
  readonly store: ObjectStore;
  /** A removal that failed, left to the spool sweep (the daemon logs it); absent: the removal rejects. */
  readonly onRemoveFailed?: (id: string, err: SealgateError) => void;
}

/**
 * The message spool: small messages inline in the database (queue.inlineMaxBytes); larger ones and end-to-end
 * copies as files under dataDir/spool (objects.kind: local), or in the object store under spool/ (objects.kind:
 * s3, given as `objects`), so every node sharing the store can read them.
 */
export function openSpool(config: Config, keyring: Keyring, db: SqlDatabase, objects?: SpoolObjects): Spool {
  const inline = { store: new DatabaseInlineSpool(db), maxBytes: config.queue.inlineMaxBytes };
  const root = spoolRoot(config);
  if (config.objects.kind === 'local') return new Spool(root, keyring, inline);
  // a program error: every opener of a spool on kind s3 must pass the store (never files beside the shared store)
  if (!objects) throw new Error('objects.kind s3: the spool needs the object store');
  return new Spool(root, keyring, inline, new ObjectSpoolBlobs(objects.store, objects.onRemoveFailed ? { onRemoveFailed: objects.onRemoveFailed } : {}));
}
