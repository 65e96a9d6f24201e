/**
 * The spool's content as local files (`objects.kind: local`, the default;
 * blobs.ts states the rules every backend keeps).
 *
 * Layout under `root` (dataDir/spool, directories 0700, files 0600):
 *   tmp/<id>                          a message being written
 *   tmp/<id>.copies-<name>            a copy being written
 *   msg/<shard>/<id>                  a committed message (shard: the id's last two characters)
 *   msg/<shard>/<id>.copies/<name>    its committed copies
 *
 * Write discipline: stream into the temporary file, fsync it, close it
 * (file-writer.ts owns the descriptor), then `commit` renames it into place
 * and fsyncs every directory the rename changed. A crash before the commit
 * leaves a temporary file, removed at start.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { fsyncDir } from '../fs/fsync-dir.js';
import type { HeldBlobs, SpoolBlobName, SpoolBlobs, WrittenSpoolContent } from './blobs.js';
import { isWriterFailure, writeSpooledContent } from './file-writer.js';
import { storageError, writeError } from './write-error.js';

/** Copies of message <id> live in <shard>/<id>.copies/<name>. */
export const COPY_DIR_SUFFIX = '.copies';

/** Pure: where a message's file lives, relative to the spool root — sharded by the last two (random) characters of the id. */
export function spooledMessagePath(id: string): string {
  return join('msg', id.slice(-2), id);
}

export class LocalSpoolFiles implements SpoolBlobs {
  readonly kind = 'files';
  readonly tmpDir: string;
  readonly msgDir: string;

  constructor(readonly root: string) {
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

  copyDirFor(id: string): string {
    return `${this.pathFor(id)}${COPY_DIR_SUFFIX}`;
  }

  private finalPath(name: SpoolBlobName): string {
    return name.copy === undefined ? this.pathFor(name.id) : join(this.copyDirFor(name.id), name.copy);
  }

  private tmpPath(name: SpoolBlobName): string {
    return join(this.tmpDir, name.copy === undefined ? name.id : `${name.id}${COPY_DIR_SUFFIX}-${name.copy}`);
  }

  async write(name: SpoolBlobName, source: Readable, stages: readonly Transform[], maxInline: number): Promise<WrittenSpoolContent> {
    const tmpPath = this.tmpPath(name);
    const finalPath = this.finalPath(name);
    // the writer owns the descriptor (see file-writer.ts); it is closed before the file is renamed
    let written;
    try {
      written = await writeSpooledContent(tmpPath, source, stages, maxInline);
    } catch (err) {
      // the disk's failures are storage errors; the source's and the stages' keep their own identity (write-error.ts)
      throw writeError(err, isWriterFailure(err));
    }
    if (written.inline !== undefined) return { bytes: written.bytes, inline: written.inline };
    let committed = false;
    const discard = async (): Promise<void> => {
      await unlink(committed ? finalPath : tmpPath).catch(() => undefined);
    };
    return {
      bytes: written.bytes,
      blob: {
        bytes: written.bytes,
        tmpPath,
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
      },
    };
  }

  read(name: SpoolBlobName): Readable {
    // the file stream owns its descriptor (autoClose); the spool destroys it when its reader stops early
    return createReadStream(this.finalPath(name));
  }

  async remove(id: string, held?: HeldBlobs): Promise<void> {
    // unlink, not rm: one system call for a file that is usually not there (the content was inline); none when the caller
    // knows it is not there (each failed call costs an error object on the event loop)
    if (held?.blob !== false) {
      await unlink(this.pathFor(id)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
    }
    if (held?.copies === false) return;
    // most messages have no copies: rmdir is one system call where rm's recursive walk was several (and a synchronous
    // lstat on the event loop); a directory that holds copies is then removed whole
    await rmdir(this.copyDirFor(id)).catch(async (err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      await rm(this.copyDirFor(id), { force: true, recursive: true });
    });
  }

  /** Start-up only (one node owns this directory): every temporary file goes, and every file of an unqueued message. */
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
