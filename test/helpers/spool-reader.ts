/** Reads what the daemon queued, through the gateway's own spool and database code. */
import { join } from 'node:path';
import { loadKeyring } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { Spool } from '../../src/spool/spool.js';
import { entryKeyOf, readArchiveContent } from '../../src/archive/content.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { objectStoreRoot } from '../../src/objects/location.js';

export async function readSpooled(dataDir: string, masterKeyFile: string, id: string): Promise<Buffer> {
  const keyring = await loadKeyring({ masterKeyFile, create: false });
  const spool = new Spool(join(dataDir, 'spool'), keyring);
  const chunks: Buffer[] = [];
  for await (const c of spool.read(id)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function withDb<T>(dataDir: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await Database.open(join(dataDir, 'sealgate.db'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Removes the gateway's trace headers (the Received header on top, and a Message-ID it added). */
export function stripTraceHeaders(spooled: Buffer, addedMessageId = false): Buffer {
  let text = spooled.toString('latin1');
  const received = /^Received: [^\r]*\r\n(?:\t[^\r]*\r\n)*/.exec(text);
  if (received) text = text.slice(received[0].length);
  if (addedMessageId) text = text.replace(/^Message-ID: <[0-9A-Z]{20}@[^>]+>\r\n/m, '');
  return Buffer.from(text, 'latin1');
}

/** The archived bytes of entry `id`, read through the gateway's own archive code (undefined when there is no entry). */
export async function readArchived(dataDir: string, masterKeyFile: string, id: string): Promise<Buffer | undefined> {
  const keyring = await loadKeyring({ masterKeyFile, create: false });
  const row = await withDb(dataDir, (db) =>
    db.get<{ id: string; object_key: string; object_offset: number; object_length: number; wrapped_key: Buffer; key_id: string }>('SELECT id, object_key, object_offset, object_length, wrapped_key, key_id FROM archive_messages WHERE id = ?', [id]),
  );
  if (!row) return undefined;
  const objects = new LocalObjectStore(objectStoreRoot(dataDir));
  const chunks: Buffer[] = [];
  for await (const c of readArchiveContent(objects, keyring, entryKeyOf(row))) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
