/**
 * The spool's content in the object store (`objects.kind: s3`; blobs.ts
 * states the rules every backend keeps), so that every node sharing the
 * store can read — and deliver — what any node accepted.
 *
 * Keys (below the store's own prefix, `objects.s3.prefix`):
 *   spool/<queue id>/message          a message larger than queue.inlineMaxBytes
 *   spool/<queue id>/copies/<name>    its end-to-end copies (name: r<seq>)
 * The bytes are the spool's SGSPOOL1 ciphertext (crypt-stream.ts), encrypted
 * on the node under a data key wrapped by the master key and bound to the id
 * (and copy name): the store never holds plaintext or a key, and a key names
 * ids only.
 *
 * Writes: the object store's put runs while the content streams in (a
 * multipart upload for a large one); it is atomic, so once it resolved the
 * object is stored whole, and `commit` has nothing left to do. The SMTP 250
 * comes after that and after the queue rows' commit (spool.ts).
 *
 * Removal: `remove` lists the message's keys and deletes them. A removal
 * that fails (the store unreachable) is reported to `onRemoveFailed` (the
 * daemon logs it, without content) and left to the sweep: `removeOrphans`
 * deletes the objects of every message the queue no longer holds, once they
 * are older than `minOrphanAgeMs` (another node's write in flight is younger;
 * the daemon runs it at start and every SPOOL_SWEEP_INTERVAL_MS).
 */
import type { Readable, Transform } from 'node:stream';
import { SealgateError } from '../errors.js';
import { validateObjectKey, type ObjectStore } from '../objects/object-store.js';
import type { HeldBlobs, SpoolBlobName, SpoolBlobs, WrittenSpoolContent } from './blobs.js';
import { writeSpooledObject } from './object-writer.js';
import { storageError } from './write-error.js';

/** Every spool object's key starts with this. */
export const SPOOL_OBJECT_PREFIX = 'spool/';
/** Objects younger than this are never swept: a write in flight on some node (its queue rows not committed yet). */
export const SPOOL_ORPHAN_MIN_AGE_MS = 60 * 60 * 1000;
/** How often the daemon sweeps the spool's objects (removals that failed, crashes between put and commit). */
export const SPOOL_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/** Pure: the object key of a spool blob (throws SG_OBJECT_KEY_INVALID for an id or copy name no key can hold). */
export function spoolObjectKey(name: SpoolBlobName): string {
  return validateObjectKey(`${SPOOL_OBJECT_PREFIX}${name.id}/${name.copy === undefined ? 'message' : `copies/${name.copy}`}`);
}

/** Pure: the queue id a spool object belongs to, or undefined for a key that is no spool object. */
export function spoolObjectId(key: string): string | undefined {
  if (!key.startsWith(SPOOL_OBJECT_PREFIX)) return undefined;
  const id = key.slice(SPOOL_OBJECT_PREFIX.length).split('/')[0];
  return id === undefined || id === '' ? undefined : id;
}

export interface ObjectSpoolBlobsOptions {
  /** A removal that failed (left to the sweep). Absent: `remove` rejects instead. */
  readonly onRemoveFailed?: (id: string, err: SealgateError) => void;
  /** Default SPOOL_ORPHAN_MIN_AGE_MS. */
  readonly minOrphanAgeMs?: number;
}

export class ObjectSpoolBlobs implements SpoolBlobs {
  readonly kind = 'objects';
  private readonly minOrphanAgeMs: number;

  constructor(
    private readonly objects: ObjectStore,
    private readonly options: ObjectSpoolBlobsOptions = {},
  ) {
    this.minOrphanAgeMs = options.minOrphanAgeMs ?? SPOOL_ORPHAN_MIN_AGE_MS;
  }

  /** Nothing: the store is opened and checked by its owner (the daemon's openObjectStore + init). */
  init(): Promise<void> {
    return Promise.resolve();
  }

  async write(name: SpoolBlobName, source: Readable, stages: readonly Transform[], maxInline: number): Promise<WrittenSpoolContent> {
    const key = spoolObjectKey(name);
    const remove = (): Promise<void> => this.objects.delete(key);
    const written = await writeSpooledObject((body) => this.objects.put(key, body), remove, source, stages, maxInline);
    if (written.inline !== undefined) return { bytes: written.bytes, inline: written.inline };
    const where = `object:${key}`;
    return {
      bytes: written.bytes,
      blob: {
        bytes: written.bytes,
        tmpPath: where,
        // stored whole when the put resolved
        commit: () => Promise.resolve(where),
        discard: () => remove().catch(() => undefined),
      },
    };
  }

  read(name: SpoolBlobName): Readable {
    return this.objects.get(spoolObjectKey(name));
  }

  /** The message's keys, then each deleted. */
  private async removeKeys(id: string): Promise<void> {
    const keys: string[] = [];
    for await (const key of this.objects.list(`${SPOOL_OBJECT_PREFIX}${validateObjectKey(id)}/`)) keys.push(key);
    for (const key of keys) await this.objects.delete(key);
  }

  async remove(id: string, held?: HeldBlobs): Promise<void> {
    // nothing of it here (its content inline, no copies): no listing of the store for it
    if (held && !held.blob && !held.copies) return;
    try {
      await this.removeKeys(id);
    } catch (err) {
      const e = err instanceof SealgateError ? err : storageError(err);
      if (!this.options.onRemoveFailed || e.code === 'SG_OBJECT_KEY_INVALID') throw e;
      this.options.onRemoveFailed(id, e);
    }
  }

  /**
   * Deletes the objects of every message that is not queued and whose objects are all older than the minimum
   * age. Safe while this and other nodes run. `tmp` is always 0 (a failed put leaves nothing to remove).
   */
  async removeOrphans(isQueued: (id: string) => Promise<boolean>, now: number): Promise<{ tmp: number; orphans: number }> {
    let orphans = 0;
    let group: { id: string; keys: string[]; young: boolean } | undefined;
    const settle = async (): Promise<void> => {
      const g = group;
      group = undefined;
      if (!g || g.young || (await isQueued(g.id))) return;
      for (const key of g.keys) await this.objects.delete(key);
      orphans++;
    };
    // keys come in byte order, so one message's keys are next to each other
    for await (const info of this.objects.listInfo(SPOOL_OBJECT_PREFIX)) {
      const id = spoolObjectId(info.key);
      if (id === undefined) continue;
      if (group?.id !== id) {
        await settle();
        group = { id, keys: [], young: false };
      }
      group.keys.push(info.key);
      if (now - info.modifiedAt < this.minOrphanAgeMs) group.young = true;
    }
    await settle();
    return { tmp: 0, orphans };
  }
}
