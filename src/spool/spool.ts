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
import { mkdir, readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { SealgateError } from '../errors.js';
import type { Keyring } from '../crypto/keyring.js';
import { createDecryptStream, createEncryptStream } from './crypt-stream.js';
import { writeNewFile } from './file-writer.js';
import { fsyncDir } from '../fs/fsync-dir.js';

export interface PendingSpoolFile {
  readonly id: string;
  readonly tmpPath: string;
  /** Encrypted bytes written. */
  readonly bytes: number;
  /** fsync'd rename into place; returns the final path. */
  commit(): Promise<string>;
  /** Removes the file, whether committed or not. */
  discard(): Promise<void>;
}

function storageError(err: unknown): SealgateError {
  if (err instanceof SealgateError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new SealgateError('SG_STORAGE_FULL', { cause: err, detail: { errno: code } });
  return new SealgateError('SG_STORAGE_FAILED', { cause: err, detail: { errno: code ?? 'unknown' } });
}

export class Spool {
  readonly tmpDir: string;
  readonly msgDir: string;

  constructor(
    readonly root: string,
    private readonly keyring: Keyring,
  ) {
    this.tmpDir = join(root, 'tmp');
    this.msgDir = join(root, 'msg');
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(this.msgDir, { recursive: true, mode: 0o700 });
  }

  /** Shard by the last two (random) characters of the id. */
  pathFor(id: string): string {
    return join(this.msgDir, id.slice(-2), id);
  }

  /**
   * Encrypts `source` (after passing it through `stages`) into a temporary
   * spool file. Never buffers the message; backpressure flows to the socket.
   */
  async write(id: string, source: Readable, stages: readonly Transform[] = []): Promise<PendingSpoolFile> {
    const tmpPath = join(this.tmpDir, id);
    const finalPath = this.pathFor(id);
    let committed = false;
    // the writer owns the descriptor (see file-writer.ts); it is closed before the file is renamed
    let bytes: number;
    try {
      bytes = await writeNewFile(tmpPath, source, [...stages, createEncryptStream(this.keyring, id)]);
    } catch (err) {
      throw storageError(err);
    }
    const discard = async (): Promise<void> => {
      await unlink(committed ? finalPath : tmpPath).catch(() => undefined);
    };
    return {
      id,
      tmpPath,
      bytes,
      discard,
      commit: async () => {
        try {
          const shard = join(this.msgDir, id.slice(-2));
          const createdShard = (await mkdir(shard, { recursive: true, mode: 0o700 })) !== undefined;
          await rename(tmpPath, finalPath);
          committed = true;
          await fsyncDir(shard);
          // the parent changed only if the shard directory is new
          if (createdShard) await fsyncDir(this.msgDir);
          return finalPath;
        } catch (err) {
          await discard();
          throw storageError(err);
        }
      },
    };
  }

  /** Decrypting read stream of a spooled message. */
  read(id: string): Readable {
    const decrypt = createDecryptStream(this.keyring, id);
    const file = createReadStream(this.pathFor(id));
    file.on('error', (err) => decrypt.destroy(err));
    // the file stream owns its descriptor (autoClose): a reader that stops early
    // (destroys the decrypting stream) must release it too, not leave it paused
    decrypt.once('close', () => file.destroy());
    return file.pipe(decrypt);
  }

  async remove(id: string): Promise<void> {
    await rm(this.pathFor(id), { force: true });
  }

  /**
   * Start-up cleanup: every temporary file, and every spooled file whose id has
   * no queue row (`isQueued` says), is a transaction that never got its 250.
   */
  async removeOrphans(isQueued: (id: string) => Promise<boolean>): Promise<{ tmp: number; orphans: number }> {
    let tmp = 0;
    let orphans = 0;
    for (const name of await readdir(this.tmpDir)) {
      await rm(join(this.tmpDir, name), { force: true });
      tmp++;
    }
    for (const shard of await readdir(this.msgDir)) {
      const dir = join(this.msgDir, shard);
      for (const name of await readdir(dir)) {
        if (!(await isQueued(name))) {
          await rm(join(dir, name), { force: true });
          orphans++;
        }
      }
    }
    return { tmp, orphans };
  }
}
