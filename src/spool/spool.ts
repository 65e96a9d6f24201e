/**
 * The durable, encrypted message spool.
 *
 * Write discipline (nothing acknowledged can be lost):
 *   1. stream the body through encryption: small content stays in memory for
 *      the database (inline-store.ts); larger content goes to the spool's
 *      backend (blobs.ts): a temporary file in spool/tmp (local files), or
 *      the object store's atomic put (objects.kind: s3)
 *   2. commit it: the file is fsync'd, renamed into spool/msg/<shard>/<id>
 *      and its directory fsync'd; an object is already stored when the put
 *      resolved
 *   3. the caller commits the queue rows (with inline content in the same
 *      transaction)
 *   4. only then the SMTP 250
 * A crash before 3 leaves content without a row: an orphan, removed at start
 * (and, in the object store, by the periodic sweep).
 *
 * Descriptors: the spool file's descriptor belongs to its SpoolFileWriter
 * (file-writer.ts states the rule); the directory handle of an fsync and the
 * read stream of `read()` are each closed by the one function or stream that
 * opened them, also on error and abort paths.
 */
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { SealgateError } from '../errors.js';
import type { Keyring } from '../crypto/keyring.js';
import { createDecryptStream, createEncryptStream, decryptWhole } from './crypt-stream.js';
import { readBounded } from '../stream/read-bounded.js';
import type { InlineSpoolStore } from './inline-store.js';
import type { SqlQueryable } from '../db/sql-database.js';
import { storageError } from './write-error.js';
import type { SpoolBlobName, SpoolBlobs } from './blobs.js';
import { LocalSpoolFiles, spooledMessagePath } from './local-blobs.js';

export { spooledMessagePath };

export interface PendingSpoolFile {
  readonly id: string;
  readonly tmpPath: string;
  /** Encrypted bytes written. */
  readonly bytes: number;
  /**
   * Makes the content durable on its own: a file is fsync'd and renamed into place (returns its path), an
   * object is already stored (returns `object:<key>`); inline content is written to the database in a
   * transaction of its own (returns "inline").
   */
  commit(): Promise<string>;
  /**
   * Set when the content is small enough to live in the database (`queue.inlineMaxBytes`): `store(tx)` writes it
   * with the caller's own statements, so it becomes durable with the queue rows in that one commit. Call it
   * instead of `commit()`, never both.
   */
  readonly inline?: InlineContent | undefined;
  /** Removes the content, whether committed or not. */
  discard(): Promise<void>;
}

/** Content small enough to live in the database, written with the caller's own statements. */
export interface InlineContent {
  /** Writes it with `tx`'s statements (durable when `tx` commits). */
  store(tx: SqlQueryable): Promise<void>;
  /** The ciphertext, for a caller that writes the row in a statement of its own (then it calls `written`). */
  readonly content: Buffer;
  /** The caller wrote `content` as this message's row in its transaction: kept in memory as `store` would. */
  written(): void;
}

/** Copy names are chosen by the gateway (e.g. "r3"), never by a sender. */
export const COPY_NAME = /^[a-z0-9-]{1,32}$/;

/** The encryption context of a copy: its message and its name, so copies cannot be swapped. */
function copyContext(id: string, name: string): string {
  return `${id}/${name}`;
}

export class Spool {
  readonly tmpDir: string;
  readonly msgDir: string;
  /** Where content larger than the inline limit, and every copy, is kept (blobs.ts). */
  readonly blobs: SpoolBlobs;

  /**
   * `inline`: where messages whose encrypted content is at most `maxBytes` live instead of a blob (the
   * database); absent or 0: every message is a blob. Copies are always blobs. `blobs`: the backend, by
   * default files under `root` (with `objects.kind: s3`, the object store: object-blobs.ts).
   */
  constructor(
    readonly root: string,
    private readonly keyring: Keyring,
    private readonly inline?: { readonly store: InlineSpoolStore; readonly maxBytes: number },
    blobs?: SpoolBlobs,
  ) {
    this.tmpDir = join(root, 'tmp');
    this.msgDir = join(root, 'msg');
    this.blobs = blobs ?? new LocalSpoolFiles(root);
  }

  async init(): Promise<void> {
    await this.blobs.init();
  }

  /** Where a message's file is with the local files backend. */
  pathFor(id: string): string {
    return join(this.root, spooledMessagePath(id));
  }

  /** The directory of a message's per-recipient copies (E2E-encrypted variants) with the local files backend, beside the message in its shard. */
  copyDirFor(id: string): string {
    return `${this.pathFor(id)}.copies`;
  }

  /**
   * Stores one derived copy of message `id` (e.g. recipient 3's PGP/MIME
   * variant) under `name`, encrypted at rest like the message and bound to
   * "<id>/<name>", so a copy cannot be passed off as another message or
   * another recipient's copy. Same write discipline as a message.
   */
  async writeCopy(id: string, name: string, source: Readable, stages: readonly Transform[] = []): Promise<PendingSpoolFile> {
    if (!COPY_NAME.test(name)) throw new SealgateError('SG_STORAGE_FAILED', { message: 'invalid spool copy name', detail: { name } });
    return this.writeAt({ id, copy: name }, copyContext(id, name), source, stages, 0);
  }

  /** Decrypting read stream of a copy written by `writeCopy`. */
  readCopy(id: string, name: string): Readable {
    return this.readBlob({ id, copy: name }, copyContext(id, name));
  }

  /**
   * Encrypts `source` (after passing it through `stages`) into the spool.
   * Never buffers the message beyond the inline limit; backpressure flows to
   * the socket. Rejects with SG_STORAGE_FULL / SG_STORAGE_FAILED when the
   * storage fails; an error of `source` or a stage is rethrown as it is (a
   * SealgateError keeps its code), so the caller can tell its data's failure
   * from the storage's (write-error.ts).
   */
  async write(id: string, source: Readable, stages: readonly Transform[] = []): Promise<PendingSpoolFile> {
    return this.writeAt({ id }, id, source, stages, this.inline?.maxBytes ?? 0);
  }

  /** Encrypts into memory when the result is at most `maxInline` bytes (0 without an inline store), else into a blob. */
  private async writeAt(name: SpoolBlobName, context: string, source: Readable, stages: readonly Transform[], maxInline: number): Promise<PendingSpoolFile> {
    const written = await this.blobs.write(name, source, [...stages, createEncryptStream(this.keyring, context)], maxInline);
    const bytes = written.bytes;
    const inlineStore = this.inline?.store;
    const content = written.inline;
    if (content !== undefined && inlineStore) {
      let stored = false;
      return {
        id: context,
        tmpPath: '',
        bytes,
        inline: {
          store: async (tx) => {
            await inlineStore.put(tx, context, content);
            stored = true;
          },
          content,
          written: () => {
            inlineStore.remember(context, content);
            stored = true;
          },
        },
        discard: async () => {
          // stored through a caller's transaction that then failed: nothing was committed, the delete finds nothing
          if (stored) await inlineStore.delete(context).catch(() => undefined);
        },
        commit: async () => {
          try {
            await inlineStore.putDurably(context, content);
            stored = true;
            return 'inline';
          } catch (err) {
            throw storageError(err);
          }
        },
      };
    }
    const blob = written.blob;
    if (!blob) throw new SealgateError('SG_STORAGE_FAILED', { message: 'spool content held in memory without an inline store' });
    return { id: context, tmpPath: blob.tmpPath, bytes, discard: () => blob.discard(), commit: () => blob.commit() };
  }

  /** Decrypting read stream of a spooled message (from the database when it is stored inline, else its blob). */
  read(id: string): Readable {
    const inline = this.inline?.store;
    if (!inline) return this.readBlob({ id }, id);
    const out = new PassThrough();
    inline.get(id).then(
      (content) => {
        if (out.destroyed) return;
        if (content !== undefined) {
          // content kept inline is small: decrypted in one call (the same checks and errors as the stream's), no
          // stream of its own to read it through
          let plaintext: Buffer;
          try {
            plaintext = decryptWhole(this.keyring, id, content);
          } catch (err) {
            out.destroy(err as Error);
            return;
          }
          out.end(plaintext);
          return;
        }
        const inner = this.readBlob({ id }, id);
        inner.on('error', (err) => out.destroy(err));
        // a reader that stops early releases the file too
        out.once('close', () => inner.destroy());
        inner.pipe(out);
      },
      (err: unknown) => out.destroy(storageError(err)),
    );
    return out;
  }

  /**
   * A spooled message whole, when it is at most `maxBytes` (undefined when
   * larger): content stored inline is decrypted in one call (a small
   * message's stream pipeline cost more than its decryption), a blob is
   * read through its stream. The same checks as `read`.
   */
  async readWhole(id: string, maxBytes: number): Promise<Buffer | undefined> {
    let content: Buffer | undefined;
    try {
      content = await this.inline?.store.get(id);
    } catch (err) {
      throw storageError(err);
    }
    if (content === undefined) return readBounded(this.readBlob({ id }, id), maxBytes);
    const plaintext = decryptWhole(this.keyring, id, content);
    return plaintext.length > maxBytes ? undefined : plaintext;
  }

  private readBlob(name: SpoolBlobName, context: string): Readable {
    const decrypt = createDecryptStream(this.keyring, context);
    const stored = this.blobs.read(name);
    stored.on('error', (err) => decrypt.destroy(err));
    // the stored stream owns its descriptor or request: a reader that stops early
    // (destroys the decrypting stream) must release it too, not leave it paused
    decrypt.once('close', () => stored.destroy());
    return stored.pipe(decrypt);
  }

  /**
   * After `removeIfFinished` committed: the message's inline content went
   * with its queue rows in that commit, so only a spool file and copies are
   * left to remove (one database read fewer than `remove` per message).
   * `copies`: whether any recipient has an end-to-end copy, when the caller
   * read it; a content known to have been inline (kept in memory) and no
   * copies leave nothing to look for.
   */
  async removeFinished(id: string, known?: { readonly copies: boolean }): Promise<void> {
    const inline = this.inline?.store.forget(id) ?? false;
    await this.blobs.remove(id, known ? { blob: !inline, copies: known.copies } : undefined);
  }

  /** Removes a message and every copy derived from it. */
  async remove(id: string): Promise<void> {
    if (this.inline) await this.inline.store.delete(id);
    await this.blobs.remove(id);
  }

  /**
   * Start-up cleanup: every temporary file, and all content whose id has no
   * queue row (`isQueued` says), is a transaction that never got its 250 or
   * a message that left the queue. `inlineMinAgeMs`: keep database content
   * younger than this (several nodes on one database: another node may be
   * between writing an internal message's content and its queue rows).
   */
  async removeOrphans(isQueued: (id: string) => Promise<boolean>, now = Date.now(), options: { readonly inlineMinAgeMs?: number } = {}): Promise<{ tmp: number; orphans: number }> {
    const minAge = options.inlineMinAgeMs ?? 0;
    const inline = (await this.inline?.store.removeUnqueued(minAge > 0 ? now - minAge : undefined)) ?? 0;
    const blobs = await this.blobs.removeOrphans(isQueued, now);
    return { tmp: blobs.tmp, orphans: inline + blobs.orphans };
  }
}
