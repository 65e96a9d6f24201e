/**
 * The durable, encrypted message spool.
 *
 * Write discipline (nothing acknowledged can be lost):
 *   1. stream the body through encryption into spool/tmp/<id> (mode 0600)
 *   2. fsync the file
 *   3. rename it to spool/msg/<shard>/<id> and fsync that directory
 *   4. the caller commits the queue rows (SQLite, synchronous=FULL)
 *   5. only then the SMTP 250
 * A crash before 4 leaves a file without a row: an orphan, removed at start.
 *
 * Descriptors: the spool file's descriptor belongs to its SpoolFileWriter
 * (file-writer.ts states the rule); the directory handle of an fsync and the
 * read stream of `read()` are each closed by the one function or stream that
 * opened them, also on error and abort paths.
 */
import { createReadStream } from 'node:fs';
import { PassThrough, Readable as ReadableStream } from 'node:stream';
import { mkdir, readdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { SealgateError } from '../errors.js';
import type { Keyring } from '../crypto/keyring.js';
import { createDecryptStream, createEncryptStream } from './crypt-stream.js';
import { isWriterFailure, writeSpooledContent } from './file-writer.js';
import type { InlineSpoolStore } from './inline-store.js';
import type { Queryable } from '../db/database.js';
import { storageError, writeError } from './write-error.js';
import { fsyncDir } from '../fs/fsync-dir.js';

export interface PendingSpoolFile {
  readonly id: string;
  readonly tmpPath: string;
  /** Encrypted bytes written. */
  readonly bytes: number;
  /**
   * Makes the content durable on its own: a file is fsync'd and renamed into place (returns its path); inline
   * content is written to the database in a transaction of its own (returns "inline").
   */
  commit(): Promise<string>;
  /**
   * Set when the content is small enough to live in the database (`queue.inlineMaxBytes`): `store(tx)` writes it
   * with the caller's own statements, so it becomes durable with the queue rows in that one commit. Call it
   * instead of `commit()`, never both.
   */
  readonly inline?: { store(tx: Queryable): Promise<void> } | undefined;
  /** Removes the file, whether committed or not. */
  discard(): Promise<void>;
}

/** Copies of message <id> live in <shard>/<id>.copies/<name>. */
const COPY_DIR_SUFFIX = '.copies';
/** Copy names are chosen by the gateway (e.g. "r3"), never by a sender. */
const COPY_NAME = /^[a-z0-9-]{1,32}$/;

/** The encryption context of a copy: its message and its name, so copies cannot be swapped. */
function copyContext(id: string, name: string): string {
  return `${id}/${name}`;
}

/** Pure: where a message's file lives, relative to the spool root — sharded by the last two (random) characters of the id. */
export function spooledMessagePath(id: string): string {
  return join('msg', id.slice(-2), id);
}

export class Spool {
  readonly tmpDir: string;
  readonly msgDir: string;

  /**
   * `inline`: where messages whose encrypted content is at most `maxBytes` live instead of a file (the
   * database); absent or 0: every message is a file. Copies are always files.
   */
  constructor(
    readonly root: string,
    private readonly keyring: Keyring,
    private readonly inline?: { readonly store: InlineSpoolStore; readonly maxBytes: number },
  ) {
    this.tmpDir = join(root, 'tmp');
    this.msgDir = join(root, 'msg');
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(this.msgDir, { recursive: true, mode: 0o700 });
  }

  pathFor(id: string): string {
    return join(this.root, spooledMessagePath(id));
  }

  /** The directory of a message's per-recipient copies (E2E-encrypted variants), beside the message in its shard. */
  copyDirFor(id: string): string {
    return `${this.pathFor(id)}${COPY_DIR_SUFFIX}`;
  }

  /**
   * Stores one derived copy of message `id` (e.g. recipient 3's PGP/MIME
   * variant) under `name`, encrypted at rest like the message and bound to
   * "<id>/<name>", so a copy cannot be passed off as another message or
   * another recipient's copy. Same write discipline: fsync, then rename.
   */
  async writeCopy(id: string, name: string, source: Readable, stages: readonly Transform[] = []): Promise<PendingSpoolFile> {
    if (!COPY_NAME.test(name)) throw new SealgateError('SG_STORAGE_FAILED', { message: 'invalid spool copy name', detail: { name } });
    const context = copyContext(id, name);
    return this.writeAt(join(this.tmpDir, `${id}${COPY_DIR_SUFFIX}-${name}`), join(this.copyDirFor(id), name), context, source, stages, 0);
  }

  /** Decrypting read stream of a copy written by `writeCopy`. */
  readCopy(id: string, name: string): Readable {
    return this.readFile(join(this.copyDirFor(id), name), copyContext(id, name));
  }

  /**
   * Encrypts `source` (after passing it through `stages`) into a temporary
   * spool file. Never buffers the message; backpressure flows to the socket.
   * Rejects with SG_STORAGE_FULL / SG_STORAGE_FAILED when the file system
   * fails; an error of `source` or a stage is rethrown as it is (a
   * SealgateError keeps its code), so the caller can tell its data's failure
   * from the disk's (write-error.ts).
   */
  async write(id: string, source: Readable, stages: readonly Transform[] = []): Promise<PendingSpoolFile> {
    return this.writeAt(join(this.tmpDir, id), this.pathFor(id), id, source, stages, this.inline?.maxBytes ?? 0);
  }

  /**
   * Encrypts into memory when the result is at most `maxInline` bytes (0 without an inline store), else into
   * `tmpPath`; a file's commit renames it to `finalPath` and fsyncs every directory the rename changed.
   */
  private async writeAt(tmpPath: string, finalPath: string, context: string, source: Readable, stages: readonly Transform[], maxInline: number): Promise<PendingSpoolFile> {
    let committed = false;
    // the writer owns the descriptor (see file-writer.ts); it is closed before the file is renamed
    let written;
    try {
      written = await writeSpooledContent(tmpPath, source, [...stages, createEncryptStream(this.keyring, context)], maxInline);
    } catch (err) {
      // the disk's failures are storage errors; the source's and the stages' keep their own identity (write-error.ts)
      throw writeError(err, isWriterFailure(err));
    }
    const bytes = written.bytes;
    const inlineStore = this.inline?.store;
    const content = written.inline;
    if (content !== undefined && inlineStore) {
      let stored = false;
      return {
        id: context,
        tmpPath,
        bytes,
        inline: {
          store: async (tx) => {
            await inlineStore.put(tx, context, content);
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
    const discard = async (): Promise<void> => {
      await unlink(committed ? finalPath : tmpPath).catch(() => undefined);
    };
    return {
      id: context,
      tmpPath,
      bytes,
      discard,
      commit: async () => {
        try {
          const dir = dirname(finalPath);
          const created = await mkdir(dir, { recursive: true, mode: 0o700 });
          await rename(tmpPath, finalPath);
          committed = true;
          await fsyncDir(dir);
          // new directories (a shard, a copy directory) are entries of their parents: those changed too
          if (created !== undefined) for (let d = dir; d !== this.msgDir && d.startsWith(this.msgDir); ) await fsyncDir((d = dirname(d)));
          return finalPath;
        } catch (err) {
          await discard();
          throw storageError(err);
        }
      },
    };
  }

  /** Decrypting read stream of a spooled message (from the database when it is stored inline, else its file). */
  read(id: string): Readable {
    const inline = this.inline?.store;
    if (!inline) return this.readFile(this.pathFor(id), id);
    const out = new PassThrough();
    inline.get(id).then(
      (content) => {
        if (out.destroyed) return;
        const inner = content === undefined ? this.readFile(this.pathFor(id), id) : ReadableStream.from([content]).pipe(createDecryptStream(this.keyring, id));
        inner.on('error', (err) => out.destroy(err));
        // a reader that stops early releases the file too
        out.once('close', () => inner.destroy());
        inner.pipe(out);
      },
      (err: unknown) => out.destroy(storageError(err)),
    );
    return out;
  }

  private readFile(path: string, context: string): Readable {
    const decrypt = createDecryptStream(this.keyring, context);
    const file = createReadStream(path);
    file.on('error', (err) => decrypt.destroy(err));
    // the file stream owns its descriptor (autoClose): a reader that stops early
    // (destroys the decrypting stream) must release it too, not leave it paused
    decrypt.once('close', () => file.destroy());
    return file.pipe(decrypt);
  }

  /** Removes a message and every copy derived from it. */
  async remove(id: string): Promise<void> {
    if (this.inline) await this.inline.store.delete(id);
    // unlink, not rm: one system call for a file that is usually not there (the content was inline)
    await unlink(this.pathFor(id)).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
    await rm(this.copyDirFor(id), { force: true, recursive: true });
  }

  /**
   * Start-up cleanup: every temporary file, and every spooled file whose id has
   * no queue row (`isQueued` says), is a transaction that never got its 250.
   */
  async removeOrphans(isQueued: (id: string) => Promise<boolean>): Promise<{ tmp: number; orphans: number }> {
    let tmp = 0;
    let orphans = (await this.inline?.store.removeUnqueued()) ?? 0;
    for (const name of await readdir(this.tmpDir)) {
      await rm(join(this.tmpDir, name), { force: true });
      tmp++;
    }
    for (const shard of await readdir(this.msgDir)) {
      const dir = join(this.msgDir, shard);
      for (const name of await readdir(dir)) {
        // a copy directory lives and dies with its message
        const id = name.endsWith(COPY_DIR_SUFFIX) ? name.slice(0, -COPY_DIR_SUFFIX.length) : name;
        if (!(await isQueued(id))) {
          await rm(join(dir, name), { force: true, recursive: true });
          orphans++;
        }
      }
    }
    return { tmp, orphans };
  }
}
