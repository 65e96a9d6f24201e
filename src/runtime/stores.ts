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
import { requireSqliteStore } from '../db/open-store.js';
import { DatabaseInlineSpool } from '../spool/inline-store.js';
import { Spool } from '../spool/spool.js';

export function databasePath(config: Config): string {
  return join(resolve(config.dataDir), 'sealgate.db');
}

export async function openDatabase(config: Config): Promise<Database> {
  // with store.kind: postgres, a command must not quietly use a SQLite file beside it
  requireSqliteStore(config, 'this command');
  await mkdir(resolve(config.dataDir), { recursive: true, mode: 0o700 });
  const db = await Database.open(databasePath(config));
  await migrate(db);
  return db;
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

/** The message spool: files under dataDir/spool, small messages inline in the database (queue.inlineMaxBytes). */
export function openSpool(config: Config, keyring: Keyring, db: Database): Spool {
  return new Spool(join(resolve(config.dataDir), 'spool'), keyring, { store: new DatabaseInlineSpool(db), maxBytes: config.queue.inlineMaxBytes });
}
