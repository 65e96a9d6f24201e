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
