/**
 * Writing spooled content to the object store: up to `maxInline` bytes are
 * held in memory (the database's inline spool takes them); past that, an
 * object store put starts, is given what was held and then the rest as it
 * arrives, so a large message streams to the store (a multipart upload on
 * S3) and is never held whole here.
 *
 * The durable point is the put's resolution: the object store's put is
 * atomic (object-store.ts), so when `writeSpooledObject` resolves the object
 * is stored whole, and when it rejects nothing is — it waits for an aborted
 * put to settle, and removes an object whose put completed although the
 * write failed, before it rejects.
 */
import { PassThrough, Writable, type Readable, type Transform } from 'node:stream';
import { SealgateError } from '../errors.js';
import { storageError, writeError } from './write-error.js';
import { chain } from '../stream/chain.js';

/** A put of the object store, bound to its key. */
export type ObjectPut = (source: Readable) => Promise<{ bytes: number }>;

/** Pure: an error of the object store as the spool reports it (a SealgateError as it is; anything else a storage failure). */
function storeFailure(err: unknown): SealgateError {
  return err instanceof SealgateError ? err : storageError(err);
}

class ObjectSpillWriter extends Writable {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private body: PassThrough | undefined;
  /** The put, once started. */
  stored: Promise<{ bytes: number }> | undefined;

  constructor(
    private readonly put: ObjectPut,
    private readonly maxInline: number,
  ) {
    super({ highWaterMark: 64 * 1024 });
    if (maxInline <= 0) this.startPut();
  }

  /** The whole content, when it stayed in memory. */
  content(): Buffer | undefined {
    return this.body ? undefined : Buffer.concat(this.held, this.heldBytes);
  }

  private startPut(): PassThrough {
    const body = new PassThrough({ highWaterMark: 64 * 1024 });
    this.body = body;
    const stored = this.put(body);
    this.stored = stored;
    // a put that fails (the store unreachable, full) fails the write; the store left nothing visible
    stored.catch((err: unknown) => this.destroy(storeFailure(err)));
    return body;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.body) {
      // the callback waits until the put has taken the chunk: backpressure reaches the source
      this.body.write(chunk, (err) => done(err));
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes <= this.maxInline) {
      done();
      return;
    }
    const held = Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.startPut().write(held, (err) => done(err));
  }

  /** End of data: the put completes (the object is stored) before 'finish'. */
  override _final(done: (err?: Error | null) => void): void {
    const body = this.body;
    const stored = this.stored;
    if (!body || !stored) {
      done();
      return;
    }
    body.end();
    stored.then(
      () => done(),
      (err: unknown) => done(storeFailure(err)),
    );
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // a failed write aborts the put (its source fails): nothing becomes visible
    if (err) {
      if (this.body && !this.body.destroyed) this.body.destroy(err);
      this.held = [];
    }
    done(err);
  }
}

export type SpooledObject = { readonly bytes: number; readonly inline: Buffer } | { readonly bytes: number; readonly inline?: undefined };

/**
 * Streams `source` through `stages`: content up to `maxInline` bytes is
 * returned in memory (`inline`) and nothing is put; larger content is put
 * with `put` and this resolves once the put did (the object is stored).
 * `remove` deletes the object, for the one case where the put completed but
 * the write still failed. Errors: a store failure as the store reported it
 * (SG_STORAGE_FAILED, SG_STORAGE_FULL); an error of the source or a stage
 * as it is (write-error.ts).
 */
export async function writeSpooledObject(put: ObjectPut, remove: () => Promise<void>, source: Readable, stages: readonly Transform[], maxInline: number): Promise<SpooledObject> {
  const out = new ObjectSpillWriter(put, maxInline);
  let failure: unknown;
  try {
    await chain(source, stages, out);
  } catch (err) {
    failure = err;
    out.destroy(err instanceof Error ? err : new Error('spool write failed'));
  }
  const stored = out.stored;
  if (failure !== undefined) {
    if (stored) {
      // wait for the put to settle: a failed write leaves no object behind
      const completed = await stored.then(
        () => true,
        () => false,
      );
      if (completed) await remove().catch(() => undefined);
    }
    throw writeError(failure, false);
  }
  if (stored) return { bytes: (await stored).bytes };
  const inline = out.content() ?? Buffer.alloc(0);
  return { bytes: inline.length, inline };
}
