/**
 * The file spool (dataDir/spool, local-blobs.ts) read as a source of objects
 * under the keys the object spool uses (object-blobs.ts): what `sealgate
 * migrate` copies so that queued messages larger than queue.inlineMaxBytes,
 * and their end-to-end copies, come along to the shared store
 * (docs/scale-out.md "Moving a single node to the shared stores").
 *
 *   msg/<shard>/<id>                 ->  spool/<id>/message
 *   msg/<shard>/<id>.copies/<name>   ->  spool/<id>/copies/<name>
 *
 * The bytes are the same in both spools: the Spool (spool.ts) encrypts
 * before a backend sees anything, under the same context in both (the queue
 * id; "<id>/<name>" for a copy), so a file is carried byte for byte and is
 * never decrypted here.
 *
 * Only the blobs of queued messages are listed: temporary files (tmp/, a
 * write that never got its 250) and the files of messages no longer queued
 * are orphans the gateway removes at its next start; they are counted, not
 * copied.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { objectKeyProblem } from '../objects/object-store.js';
import type { SpoolBlobName } from './blobs.js';
import { COPY_DIR_SUFFIX } from './local-blobs.js';
import { SPOOL_OBJECT_PREFIX } from './object-blobs.js';
import { COPY_NAME } from './spool.js';

/** An entry of a shard directory: a message's file, or its copy directory. */
export type ShardEntry = { readonly kind: 'message'; readonly id: string } | { readonly kind: 'copies'; readonly id: string };

/** Pure: what a name in msg/<shard>/ is (`dir`: it is a directory); undefined for anything the spool never writes there. */
export function shardEntry(name: string, dir: boolean): ShardEntry | undefined {
  if (dir) {
    if (!name.endsWith(COPY_DIR_SUFFIX)) return undefined;
    const id = name.slice(0, -COPY_DIR_SUFFIX.length);
    return id === '' ? undefined : { kind: 'copies', id };
  }
  return name === '' || name.includes(COPY_DIR_SUFFIX) ? undefined : { kind: 'message', id: name };
}

/** Pure: the object key of a blob, or why no key can hold it (an id or copy name the gateway never writes). */
export function spoolKeyOf(name: SpoolBlobName): { readonly key: string } | { readonly problem: string } {
  if (name.copy !== undefined && !COPY_NAME.test(name.copy)) return { problem: 'not a copy name the gateway writes' };
  const key = `${SPOOL_OBJECT_PREFIX}${name.id}/${name.copy === undefined ? 'message' : `copies/${name.copy}`}`;
  // the id must be one key segment: no slash, nothing a key cannot hold
  const problem = name.id.includes('/') ? 'a slash in the id' : objectKeyProblem(key);
  return problem === undefined ? { key } : { problem };
}

export interface SpoolFile {
  readonly name: SpoolBlobName;
  readonly key: string;
  readonly path: string;
  readonly bytes: number;
}

export interface FileSpoolListing {
  /** The committed blobs of queued messages, in key order. */
  readonly files: readonly SpoolFile[];
  /** Files (or copy directories) of messages no longer queued, and temporary files: not copied. */
  readonly orphans: number;
  /** Queued messages' blobs no object key can hold (at most 20 named). */
  readonly unfit: readonly string[];
}

async function entries(dir: string): Promise<{ name: string; dir: boolean; file: boolean }[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).map((e) => ({ name: e.name, dir: e.isDirectory(), file: e.isFile() }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Lists dataDir/spool (`root`): every committed blob of a message `isQueued` says is queued. */
export async function listFileSpool(root: string, isQueued: (id: string) => boolean): Promise<FileSpoolListing> {
  const files: SpoolFile[] = [];
  const unfit: string[] = [];
  let orphans = (await entries(join(root, 'tmp'))).length;
  const add = async (name: SpoolBlobName, path: string): Promise<void> => {
    const k = spoolKeyOf(name);
    if ('problem' in k) {
      if (unfit.length < 20) unfit.push(`${name.id}${name.copy === undefined ? '' : ` copy ${name.copy}`} (${k.problem})`);
      return;
    }
    files.push({ name, key: k.key, path, bytes: (await stat(path)).size });
  };
  for (const shard of await entries(join(root, 'msg'))) {
    if (!shard.dir) continue;
    const shardDir = join(root, 'msg', shard.name);
    for (const e of await entries(shardDir)) {
      const entry = shardEntry(e.name, e.dir);
      if (entry === undefined || (entry.kind === 'message' && !e.file)) continue;
      if (!isQueued(entry.id)) {
        orphans++;
        continue;
      }
      const path = join(shardDir, e.name);
      if (entry.kind === 'message') await add({ id: entry.id }, path);
      else for (const c of await entries(path)) if (c.file) await add({ id: entry.id, copy: c.name }, join(path, c.name));
    }
  }
  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { files, orphans, unfit };
}

/** The listed files as a source for copy-objects.ts: their keys and sizes, and each file's bytes as they are. */
export function fileSpoolSource(files: readonly SpoolFile[]): { listInfo(prefix: string): AsyncIterable<{ key: string; bytes: number }>; get(key: string): Readable } {
  const byKey = new Map(files.map((f) => [f.key, f]));
  return {
    async *listInfo(prefix: string) {
      for (const f of files) if (f.key.startsWith(prefix)) yield { key: f.key, bytes: f.bytes };
    },
    get(key: string): Readable {
      const f = byKey.get(key);
      // a program error: copy-objects.ts asks only for keys it was given
      if (f === undefined) throw new Error(`not a listed spool file: ${key}`);
      return createReadStream(f.path);
    },
  };
}
