/** Reads what the daemon queued, through the gateway's own spool and database code. */
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadKeyring } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { Spool } from '../../src/spool/spool.js';
import { DatabaseInlineSpool } from '../../src/spool/inline-store.js';
import { entryKeyOf, readArchiveContent } from '../../src/archive/content.js';
import { pendingAware } from '../../src/archive/pending.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { objectStoreRoot } from '../../src/objects/location.js';

export async function readSpooled(dataDir: string, masterKeyFile: string, id: string): Promise<Buffer> {
  const keyring = await loadKeyring({ masterKeyFile, create: false });
  // small messages live in the database (queue.inlineMaxBytes), larger ones in spool files: read both ways
  return withDb(dataDir, async (db) => {
    const spool = new Spool(join(dataDir, 'spool'), keyring, { store: new DatabaseInlineSpool(db), maxBytes: 0 });
    const chunks: Buffer[] = [];
    for await (const c of spool.read(id)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  });
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
  const objects = new LocalObjectStore(objectStoreRoot(dataDir));
  return withDb(dataDir, async (db) => {
    const row = await db.get<{ id: string; object_key: string; object_offset: number; object_length: number; wrapped_key: Buffer; key_id: string }>('SELECT id, object_key, object_offset, object_length, wrapped_key, key_id FROM archive_messages WHERE id = ?', [id]);
    if (!row) return undefined;
    // as the gateway reads it: from its pending piece while its pack is not stored yet
    const chunks: Buffer[] = [];
    for await (const c of readArchiveContent(pendingAware(objects, db), keyring, entryKeyOf(row))) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  });
}

/** Where message `id`'s spooled content is: in the database (small, queue.inlineMaxBytes), in a spool file, or nowhere. */
export async function spooledAt(dataDir: string, id: string): Promise<'inline' | 'file' | 'none'> {
  const inline = await withDb(dataDir, (db) => db.get('SELECT 1 AS x FROM spool_inline WHERE id = ?', [id]));
  if (inline) return 'inline';
  try {
    await access(join(dataDir, 'spool', 'msg', id.slice(-2), id));
    return 'file';
  } catch {
    return 'none';
  }
}

/**
 * Every spooled content: the files under dataDir/spool (messages, copies, temporary files) and, as
 * `inline:<id>`, the small messages kept in the database (queue.inlineMaxBytes). Sorted.
 */
export async function spooledContents(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'spool'), { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const inline = await withDb(dataDir, (db) => db.all<{ id: string }>('SELECT id FROM spool_inline'));
  return [...files, ...inline.map((r) => `inline:${r.id}`)].sort();
}
