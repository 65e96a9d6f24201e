/**
 * The one writer of a spool file, and the one owner of its descriptor.
 *
 * Ownership rule (issue 18: a descriptor closed twice is a descriptor number
 * that another socket or file may already have been given):
 *   - the descriptor is opened by `SpoolFileWriter.create` and closed only by
 *     this writer's `_destroy`, exactly once, after the write or sync in
 *     flight (if any) has settled;
 *   - nobody else closes it: callers never get the descriptor, they end the
 *     stream (success: `_final` fsyncs, then the stream destroys itself) or
 *     destroy it (client gone, size exceeded, timeout, storage failure), and
 *     both paths release through `_destroy`;
 *   - `released` settles once the descriptor is closed; a caller that removes
 *     or renames the file waits for it first.
 * A plain fs.WriteStream on a caller's descriptor breaks this rule: its
 * `_destroy` closes the descriptor even with `autoClose: false`, so a caller
 * that closes it too closes it twice.
 *
 * Every error of the writer's own file-system calls (open, write, fsync,
 * close) is marked (`isWriterFailure`), so the spool can tell a failing disk
 * from a failing source or stage without guessing from the error's text
 * (write-error.ts).
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { Writable, type Readable, type Transform } from 'node:stream';
import { chain } from '../stream/chain.js';

/** Errors raised by a writer's own file-system calls. */
const writerFailures = new WeakSet<object>();

function markWriterFailure(err: unknown): void {
  if (typeof err === 'object' && err !== null) writerFailures.add(err);
}

/** Whether `err` came from a spool file writer's own file-system call (open, write, fsync, close), not from its source or a stage. */
export function isWriterFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && writerFailures.has(err);
}

/** `op`, its rejection marked as the writer's own. */
function own<T>(op: Promise<T>): Promise<T> {
  return op.catch((err: unknown) => {
    markWriterFailure(err);
    throw err;
  });
}

export class SpoolFileWriter extends Writable {
  /** Encrypted bytes written to the file. */
  bytesWritten = 0;
  /** Settles (never rejects) once the descriptor is closed; carries a close error, if any. */
  readonly released: Promise<Error | undefined>;
  private inFlight: Promise<unknown> = Promise.resolve();
  private resolveClosed!: (err: Error | undefined) => void;

  private constructor(private readonly handle: FileHandle) {
    super({ highWaterMark: 64 * 1024 });
    this.released = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** Creates the file (it must not exist), mode 0600. */
  static async create(path: string): Promise<SpoolFileWriter> {
    return new SpoolFileWriter(await own(open(path, 'wx', 0o600)));
  }

  private track<T>(operation: Promise<T>): Promise<T> {
    const op = own(operation);
    this.inFlight = op.then(
      () => undefined,
      () => undefined,
    );
    return op;
  }

  private async writeAll(chunks: readonly Buffer[]): Promise<void> {
    let pending = chunks.filter((c) => c.length > 0);
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending);
      this.bytesWritten += bytesWritten;
      // a short write: continue from where the kernel stopped
      let skip = bytesWritten;
      const rest: Buffer[] = [];
      for (const c of pending) {
        if (skip >= c.length) {
          skip -= c.length;
          continue;
        }
        rest.push(skip > 0 ? c.subarray(skip) : c);
        skip = 0;
      }
      pending = rest;
    }
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.track(this.writeAll(chunks.map((c) => c.chunk))).then(() => done(), done);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.track(this.writeAll([chunk])).then(() => done(), done);
  }

  /** End of data: the file's content is on disk before 'finish'. */
  override _final(done: (err?: Error | null) => void): void {
    this.track(this.handle.sync()).then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // FileHandle.close() also waits for its own pending operations; waiting
    // here as well keeps the rule visible and independent of that detail
    void this.inFlight
      .then(() => own(this.handle.close()))
      .then(
        () => {
          this.resolveClosed(undefined);
          done(err);
        },
        (closeErr: Error) => {
          this.resolveClosed(closeErr);
          done(err ?? closeErr);
        },
      );
  }
}

/**
 * Creates `path` (it must not exist, mode 0600) and streams `source` through
 * `stages` into it; the content is fsync'd and the descriptor closed before
 * this resolves with the bytes written. On any failure the descriptor is
 * released first, then the file removed, and the original error rethrown.
 * `source` is left alone when the file cannot even be created.
 */
export async function writeNewFile(path: string, source: Readable, stages: readonly Transform[] = []): Promise<number> {
  const out = await SpoolFileWriter.create(path);
  let failure: unknown;
  try {
    await chain(source, stages, out);
  } catch (err) {
    failure = err;
    // the chain destroyed it already unless the failure came before it started
    out.destroy();
  }
  return settleFile(out, path, failure);
}

/**
 * After a writer's pipeline: waits until its descriptor is closed, then either removes the file and rethrows
 * the first failure (the pipeline's, else the close's) or returns the bytes written.
 */
async function settleFile(file: SpoolFileWriter, path: string, failure: unknown): Promise<number> {
  const closeError = await file.released;
  failure ??= closeError;
  if (failure !== undefined) {
    await unlink(path).catch(() => undefined);
    throw failure;
  }
  return file.bytesWritten;
}

/**
 * Collects up to `maxInline` bytes in memory; past that it creates the file
 * at `path` (through a SpoolFileWriter, which owns its descriptor), writes
 * what it held and passes the rest on. So a small message never touches the
 * disk here and a large one is streamed, never held whole.
 */
class SpillWriter extends Writable {
  private held: Buffer[] = [];
  private heldBytes = 0;
  file: SpoolFileWriter | undefined;

  constructor(
    private readonly path: string,
    private readonly maxInline: number,
  ) {
    super({ highWaterMark: 64 * 1024 });
  }

  /** The whole content, when it stayed in memory. */
  content(): Buffer | undefined {
    return this.file ? undefined : Buffer.concat(this.held, this.heldBytes);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.file) {
      this.file.write(chunk, (err) => done(err));
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes <= this.maxInline) {
      done();
      return;
    }
    this.creating = SpoolFileWriter.create(this.path).then((file) => {
      this.file = file;
      // its errors reach this writer through the write callbacks and _final, never as an uncaught 'error'
      file.on('error', () => undefined);
      if (this.destroyed) {
        // the source failed while the file was being created: release it now (the caller removes the file)
        file.destroy();
        return;
      }
      const held = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      file.write(held, (err) => done(err));
    }, done);
  }

  /** A file creation under way when the stream ended or failed; settles once `file` is set (or creation failed). */
  creating: Promise<void> | undefined;

  /** A spilled file is ended (fsync'd) before 'finish'. */
  override _final(done: (err?: Error | null) => void): void {
    const file = this.file;
    if (!file) {
      done();
      return;
    }
    // once: a close error after 'finish' also reaches 'error' (and `released`, which the caller reads)
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      done(err);
    };
    file.once('error', settle);
    file.once('finish', () => settle());
    file.end();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.file && !this.file.destroyed) this.file.destroy(err ?? undefined);
    // a finished writer keeps what it held for content(): it destroys itself right after 'finish'
    if (err) this.held = [];
    done(err);
  }
}

export type SpooledContent = { readonly bytes: number; readonly inline: Buffer } | { readonly bytes: number; readonly inline?: undefined };

/**
 * Streams `source` through `stages`: content up to `maxInline` bytes is
 * returned in memory (`inline`), nothing written; larger content goes to a
 * new file at `path` exactly as `writeNewFile` writes it (fsync'd, descriptor
 * closed, removed on failure).
 */
export async function writeSpooledContent(path: string, source: Readable, stages: readonly Transform[], maxInline: number): Promise<SpooledContent> {
  if (maxInline <= 0) return { bytes: await writeNewFile(path, source, stages) };
  const out = new SpillWriter(path, maxInline);
  let failure: unknown;
  try {
    await chain(source, stages, out);
  } catch (err) {
    failure = err;
    out.destroy();
  }
  // a file may still be being created when the pipeline failed: wait for it, so it is released and removed too
  await out.creating?.catch(() => undefined);
  const file = out.file;
  if (file) {
    if (failure !== undefined && !file.destroyed) file.destroy();
    return { bytes: await settleFile(file, path, failure) };
  }
  if (failure !== undefined) throw failure;
  const inline = out.content() ?? Buffer.alloc(0);
  return { bytes: inline.length, inline };
}
