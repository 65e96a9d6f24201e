/**
 * What the archive stage works on, made fresh in a temporary directory: a
 * migrated SQLite database, a keyring under a random master key, a spool
 * and a local object store (for the archive tests and its bench).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { Spool } from '../../src/spool/spool.js';

export interface ArchiveEnvironment {
  readonly dir: string;
  readonly db: Database;
  readonly spool: Spool;
  readonly objects: LocalObjectStore;
  readonly keyring: Keyring;
}

/** A fresh environment under a new temporary directory named from `prefix` (the caller closes the database and removes `dir`). */
export async function archiveEnvironment(prefix: string): Promise<ArchiveEnvironment> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
  const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
  const spool = new Spool(join(dir, 'spool'), keyring);
  await spool.init();
  const objects = new LocalObjectStore(join(dir, 'store'));
  await objects.init();
  return { dir, db, spool, objects, keyring };
}
