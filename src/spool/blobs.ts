/**
 * Where the spool keeps the content that is not inline in the database: the
 * encrypted bytes (SGSPOOL1, crypt-stream.ts) of messages larger than
 * `queue.inlineMaxBytes` and of the end-to-end copies derived from them.
 * The spool (spool.ts) encrypts and decrypts; a backend only stores
 * ciphertext. Two backends keep the rules below:
 *
 *   - local files (local-blobs.ts, `objects.kind: local`, the default):
 *     `dataDir/spool`, written to a temporary file, fsync'd, renamed into
 *     place by `commit`;
 *   - the object store (object-blobs.ts, `objects.kind: s3`): keys under
 *     `spool/`, stored by the object store's atomic put while the content
 *     streams in, so another node can read them.
 *
 * Rules both keep (test/spool/blobs.test.ts runs the same tests on both):
 *   - `write` streams `source` through `stages`; content of at most
 *     `maxInline` bytes is returned in memory and nothing is stored; larger
 *     content is stored, never held whole. A failed write stores nothing.
 *   - once `commit` resolves, the blob is durable and `read` gives it back
 *     (the durable point before an SMTP 250); `discard` removes it, committed
 *     or not.
 *   - errors of the storage itself are SG_STORAGE_FULL / SG_STORAGE_FAILED
 *     (temporary: SMTP answers 452 / 451); an error of the source or of a
 *     stage is rethrown as it is (write-error.ts).
 *   - `remove(id)` removes a message's blob and every copy of it; nothing
 *     there is no error.
 */
import type { Readable, Transform } from 'node:stream';

/** A blob: a message's content (`copy` absent), or one of its per-recipient copies. */
export interface SpoolBlobName {
  readonly id: string;
  readonly copy?: string | undefined;
}

/** A blob written by `write`, not yet committed. */
export interface StagedSpoolBlob {
  /** Encrypted bytes stored. */
  readonly bytes: number;
  /** Where it waits for its commit (local: the temporary file; object store: its key, already stored). */
  readonly tmpPath: string;
  /** Makes it durable and readable; returns where it is (a path, or `object:<key>`). */
  commit(): Promise<string>;
  /** Removes it, committed or not. */
  discard(): Promise<void>;
}

/** What a write produced: small content in memory (nothing stored), or a staged blob. */
export type WrittenSpoolContent = { readonly bytes: number; readonly inline: Buffer; readonly blob?: undefined } | { readonly bytes: number; readonly inline?: undefined; readonly blob: StagedSpoolBlob };

/** What a blob store holds of one message, as its caller knows it. */
export interface HeldBlobs {
  readonly blob: boolean;
  readonly copies: boolean;
}

export interface SpoolBlobs {
  /** `files` (dataDir/spool) or `objects` (the object store, shared by the nodes). */
  readonly kind: 'files' | 'objects';
  /** Start-up: directories made (files); nothing (objects: the store is initialised by its opener). */
  init(): Promise<void>;
  write(name: SpoolBlobName, source: Readable, stages: readonly Transform[], maxInline: number): Promise<WrittenSpoolContent>;
  /** The stored (encrypted) bytes. */
  read(name: SpoolBlobName): Readable;
  /**
   * Removes a message's blob and all its copies. `held`: what the caller
   * knows this store holds of it (no blob when its content was stored
   * inline, no copies when no recipient has one): what it does not hold is
   * not looked for. Undefined: everything is looked for.
   */
  remove(id: string, held?: HeldBlobs): Promise<void>;
  /**
   * Removes what no queued message needs: writes that never got their 250 and blobs of messages that left the
   * queue. `tmp`: temporary files removed; `orphans`: what was removed, counted as the backend keeps it (files:
   * a message's file and its copy directory apart; objects: a message with all its objects). `now`: the clock,
   * for a backend that keeps what is younger than a minimum age (objects: another node's write in flight).
   */
  removeOrphans(isQueued: (id: string) => Promise<boolean>, now: number): Promise<{ tmp: number; orphans: number }>;
}
