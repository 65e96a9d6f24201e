/**
 * Copying every object of one store into another under the same keys, and
 * checking the copy by SHA-256 (`sealgate migrate`: a single node's local
 * store into the shared S3-compatible one, docs/scale-out.md "Moving a single
 * node to the shared stores"). Objects are ciphertext already; they are
 * streamed through unchanged, never decrypted.
 *
 * Resumable by content: an object the target already holds with the same
 * size and SHA-256 is skipped, anything else under the key is replaced (a
 * put is atomic, so an interrupted put left nothing or a whole older object).
 * The target's keys are held in memory for the run (about 100 bytes each).
 *
 * The source is anything that lists keys with sizes and streams an object:
 * an object store, or the file spool's queued blobs under their spool/ keys
 * (src/spool/file-spool-source.ts). `prefix` limits both sides to one part
 * of the key space; `ignore` leaves target keys under it to another part.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SealgateError } from '../errors.js';
import type { ObjectStore } from './object-store.js';

/** SHA-256 (hex) and length of a stream's bytes. */
export async function sha256Of(source: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of source) {
    const buf = chunk as Buffer;
    hash.update(buf);
    bytes += buf.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** What the copy reads from: an object store, or any source of keyed blobs with their sizes. */
export interface BlobSource {
  listInfo(prefix: string): AsyncIterable<{ readonly key: string; readonly bytes: number }>;
  get(key: string): Readable;
}

/** Which keys a copy or a check covers: those under `prefix` ('' for all), but in the target not those under `ignore` (another part's). */
export interface KeyScope {
  readonly prefix?: string;
  readonly ignore?: string;
}

/** The object's hash, or undefined when the store has no object under the key. */
async function hashIfPresent(store: ObjectStore, key: string): Promise<{ sha256: string; bytes: number } | undefined> {
  try {
    return await sha256Of(store.get(key));
  } catch (err) {
    if (err instanceof SealgateError && err.code === 'SG_OBJECT_NOT_FOUND') return undefined;
    throw err;
  }
}

async function sizes(store: ObjectStore, scope: KeyScope): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const o of store.listInfo(scope.prefix ?? '')) if (scope.ignore === undefined || !o.key.startsWith(scope.ignore)) out.set(o.key, o.bytes);
  return out;
}

export interface ObjectCopyResult {
  readonly objects: number;
  readonly copied: number;
  /** Already in the target with the same size and SHA-256. */
  readonly skipped: number;
  readonly bytes: number;
}

/** Copies every object of `source` missing from `target` or different there. */
export async function copyObjects(source: BlobSource, target: ObjectStore, afterObject?: (done: number) => void | Promise<void>, scope: KeyScope = {}): Promise<ObjectCopyResult> {
  const present = await sizes(target, scope);
  let objects = 0;
  let copied = 0;
  let skipped = 0;
  let bytes = 0;
  for await (const o of source.listInfo(scope.prefix ?? '')) {
    objects++;
    let same = false;
    if (present.get(o.key) === o.bytes) {
      const [a, b] = await Promise.all([sha256Of(source.get(o.key)), hashIfPresent(target, o.key)]);
      same = b !== undefined && a.sha256 === b.sha256 && a.bytes === b.bytes;
    }
    if (same) skipped++;
    else {
      bytes += (await target.put(o.key, source.get(o.key))).bytes;
      copied++;
    }
    await afterObject?.(objects);
  }
  return { objects, copied, skipped, bytes };
}

export interface ObjectVerifyResult {
  readonly objects: number;
  readonly bytes: number;
  /** Keys whose target object differs from the source's (hash or length). */
  readonly different: readonly string[];
  /** Source keys the target lacks. */
  readonly missing: readonly string[];
  /** Target keys the source does not have. */
  readonly extra: readonly string[];
}

/** Reads every object on both sides and compares their SHA-256; lists at most `keep` keys per kind of difference. */
export async function verifyObjects(source: BlobSource, target: ObjectStore, keep = 20, scope: KeyScope = {}): Promise<ObjectVerifyResult & { readonly problems: number }> {
  const targetKeys = await sizes(target, scope);
  const different: string[] = [];
  const missing: string[] = [];
  let problems = 0;
  let objects = 0;
  let bytes = 0;
  for await (const o of source.listInfo(scope.prefix ?? '')) {
    objects++;
    const a = await sha256Of(source.get(o.key));
    bytes += a.bytes;
    const b = targetKeys.has(o.key) ? await hashIfPresent(target, o.key) : undefined;
    targetKeys.delete(o.key);
    if (b === undefined) {
      problems++;
      if (missing.length < keep) missing.push(o.key);
    } else if (a.sha256 !== b.sha256 || a.bytes !== b.bytes) {
      problems++;
      if (different.length < keep) different.push(o.key);
    }
  }
  problems += targetKeys.size;
  return { objects, bytes, different, missing, extra: [...targetKeys.keys()].slice(0, keep), problems };
}
