/**
 * The packs being filled with pending pieces (pending.ts), in memory.
 *
 * Small messages are sealed, as they are queued, into the pack that is open:
 * each gets the next offset in it. A pack closes after `windowMs`, or once
 * it holds PACK_PIECES pieces or PACK_BYTES bytes; a closed pack is written
 * (one object put) once every piece sealed into it is settled — committed
 * with its entry, or given up (its message archived some other way, deleted,
 * or not archived within its time limit). Whatever was committed is in
 * `archive_pending` by then, and that is what the flush writes; a piece
 * given up leaves a gap of zeros no entry names.
 *
 * A flush that fails is tried again after RETRY_MS. Pieces left by a process
 * that stopped are flushed by `recover` (the archive stage calls it at start
 * and every few seconds).
 */
import type { Keyring } from '../crypto/keyring.js';
import type { SqlDatabase } from '../db/sql-database.js';
import type { Logger } from '../log/logger.js';
import type { ObjectStore } from '../objects/object-store.js';
import { FailureRun } from '../log/failure-run.js';
import { archivePackKey, sealArchivePiece, type SealedPiece } from './content.js';
import { flushPendingObject, stalePendingObjects } from './pending.js';

/** A pack takes at most this many pieces. */
const PACK_PIECES = 64;
/** A pack takes no more piece once it holds this many bytes. */
const PACK_BYTES = 4 * 1024 * 1024;
/** A failed flush is tried again after this long. */
const RETRY_MS = 10_000;
/** Stale objects flushed per `recover` call. */
const RECOVER_BATCH = 32;

export interface PendingPacksDeps {
  readonly db: SqlDatabase;
  readonly objects: ObjectStore;
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly now: () => number;
  /** How long a pack stays open for more pieces. */
  readonly windowMs: number;
}

/** A message's content sealed into a pack: the piece, and the pack to settle it in. */
export interface SealedAhead extends SealedPiece {
  readonly pack: string;
}

interface Pack {
  readonly key: string;
  readonly openedAt: number;
  /** The next piece's offset: the bytes reserved so far. */
  bytes: number;
  pieces: number;
  /** Pieces sealed and not settled yet. */
  readonly unsettled: Set<string>;
  closed: boolean;
  flushing: boolean;
  timer?: NodeJS.Timeout | undefined;
}

export class PendingPacks {
  private open: Pack | undefined;
  /** Packs sealed into and not flushed yet, by key. */
  private readonly packs = new Map<string, Pack>();
  private readonly failures = new FailureRun();
  private stopped = false;
  /** Flushes under way (stop waits for none; what they leave pending is recovered). */
  private readonly flushing = new Set<Promise<void>>();

  constructor(private readonly deps: PendingPacksDeps) {}

  /** Seals message `source` into the open pack (a new one when none is open or it is full or old). */
  async seal(source: { readonly id: string; readonly receivedAt: number; readonly bytes: Buffer }): Promise<SealedAhead> {
    const now = this.deps.now();
    let pack = this.open;
    if (!pack || pack.pieces >= PACK_PIECES || pack.bytes >= PACK_BYTES || now - pack.openedAt >= this.deps.windowMs) {
      if (pack) this.close(pack);
      pack = { key: archivePackKey(source.id, source.receivedAt), openedAt: now, bytes: 0, pieces: 0, unsettled: new Set(), closed: false, flushing: false };
      const opened = pack;
      opened.timer = setTimeout(() => this.close(opened), this.deps.windowMs);
      opened.timer.unref();
      this.open = pack;
      this.packs.set(pack.key, pack);
    }
    const into = pack;
    into.pieces++;
    into.unsettled.add(source.id);
    try {
      // the place is taken before the first await: pieces sealed meanwhile go after it
      const piece = await sealArchivePiece(this.deps.keyring, into.key, (length) => {
        const offset = into.bytes;
        into.bytes += length;
        return offset;
      }, source);
      return { ...piece, pack: into.key };
    } catch (err) {
      this.settle(into.key, source.id);
      throw err;
    }
  }

  /** Pieces sealed into the pack open now (0: none open, or its window is over). */
  openPieces(): number {
    const pack = this.open;
    return pack && this.deps.now() - pack.openedAt < this.deps.windowMs ? pack.pieces : 0;
  }

  /** Piece `id` of pack `key` is committed with its entry, or given up: the pack is written once all its pieces are. */
  settle(key: string, id: string): void {
    const pack = this.packs.get(key);
    if (!pack) return;
    pack.unsettled.delete(id);
    this.maybeFlush(pack);
  }

  /** Flushes objects whose pieces were left `olderThanMs` ago or more (by a process that stopped). */
  async recover(olderThanMs: number): Promise<void> {
    const keys = (await stalePendingObjects(this.deps.db, this.deps.now() - olderThanMs, RECOVER_BATCH)).filter((k) => !this.packs.has(k));
    for (const key of keys) {
      if (this.stopped) break;
      await flushPendingObject(this.deps.db, this.deps.objects, key);
    }
  }

  /** Writes every closed pack whose pieces are all settled, now (tests; a stop that may wait). */
  async flushSettled(): Promise<void> {
    if (this.open) this.close(this.open);
    await Promise.all([...this.flushing]);
  }

  stop(): void {
    this.stopped = true;
    for (const pack of this.packs.values()) clearTimeout(pack.timer);
  }

  private close(pack: Pack): void {
    clearTimeout(pack.timer);
    pack.timer = undefined;
    pack.closed = true;
    if (this.open === pack) this.open = undefined;
    this.maybeFlush(pack);
  }

  private maybeFlush(pack: Pack): void {
    if (!pack.closed || pack.flushing || pack.unsettled.size > 0 || this.stopped) return;
    pack.flushing = true;
    const done = this.flush(pack).finally(() => this.flushing.delete(done));
    this.flushing.add(done);
  }

  private async flush(pack: Pack): Promise<void> {
    try {
      await flushPendingObject(this.deps.db, this.deps.objects, pack.key);
      this.packs.delete(pack.key);
      const failures = this.failures.succeed();
      if (failures > 0) this.deps.log.info({ event: 'STAGE_RECOVERED', stage: 'archive', what: 'pending', failures }, 'archive packs are stored again after failures');
    } catch (err) {
      const first = this.failures.fail();
      this.deps.log[first ? 'error' : 'debug']({ event: 'ARCHIVE_FLUSH_FAILED', err: { message: (err as Error).message } }, 'archive pack not stored; its contents stay in the database and it is tried again');
      pack.flushing = false;
      if (this.stopped) return;
      const retry = setTimeout(() => this.maybeFlush(pack), RETRY_MS);
      retry.unref();
      pack.timer = retry;
    }
  }
}
