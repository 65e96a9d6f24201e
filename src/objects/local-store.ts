/**
 * The object store over a local directory (see object-store.ts for the
 * semantics every implementation keeps).
 *
 * Layout under `root` (directories 0700, files 0600):
 *   tmp/<random>.tmp        a put in progress (never a valid key: keys are under objects/)
 *   objects/<a>/<b>/<c>@    the object with key "a/b/c": every segment but the
 *                           last is a directory; the file name is the last
 *                           segment + "@", a character keys cannot hold, so the
 *                           keys "a" (file "a@") and "a/b" (directory "a") coexist
 *
 * put: the source is written to a temp file by a SpoolFileWriter (the one owner
 * of that descriptor, file-writer.ts), fsync'd in its _final, renamed into
 * place, and the directory fsync'd (and its parent when the directory is new).
 * get: a stream that owns its read descriptor (ObjectFileReader) and closes it
 * exactly once, in _destroy, also when the reader stops early.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { access, chmod, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { SealgateError } from '../errors.js';
import { writeNewFile } from '../spool/file-writer.js';
import { checkRange, type ObjectInfo, type ObjectStore, objectKeyProblem, validateObjectKey, validateObjectPrefix } from './object-store.js';
import { fsyncDir } from '../fs/fsync-dir.js';

const FILE_SUFFIX = '@';
const READ_CHUNK = 64 * 1024;

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function storageError(err: unknown): SealgateError {
  if (err instanceof SealgateError) return err;
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new SealgateError('SG_STORAGE_FULL', { cause: err, detail: { errno: code } });
  return new SealgateError('SG_STORAGE_FAILED', {
    message: 'object store operation failed',
    cause: err,
    detail: { errno: code ?? 'unknown' },
  });
}

function notFound(): SealgateError {
  return new SealgateError('SG_OBJECT_NOT_FOUND');
}

/**
 * mkdir -p with mode 0700 on every directory it creates (independent of the
 * umask); returns the directories it created, outermost first.
 */
async function makeDirs(dir: string): Promise<string[]> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return [];
  const created: string[] = [];
  for (let d = dir; d.length >= first.length; d = dirname(d)) {
    created.unshift(d);
    if (d === first) break;
  }
  for (const d of created) await chmod(d, 0o700);
  return created;
}

/** A read stream that owns its file descriptor: opened in _construct, closed once in _destroy. */
class ObjectFileReader extends Readable {
  private handle: FileHandle | undefined;
  private inFlight: Promise<unknown> = Promise.resolve();
  /** Next file position (a range read), or null: read on from the current position to the end. */
  private position: number | null;
  /** Bytes still to read in a range read. */
  private remaining: number;

  /** The whole file, or `length` bytes from `start` (an object shorter than that is an error). */
  constructor(
    private readonly path: string,
    range?: { readonly start: number; readonly length: number },
  ) {
    super({ highWaterMark: READ_CHUNK });
    this.position = range ? range.start : null;
    this.remaining = range ? range.length : Number.POSITIVE_INFINITY;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    open(this.path, 'r').then(
      (fh) => {
        this.handle = fh;
        callback();
      },
      (err: unknown) => callback(errnoCode(err) === 'ENOENT' ? notFound() : storageError(err)),
    );
  }

  override _read(size: number): void {
    const fh = this.handle;
    if (!fh) return;
    if (this.remaining <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(Math.min(Math.max(size, READ_CHUNK), this.remaining));
    const op = fh.read(buf, 0, buf.length, this.position);
    this.inFlight = op.then(
      () => undefined,
      () => undefined,
    );
    op.then(
      ({ bytesRead }) => {
        if (this.destroyed) return;
        if (this.position !== null) {
          if (bytesRead === 0) {
            this.destroy(new SealgateError('SG_STORAGE_FAILED', { message: 'object is shorter than the range read from it', detail: { missing: this.remaining } }));
            return;
          }
          this.position += bytesRead;
          this.remaining -= bytesRead;
        }
        this.push(bytesRead > 0 ? buf.subarray(0, bytesRead) : null);
      },
      (err: unknown) => this.destroy(storageError(err)),
    );
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const fh = this.handle;
    this.handle = undefined;
    if (!fh) {
      callback(err);
      return;
    }
    void this.inFlight
      .then(() => fh.close())
      .then(
        () => callback(err),
        (closeErr: unknown) => callback(err ?? storageError(closeErr)),
      );
  }
}

export interface LocalObjectStoreOptions {
  /** Names temp files (tests); default crypto.randomBytes. */
  readonly random?: (n: number) => Buffer;
}

export class LocalObjectStore implements ObjectStore {
  readonly tmpDir: string;
  private readonly objectsDir: string;
  private readonly random: (n: number) => Buffer;

  /** `root`: a directory under dataDir that belongs to this store alone. */
  constructor(
    readonly root: string,
    options: LocalObjectStoreOptions = {},
  ) {
    this.tmpDir = join(root, 'tmp');
    this.objectsDir = join(root, 'objects');
    this.random = options.random ?? randomBytes;
  }

  async init(): Promise<void> {
    try {
      await makeDirs(this.tmpDir);
      await makeDirs(this.objectsDir);
    } catch (err) {
      throw storageError(err);
    }
  }

  /**
   * Start-up cleanup: removes temp files of puts that never finished (a crash
   * mid-put). Call it before this process starts puts; a temp file of another
   * process's put in flight is kept when it is younger than `minAgeMs`.
   */
  async removeTemp(now: number, minAgeMs = 3_600_000): Promise<number> {
    let removed = 0;
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 0;
      throw storageError(err);
    }
    for (const name of names) {
      const path = join(this.tmpDir, name);
      try {
        // minAgeMs 0 removes every temp file (the clock and file times need not agree to the millisecond)
        if (minAgeMs > 0 && now - (await stat(path)).mtimeMs < minAgeMs) continue;
        await unlink(path);
        removed++;
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw storageError(err);
      }
    }
    return removed;
  }

  /** Readiness: the objects and temp directories are there and this process may write them (no timeout needed: local calls). */
  async probe(_timeoutMs: number): Promise<void> {
    try {
      await access(this.objectsDir, constants.R_OK | constants.W_OK | constants.X_OK);
      await access(this.tmpDir, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw storageError(err);
    }
  }

  /** Nothing to release (the S3 store closes its connections here). */
  close(): void {}

  private pathOf(key: string): string {
    const segs = validateObjectKey(key).split('/');
    const last = segs.pop() ?? '';
    return join(this.objectsDir, ...segs, last + FILE_SUFFIX);
  }

  async put(key: string, source: Readable): Promise<{ bytes: number }> {
    const finalPath = this.pathOf(key);
    const tmpPath = join(this.tmpDir, `${this.random(12).toString('hex')}.tmp`);
    // the writer owns the descriptor (file-writer.ts); it is closed before the temp file is renamed
    let bytes: number;
    try {
      bytes = await writeNewFile(tmpPath, source);
    } catch (err) {
      source.destroy();
      throw storageError(err);
    }
    try {
      const dir = dirname(finalPath);
      const created = await makeDirs(dir);
      await rename(tmpPath, finalPath);
      await fsyncDir(dir);
      // each new directory's entry is in its parent: make those durable too
      for (const d of created.reverse()) await fsyncDir(dirname(d));
    } catch (err) {
      await unlink(tmpPath).catch(() => undefined);
      throw storageError(err);
    }
    return { bytes };
  }

  get(key: string): Readable {
    return new ObjectFileReader(this.pathOf(key));
  }

  getRange(key: string, start: number, length: number): Readable {
    checkRange(start, length);
    return new ObjectFileReader(this.pathOf(key), { start, length });
  }

  async exists(key: string): Promise<boolean> {
    const path = this.pathOf(key);
    try {
      return (await stat(path)).isFile();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
      throw storageError(err);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return;
      throw storageError(err);
    }
    // the removal itself is durable (a shredded object must not come back after a crash)
    await fsyncDir(dirname(path)).catch((err: unknown) => {
      throw storageError(err);
    });
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const { key } of this.files(prefix)) yield key;
  }

  async *listInfo(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const { key, path } of this.files(prefix)) {
      let s;
      try {
        s = await stat(path);
      } catch (err) {
        // deleted since the directory was read: not there any more
        if (errnoCode(err) === 'ENOENT') continue;
        throw storageError(err);
      }
      yield { key, bytes: s.size, modifiedAt: s.mtimeMs };
    }
  }

  /** The objects whose keys start with `prefix`, with their files, in byte order. */
  private async *files(prefix: string): AsyncGenerator<{ key: string; path: string }> {
    validateObjectPrefix(prefix);
    // start in the directory named by the prefix's complete segments
    const cut = prefix.lastIndexOf('/');
    const base = cut < 0 ? '' : prefix.slice(0, cut + 1);
    yield* this.walk(join(this.objectsDir, ...base.split('/').filter(Boolean)), base, prefix);
  }

  /** Keys under `dir` (whose keys start with `keyBase`) that start with `prefix`, in byte order, with their files. */
  private async *walk(dir: string, keyBase: string, prefix: string): AsyncGenerator<{ key: string; path: string }> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      // removed while listing, or nothing stored under this prefix yet
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return;
      throw storageError(err);
    }
    // a directory "a" holds keys "a/…": sorting it as "a/" puts it where those keys belong
    const items: { sortKey: string; name: string; dir: boolean }[] = [];
    for (const e of entries) {
      // anything that no valid key maps to (stray files, temp names) is not an object
      if (objectKeyProblem(keyBase + (e.isDirectory() ? e.name : e.name.slice(0, -FILE_SUFFIX.length))) !== undefined) continue;
      if (e.isDirectory()) items.push({ sortKey: `${keyBase}${e.name}/`, name: e.name, dir: true });
      else if (e.isFile() && e.name.endsWith(FILE_SUFFIX)) {
        items.push({ sortKey: keyBase + e.name.slice(0, -FILE_SUFFIX.length), name: e.name, dir: false });
      }
    }
    items.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const item of items) {
      if (item.dir) {
        if (item.sortKey.startsWith(prefix) || prefix.startsWith(item.sortKey)) {
          yield* this.walk(join(dir, item.name), item.sortKey, prefix);
        }
      } else if (item.sortKey.startsWith(prefix)) {
        yield { key: item.sortKey, path: join(dir, item.name) };
      }
    }
  }
}
