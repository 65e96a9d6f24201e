/**
 * The object store: message-sized blobs (portal copies, archive entries and,
 * with objects.kind s3, the spool's large messages and end-to-end copies:
 * src/spool/object-blobs.ts) stored and read by key, streaming. Two
 * implementations, a local directory (local-store.ts) and an S3-compatible
 * store (s3-store.ts), so nothing outside an implementation may assume a
 * file path, and the semantics below are the ones both must keep:
 *
 *   - `put` is atomic: the object becomes visible (to get/exists/list) only
 *     once all of it is stored durably; a failing source leaves nothing. A
 *     put to an existing key replaces it, also atomically.
 *   - `get` (and `getRange`) of an absent key errors the stream with SG_OBJECT_NOT_FOUND.
 *   - `delete` is idempotent.
 *   - `list(prefix)` yields every key that starts with `prefix`, in
 *     lexicographic (byte) order; `listInfo(prefix)` the same with each
 *     object's size and last-modified time (an S3 ListObjectsV2 page gives
 *     both per key, 1000 keys a page, so neither costs a request per object).
 *   - keys are validated (`validateObjectKey`) before any I/O; an invalid key
 *     is a program error, SG_OBJECT_KEY_INVALID.
 *
 * The store keeps what it is given: callers encrypt before `put` (portal
 * copies are encrypted with their own data key, see portal-store.ts; spool
 * objects are the spool's SGSPOOL1 ciphertext, see crypt-stream.ts).
 */
import type { Readable } from 'node:stream';
import { SealgateError } from '../errors.js';

/** An object as a listing shows it. */
export interface ObjectInfo {
  readonly key: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** When it was last stored (ms since the epoch): its put, or the put that replaced it. */
  readonly modifiedAt: number;
}

export interface ObjectStore {
  /** Stores `source` under `key`; resolves once it is durable and visible. `bytes`: bytes stored. */
  put(key: string, source: Readable): Promise<{ bytes: number }>;
  /** The object's bytes; errors with SG_OBJECT_NOT_FOUND when there is none. */
  get(key: string): Readable;
  /**
   * `length` bytes of the object from byte `start` (an HTTP Range read on S3):
   * errors with SG_OBJECT_NOT_FOUND when there is none, SG_STORAGE_FAILED
   * when it is shorter than start + length. Invalid bounds are a program
   * error (RangeError).
   */
  getRange(key: string, start: number, length: number): Readable;
  /** Removes the object; no error when it does not exist. */
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix` ('' for all), in lexicographic order. */
  list(prefix: string): AsyncIterable<string>;
  /** As `list`, with each object's size and time (an object removed while listing is left out). */
  listInfo(prefix: string): AsyncIterable<ObjectInfo>;
  exists(key: string): Promise<boolean>;
}

/** Longest key, in characters (ASCII only, so also bytes; S3 allows 1024). */
export const OBJECT_KEY_MAX_LENGTH = 512;
/** Longest path segment (a file name in the local store). */
export const OBJECT_SEGMENT_MAX_LENGTH = 128;

/** One path segment: starts with a letter or digit, then letters, digits, '.', '_', '-'. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A prefix: zero or more complete segments each followed by '/', then an optional partial segment. */
const PREFIX_CHARS = /^[A-Za-z0-9._/-]*$/;

function invalid(what: string, reason: string, value: string): SealgateError {
  // the key is gateway-built (ids), never content; still, log only its length
  return new SealgateError('SG_OBJECT_KEY_INVALID', {
    message: `object ${what} is invalid: ${reason}`,
    detail: { length: value.length },
  });
}

/** Why `key` is not a valid object key, or undefined when it is valid. */
export function objectKeyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'empty';
  if (key.length > OBJECT_KEY_MAX_LENGTH) return `longer than ${OBJECT_KEY_MAX_LENGTH} characters`;
  for (const seg of key.split('/')) {
    if (seg.length === 0) return 'empty path segment (leading, trailing or double slash)';
    if (seg.length > OBJECT_SEGMENT_MAX_LENGTH) return `path segment longer than ${OBJECT_SEGMENT_MAX_LENGTH} characters`;
    if (!SEGMENT.test(seg)) return 'path segments must start with a letter or digit and hold only letters, digits, ".", "_" and "-"';
  }
  return undefined;
}

/** Throws SG_OBJECT_KEY_INVALID unless `key` is a valid object key. */
export function validateObjectKey(key: string): string {
  const problem = objectKeyProblem(key);
  if (problem) throw invalid('key', problem, String(key));
  return key;
}

/** Throws SG_OBJECT_KEY_INVALID unless `prefix` could start a valid key ('' is valid). */
export function validateObjectPrefix(prefix: string): string {
  if (typeof prefix !== 'string') throw invalid('prefix', 'not a string', '');
  if (prefix.length > OBJECT_KEY_MAX_LENGTH) throw invalid('prefix', `longer than ${OBJECT_KEY_MAX_LENGTH} characters`, prefix);
  if (!PREFIX_CHARS.test(prefix)) throw invalid('prefix', 'characters outside letters, digits, ".", "_", "-" and "/"', prefix);
  const segs = prefix.split('/');
  // every complete segment (all but the last) must be a valid segment; the last may be partial or empty
  for (const seg of segs.slice(0, -1)) {
    if (!SEGMENT.test(seg) || seg.length > OBJECT_SEGMENT_MAX_LENGTH) throw invalid('prefix', 'invalid path segment', prefix);
  }
  const last = segs[segs.length - 1] ?? '';
  if (last.length > 0 && (!/^[A-Za-z0-9]/.test(last) || last.length > OBJECT_SEGMENT_MAX_LENGTH)) {
    throw invalid('prefix', 'invalid path segment', prefix);
  }
  return prefix;
}

/** Throws a RangeError unless start and length are whole numbers, start >= 0, length >= 1. */
export function checkRange(start: number, length: number): void {
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(length) || length < 1) {
    throw new RangeError(`invalid object range: start ${start}, length ${length}`);
  }
}
