/**
 * Small spooled messages stored inside the database instead of as files
 * (`queue.inlineMaxBytes`, docs/spool-format.md). The bytes are the same
 * SGSPOOL1 ciphertext a spool file holds — encrypted before they reach the
 * database, bound to their queue id — so the database never holds plaintext
 * and the reader is the same decrypter.
 *
 * Why: a file needs its own fsync, a rename and a directory fsync before the
 * queue rows can commit; a row in the same transaction as the queue rows is
 * made durable by that transaction's commit, which group commit shares among
 * every message accepted at the same moment. Reading and removing it later
 * is one statement instead of an open, reads, a close and an unlink.
 */
import { queueIdTime } from '../queue/ids.js';
import type { SqlQueryable } from '../db/sql-database.js';

export interface InlineSpoolStore {
  /** Writes the content of `id` with the statements of `tx` (durable when `tx` commits). */
  put(tx: SqlQueryable, id: string, data: Buffer): Promise<void>;
  /** Writes it in a transaction of its own (durable when this resolves). */
  putDurably(id: string, data: Buffer): Promise<void>;
  get(id: string): Promise<Buffer | undefined>;
  /** Removes it; whether there was one. */
  delete(id: string): Promise<boolean>;
  /** Drops `id`'s content kept in memory (its row went in a transaction of the caller's); whether it was kept (then its content is in the database, never a blob). */
  forget(id: string): boolean;
  /** Keeps `data` in memory as `id`'s content (its row written by a statement of the caller's). */
  remember(id: string, data: Buffer): void;
  /**
   * Removes every content whose message has no queue row (a write that never
   * got its 250, or a message gone); how many went. With `madeBefore`, only
   * content whose queue id was made before it: with several nodes, another
   * node's internal message may be between its content and its queue rows.
   */
  removeUnqueued(madeBefore?: number): Promise<number>;
}

/** Bytes of recently written or read content kept in memory (ciphertext; see DatabaseInlineSpool). */
export const RECENT_CONTENT_BYTES = 16 * 1024 * 1024;

/**
 * The database's `spool_inline` table (migration 24). What this process
 * wrote or read lately is kept in memory too (RECENT_CONTENT_BYTES, the
 * oldest dropped first): a message's content is read by inspection, the
 * archive and delivery in its first second, and each read was a database
 * read. The content is ciphertext bound to its id and never changes once
 * written, so a kept copy is the stored one; `delete` drops it.
 */
export class DatabaseInlineSpool implements InlineSpoolStore {
  private readonly recent = new Map<string, Buffer>();
  private recentBytes = 0;

  constructor(
    private readonly db: SqlQueryable & { transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> },
    private readonly recentLimit = RECENT_CONTENT_BYTES,
  ) {}

  remember(id: string, data: Buffer): void {
    this.forget(id);
    if (data.length > this.recentLimit) return;
    this.recent.set(id, data);
    this.recentBytes += data.length;
    for (const [oldest, bytes] of this.recent) {
      if (this.recentBytes <= this.recentLimit) break;
      this.recent.delete(oldest);
      this.recentBytes -= bytes.length;
    }
  }

  forget(id: string): boolean {
    const kept = this.recent.get(id);
    if (kept === undefined) return false;
    this.recent.delete(id);
    this.recentBytes -= kept.length;
    return true;
  }

  async put(tx: SqlQueryable, id: string, data: Buffer): Promise<void> {
    await tx.run('INSERT INTO spool_inline (id, data) VALUES (?, ?)', [id, data]);
    // kept once written: a transaction that then fails leaves an id nothing queues (its writer deletes it, see spool.ts)
    this.remember(id, data);
  }

  putDurably(id: string, data: Buffer): Promise<void> {
    return this.db.transaction((tx) => this.put(tx, id, data));
  }

  async get(id: string): Promise<Buffer | undefined> {
    const kept = this.recent.get(id);
    if (kept !== undefined) return kept;
    const data = (await this.db.get<{ data: Buffer }>('SELECT data FROM spool_inline WHERE id = ?', [id]))?.data;
    if (data !== undefined) this.remember(id, data);
    return data;
  }

  async delete(id: string): Promise<boolean> {
    this.forget(id);
    // usually already gone with its queue rows (removeIfFinished): a read, not a commit, tells
    if ((await this.db.get('SELECT 1 AS x FROM spool_inline WHERE id = ?', [id])) === undefined) return false;
    return (await this.db.transaction((tx) => tx.run('DELETE FROM spool_inline WHERE id = ?', [id]))).changes > 0;
  }

  async removeUnqueued(madeBefore?: number): Promise<number> {
    const unqueued = 'NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = spool_inline.id)';
    if (madeBefore === undefined) {
      this.recent.clear();
      this.recentBytes = 0;
      return (await this.db.transaction((tx) => tx.run(`DELETE FROM spool_inline WHERE ${unqueued}`))).changes;
    }
    // the ids' own time says how old the content is (an id that is not a queue id is old enough: nothing makes one)
    const ids = (await this.db.all<{ id: string }>(`SELECT id FROM spool_inline WHERE ${unqueued}`)).map((r) => r.id).filter((id) => (queueIdTime(id) ?? 0) < madeBefore);
    let removed = 0;
    for (let at = 0; at < ids.length; at += 500) {
      const part = ids.slice(at, at + 500);
      // re-checked in the DELETE: a message queued meanwhile keeps its content
      removed += (await this.db.transaction((tx) => tx.run(`DELETE FROM spool_inline WHERE id IN (${part.map(() => '?').join(', ')}) AND ${unqueued}`, part))).changes;
      for (const id of part) this.forget(id);
    }
    return removed;
  }
}
