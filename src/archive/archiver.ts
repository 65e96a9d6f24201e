/**
 * The archive stage: after inspection and the decision (or at once, for
 * mail that is not inspected: portal replies, inspection off), accepted
 * messages are copied from the spool into the archive in batches: each
 * encrypted under a data key of its own, the small ones of a batch in one
 * pack object (one durable write for all of them, see content.ts), and
 * their entries (metadata, DLP verdict summary, each recipient's decision)
 * written with their records in the audit chain in one transaction that
 * also marks the messages archived. Delivery claims only archived messages,
 * and a message leaves the queue only once archived, so no accepted message
 * can be missing from the archive: a crash at any point leaves it
 * `archived = 0` with its spool file, and this stage (which looks for such
 * messages at start and every few seconds) archives it again, into a new
 * object (a pack stored before the crash is then referenced by nothing;
 * orphans.ts deletes it).
 *
 * A message's content does not depend on its verdict, so a small one is
 * sealed while the message is being inspected (`storeAhead`, called when it
 * is queued) for its place in a pack not stored yet: its entry, written with
 * the verdict, carries the ciphertext as a pending piece (pending.ts) and
 * waits for no object write; the pack is written from its pieces afterwards
 * (pending-packs.ts). A content sealed ahead is only used for a while well
 * inside the orphan sweep's grace period; one never used (the message
 * deleted meanwhile) leaves a gap of zeros in its pack.
 */
import { ownedMessages, type StageOwner } from '../cluster/ownership.js';
import { forNoKeyUpdate } from '../db/locks.js';
import { maybeCommitted, type SqlDatabase, type SqlQueryable } from '../db/sql-database.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { ObjectStore } from '../objects/object-store.js';
import { Readable } from 'node:stream';
import { ByteCounter } from '../stream/byte-counter.js';
import { mapLimit } from '../e2e/map-limit.js';
import { appendAuditEvent, type AuditTx } from '../audit/log.js';
import { generateQueueId, type RandomBytes } from '../queue/ids.js';
import { insertQueuedMessage, internalMessage, MESSAGE_FACTS_COLUMNS, removeIfFinished, type MessageFactsRow } from '../queue/store.js';
import type { PendingSpoolFile } from '../spool/spool.js';
import { journalReport } from './journal.js';
import { addressDomain } from '../smtp/connector-policy.js';
import type { Spool } from '../spool/spool.js';
import { archiveObjectKey, archivePackKey, writeArchiveObject, type ContentSource, type WrittenContent } from './content.js';
import { ARCHIVE_PENDING, insertPendingPiece, pendingPieceRow } from './pending.js';
import { PendingPacks, type SealedAhead } from './pending-packs.js';
import { archiveRecipientsOf, entryRowsAtCommit, insertArchiveEntries, queueRecipientsForArchiveOf, type NewArchiveEntry, type QueueRecipientRow } from './entries.js';
import type { ArchiveRecipientColumns } from './records.js';
import { isFinalState } from '../queue/states.js';
import { CoalescedRun } from '../workers/coalesced-run.js';
import { FailureRun } from '../log/failure-run.js';
import { archiveVerdict, type StoredVerdict } from './verdict.js';
import { ORPHAN_GRACE_MS } from './orphans.js';
import { categoryTerm, subjectTerms } from './terms.js';

export interface ArchiverDeps {
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly objects: ObjectStore;
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly now: () => number;
  /** How long a sender's message is kept, in ms: archive.retention, or longer where a policy profile says so (re-read for every message). */
  readonly retentionMs: (who: { readonly sender: string; readonly connector: string }) => number;
  /** Called after messages were archived (wakes the delivery engine). */
  readonly onArchived?: () => void;
  readonly metrics?: Metrics | undefined;
  /** With several nodes on PostgreSQL: this node, which archives the mail it accepted and that of nodes no longer live. */
  readonly owner?: StageOwner | undefined;
  /** archive.journalTo (re-read for every message) and what a journal report is queued with. */
  readonly journal?: {
    readonly to: () => string | null;
    readonly hostname: string;
    readonly random: RandomBytes;
    readonly spoolKeyId: () => string;
  };
}

/** Messages archived together: one pack object and one transaction for all of them. */
const BATCH = 64;
/**
 * A second batch starts at once only while the one under way holds fewer
 * messages than this: at a light load (a message or two a batch) the next
 * message then does not wait for the batch in progress (latency); under load
 * the batches stay large (measured: two at once always made smaller batches
 * and cost 250 – 400 µs of CPU per accepted 2 KB message).
 */
const SECOND_BATCH_BELOW = 4;

/** The next messages to archive, oldest first: from the partial index messages_unarchived (only those not archived yet), whatever the queue holds. */
export const NEXT_TO_ARCHIVE_SQL = 'SELECT id FROM messages WHERE archived = 0 AND inspected = 1 ORDER BY created_at LIMIT ?';

/** NEXT_TO_ARCHIVE_SQL narrowed to this node's messages (src/cluster/ownership.ts; nothing added on SQLite). */
function nextToArchive(owned: { readonly sql: string }): string {
  return owned.sql === '' ? NEXT_TO_ARCHIVE_SQL : NEXT_TO_ARCHIVE_SQL.replace(' ORDER BY', `${owned.sql} ORDER BY`);
}

/** A batch's pack stops growing past this many bytes of messages (the last one may go over). */
const PACK_TARGET_BYTES = 16 * 1024 * 1024;
/** A message larger than this gets an object of its own (a pack stays quick to read from and to rewrite). */
const OWN_OBJECT_BYTES = 1024 * 1024;
/** Spool files of a pack read at once. */
const READS_AT_ONCE = 8;
/** A message whose archiving failed is tried again after this long. */
const RETRY_AFTER_MS = 10_000;
/** Most messages whose content is stored (or being stored) ahead of their entry: a WrittenContent each in memory. */
const MAX_AHEAD = 512;
/**
 * How long a content stored ahead is used: well inside the orphan sweep's
 * grace period (it deletes an object that no entry names once the object is
 * older than that), so an entry never names an object the sweep may judge.
 * After this the entry's batch stores the content again.
 */
export const AHEAD_TTL_MS = ORPHAN_GRACE_MS / 6;
/**
 * How long the inspection waits for a content still being sealed ahead
 * before it records its verdict (withVerdict): sealing reads the spooled
 * content and encrypts it, no object write. Past this the stage archives
 * the message after its verdict.
 */
export const AHEAD_WAIT_MS = 25;
/**
 * The largest message sealed ahead: its ciphertext goes into the database
 * with its entry, is read back when its pack is stored, and deleted. For
 * 100 KB messages that cost more than the stage's pack (one sequential
 * write for up to 16 MiB of messages): 156 – 161 against 198 – 200 relayed
 * msg/s. A larger message is archived by the stage after its verdict.
 */
export const AHEAD_MAX_BYTES = 64 * 1024;
/** How long a pack stays open for more contents sealed ahead (pending-packs.ts). */
const PACK_WINDOW_MS = 100;
/**
 * A pack that took this many pieces within its window says the load is
 * high (400 messages a second): nothing is sealed ahead for AHEAD_PAUSE_MS.
 * Each entry written with its verdict costs the single writer a few
 * statements of its own, where the stage's batches write up to 64 entries
 * in one transaction and one pack (at the maximum relay rate, sealing
 * every message ahead cost about 15 % of the rate).
 */
const AHEAD_LOAD_PIECES = 40;
/** How long nothing is sealed ahead after a pack said the load is high. */
const AHEAD_PAUSE_MS = 1_000;
/**
 * Pending pieces left by a process that stopped are stored after this long
 * without a newer piece in their pack; on SQLite (one daemon) at once, at
 * start. On PostgreSQL another node may still be filling its packs: it
 * stores them itself within seconds, and no piece is used past AHEAD_TTL_MS.
 */
const RECOVER_SHARED_AFTER_MS = AHEAD_TTL_MS;
/** Pending pieces are looked for this often. */
const RECOVER_EVERY_MS = 60_000;

/** A content sealed ahead of its entry: since when it was asked for, and the piece (undefined: not sealed). */
interface StoredAhead {
  readonly at: number;
  readonly content: Promise<SealedAhead | undefined>;
  /** The piece once sealed (what a transaction may use: it never waits for it). */
  ready?: SealedAhead | undefined;
}

/**
 * A message's archive entry written in the transaction that records its
 * verdict and marks it archived (Archiver.withVerdict): `write` in that
 * transaction, given the message's row (MESSAGE_FACTS_COLUMNS, read by the
 * caller) and the verdict it records; `committed` once it is committed.
 * `finished`: every recipient was final already (an operator bounced them),
 * so the message left the queue in that transaction, and its spooled
 * content is the caller's to remove after the commit.
 */
export interface ArchiveInTransaction {
  /**
   * `recipients`: every queue row of the message as the transaction's own
   * UPDATEs returned them (RETURNING QUEUE_RECIPIENT_COLUMNS), so the entry
   * needs no read of its own; read in the transaction when not given.
   */
  write(tx: SqlQueryable, now: number, message: MessageRow, recipients?: readonly QueueRecipientRow[]): Promise<{ finished: boolean }>;
  committed(): void;
}

/** What an entry takes from a message's queue row: its facts (fixed once it is queued) and its verdict. */
const MESSAGE_COLUMNS = `${MESSAGE_FACTS_COLUMNS}, verdict`;

/** A message's queue row as an entry takes it (MESSAGE_COLUMNS). */
export interface MessageRow extends MessageFactsRow {
  readonly verdict: string | null;
}

export class Archiver {
  private readonly failedAt = new Map<string, number>();
  /** Messages of the batches under way (two at most). */
  private readonly inBatch = new Set<string>();
  /** One batch at a time, the next as soon as it is done. */
  private readonly loop: CoalescedRun;
  /** Contents sealed ahead of their entries, oldest first (storeAhead). */
  private readonly ahead = new Map<string, StoredAhead>();
  /** The packs they are sealed into, written once their pieces are settled. */
  private readonly packs: PendingPacks;
  /** When pending pieces left by a stopped process were last looked for (0: not yet). */
  private recoveredAt = 0;
  /** Nothing is sealed ahead before this time (AHEAD_LOAD_PIECES). */
  private aheadPausedUntil = 0;

  /** Failures in a row (a store away): the first is logged at error, the rest at debug, the end of the run once (docs/events.md). */
  private readonly queueFailures = new FailureRun();
  private readonly messageFailures = new FailureRun();

  constructor(private readonly deps: ArchiverDeps) {
    this.loop = new CoalescedRun(
      async () => {
        const more = await this.next();
        this.recovered('queue', this.queueFailures.succeed());
        return more;
      },
      (err) => {
        const first = this.queueFailures.fail();
        this.deps.log[first ? 'error' : 'debug']({ event: 'ARCHIVE_FAILED', err: { message: (err as Error).message } }, 'could not read the archive queue; retried later');
      },
      // a second batch starts while a small one is being written: mail inspected meanwhile does not wait for it to end
      // (under load batches are large, and more small ones would cost a pack and a transaction each)
      () => (this.inBatch.size < SECOND_BATCH_BELOW ? 2 : 1),
    );
    this.packs = new PendingPacks({ db: deps.db, objects: deps.objects, keyring: deps.keyring, log: deps.log, now: deps.now, windowMs: PACK_WINDOW_MS });
  }

  private recovered(what: 'queue' | 'messages', failures: number): void {
    if (failures > 0) this.deps.log.info({ event: 'STAGE_RECOVERED', stage: 'archive', what, failures }, 'archiving works again after failures');
  }

  start(): void {
    this.loop.start(5_000);
  }

  stop(): void {
    this.loop.stop();
    this.packs.stop();
  }

  /** Writes the packs whose pieces are all settled now, and waits for them (tests). */
  async flushPending(): Promise<void> {
    await this.packs.flushSettled();
  }

  /**
   * Seals message `id`'s content now, while it is being inspected (called
   * when it was queued), for its place in the open pack: its entry then
   * carries it and waits for no object write. Best effort: at most
   * MAX_AHEAD wait, messages up to AHEAD_MAX_BYTES; a content not sealed
   * ahead (or sealed too long ago, AHEAD_TTL_MS) is stored by the entry's
   * batch as before. Resolves once it was sealed or given up (never
   * rejects; a failure is the stage's to report).
   */
  storeAhead(id: string, facts?: MessageFactsRow): Promise<void> {
    const now = this.deps.now();
    // the oldest first: those never used (the message deleted meanwhile) go once too old
    for (const [old, stored] of this.ahead) {
      if (freshAhead(stored, now)) break;
      this.ahead.delete(old);
      this.giveUp(old, stored);
    }
    if (this.loop.stopped || this.ahead.has(id) || this.ahead.size >= MAX_AHEAD) return Promise.resolve();
    if (now < this.aheadPausedUntil || (facts && facts.size > AHEAD_MAX_BYTES)) return Promise.resolve();
    // under load the stage's own batches are cheaper: many entries in one transaction
    if (this.packs.openPieces() >= AHEAD_LOAD_PIECES) {
      this.aheadPausedUntil = now + AHEAD_PAUSE_MS;
      return Promise.resolve();
    }
    // an entry's batch that starts meanwhile waits for this instead of storing the same content again
    const content = this.sealAhead(id, facts).catch(() => undefined);
    const stored: StoredAhead = { at: now, content };
    void content.then((c) => (stored.ready = c));
    this.ahead.set(id, stored);
    return content.then(() => undefined);
  }

  /** Message `id`'s content sealed into the open pack; undefined when it is gone, archived or too large. */
  private async sealAhead(id: string, facts: MessageFactsRow | undefined): Promise<SealedAhead | undefined> {
    // a message just queued is neither inspected nor archived; its facts were handed over by the ingress, or are read
    const row = facts ?? (await this.readMessages([id]))[0];
    if (!row || row.size > AHEAD_MAX_BYTES) return undefined;
    const bytes = await this.deps.spool.readWhole(id, AHEAD_MAX_BYTES);
    if (!bytes || this.loop.stopped) return undefined;
    return this.packs.seal({ id, receivedAt: row.created_at, bytes });
  }

  /** A content sealed ahead that no entry will carry: its pack need not wait for it. */
  private giveUp(id: string, stored: StoredAhead): void {
    void stored.content.then((sealed) => {
      if (sealed) this.packs.settle(sealed.pack, id);
    });
  }

  /**
   * For the inspection: message `id`'s archive entry written in the
   * transaction that records its verdict, so that no transaction of its own
   * (and no wait for one) comes between the verdict and the delivery. Only
   * when its content was stored ahead and is ready (waited for up to
   * AHEAD_WAIT_MS here, before the transaction: a transaction never waits
   * for the object store), within AHEAD_TTL_MS, and no journal report
   * has to be spooled first (archive.journalTo); undefined otherwise, and the
   * stage archives it after the verdict as before. The caller marks the
   * message archived in the same transaction.
   */
  async withVerdict(id: string): Promise<ArchiveInTransaction | undefined> {
    const stored = this.ahead.get(id);
    if (!stored || this.deps.journal?.to()) return undefined;
    if (stored.ready === undefined) await settledWithin(stored.content, AHEAD_WAIT_MS);
    const sealed = stored.ready;
    if (!sealed || this.loop.stopped) return undefined;
    if (!freshAhead(stored, this.deps.now())) {
      this.ahead.delete(id);
      this.giveUp(id, stored);
      return undefined;
    }
    const content = sealed.content;
    return {
      write: async (tx, now, message, updated) => {
        const recipients = updated ? archiveRecipientsOf(updated) : ((await queueRecipientsForArchiveOf(tx, [id])).get(id) ?? []);
        // a message that stays queued: nothing in this transaction reads its entry again, so its rows can go in with the
        // group's COMMIT (one INSERT a table for the whole group); one that leaves now has its entry read to finish it
        const atCommit = !recipients.every((r) => isFinalState(r.state));
        await insertSealedPiece(tx, sealed, now, atCommit);
        await insertArchiveEntries(tx, [this.entryOf(message, content, recipients, now)], now, { atCommit });
        return { finished: await leaveIfAllFinal(tx, id, recipients) };
      },
      committed: () => {
        if (this.ahead.get(id) === stored) this.ahead.delete(id);
        this.packs.settle(sealed.pack, id);
        // the inspection tells delivery (it may have claimed the message in the same transaction)
        this.archived([{ id, size: content.size }], 'verdict');
      },
    };
  }

  /** The rows of `ids` not archived yet, in the order asked (one read). */
  private async readMessages(ids: readonly string[]): Promise<MessageRow[]> {
    const found = await this.deps.db.all<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE archived = 0 AND id IN (${ids.map(() => '?').join(', ')})`, [...ids]);
    const rows = new Map(found.map((m) => [m.id, m]));
    return ids.map((id) => rows.get(id)).filter((m): m is MessageRow => m !== undefined);
  }

  /**
   * The contents of `messages` for their entries: those sealed ahead
   * (recently enough; their pieces go in with the entries: `pieces`), the
   * others stored now. Every piece taken is the caller's to settle.
   */
  private async contentsOf(messages: readonly MessageRow[]): Promise<{ written: Map<string, WrittenContent>; pieces: Map<string, SealedAhead> }> {
    const written = new Map<string, WrittenContent>();
    const pieces = new Map<string, SealedAhead>();
    await Promise.all(
      messages.map(async (m) => {
        const stored = this.ahead.get(m.id);
        if (!stored) return;
        this.ahead.delete(m.id);
        const sealed = await stored.content;
        if (!sealed) return;
        if (freshAhead(stored, this.deps.now())) {
          written.set(m.id, sealed.content);
          pieces.set(m.id, sealed);
        } else this.packs.settle(sealed.pack, m.id);
      }),
    );
    for (const [id, content] of await this.writeContents(messages.filter((m) => !written.has(m.id)))) written.set(id, content);
    return { written, pieces };
  }

  /**
   * Stores the packs of pending pieces a stopped process left (at the first
   * batch, then every RECOVER_EVERY_MS): on SQLite all of them (this is the
   * only daemon), on PostgreSQL those left alone for RECOVER_SHARED_AFTER_MS.
   * A failure is logged; the next look tries again.
   */
  private async recoverPending(now: number): Promise<void> {
    if (this.recoveredAt !== 0 && now - this.recoveredAt < RECOVER_EVERY_MS) return;
    this.recoveredAt = now;
    try {
      // this process's own packs are never among them (PendingPacks.recover leaves them out)
      await this.packs.recover(this.deps.db.dialect === 'sqlite' ? 0 : RECOVER_SHARED_AFTER_MS);
    } catch (err) {
      this.deps.log.error({ event: 'ARCHIVE_FLUSH_FAILED', err: { message: (err as Error).message } }, 'archive pack not stored; its contents stay in the database and it is tried again');
    }
  }

  /** Looks for messages to archive (called when inspection finished one). */
  wake(): void {
    this.loop.wake();
  }

  /** Archives the next batch of waiting messages (oldest first, skipping those that failed a moment ago); true when more may be waiting. */
  private async next(): Promise<boolean> {
    const now = this.deps.now();
    await this.recoverPending(now);
    for (const [id, at] of this.failedAt) if (now - at >= RETRY_AFTER_MS) this.failedAt.delete(id);
    const owned = ownedMessages(this.deps.db.dialect, this.deps.owner, now);
    const rows = await this.deps.db.all<{ id: string }>(nextToArchive(owned), [...owned.params, BATCH + this.failedAt.size + this.inBatch.size]);
    // a batch under way keeps its messages: the other takes the next ones
    const ids = rows.map((r) => r.id).filter((id) => !this.failedAt.has(id) && !this.inBatch.has(id)).slice(0, BATCH);
    if (ids.length === 0 || this.loop.stopped) return false;
    for (const id of ids) this.inBatch.add(id);
    try {
      await this.archiveBatch(ids);
    } finally {
      for (const id of ids) this.inBatch.delete(id);
    }
    // more may be waiting: go on at once
    return true;
  }

  /** Archives message `id` (idempotent: nothing when it is gone or already archived). */
  async archive(id: string): Promise<void> {
    await this.archiveBatch([id]);
  }

  /**
   * Archives `ids` together: their contents into one pack (large ones into
   * objects of their own), then every entry in one transaction. A message
   * whose content cannot be read or stored is left for a later try; the
   * others go on. `ids`: one batch (the stage takes at most BATCH).
   */
  async archiveBatch(ids: readonly string[]): Promise<void> {
    // one read for the batch (in the order asked), not one per message
    const messages = await this.readMessages(ids);
    if (messages.length === 0) return;
    const { written, pieces } = await this.contentsOf(messages);
    try {
      await this.archiveWritten(messages, written, pieces);
    } finally {
      // committed with their entries, or given up (those messages are archived again later, their contents stored anew)
      for (const [id, sealed] of pieces) this.packs.settle(sealed.pack, id);
    }
  }

  /** archiveBatch once the contents are written or sealed: the journal reports, then the entries in one transaction. */
  private async archiveWritten(messages: readonly MessageRow[], written: ReadonlyMap<string, WrittenContent>, pieces: ReadonlyMap<string, SealedAhead>): Promise<void> {
    const ready = messages.filter((m) => written.has(m.id));
    const journals = new Map<string, PreparedJournal>();
    for (const m of ready) {
      const content = written.get(m.id);
      if (!content) continue;
      try {
        const j = await this.prepareJournal(m, content);
        if (j) journals.set(m.id, j);
      } catch (err) {
        this.failed(m.id, err);
      }
    }
    const archived: MessageRow[] = [];
    const finished: string[] = [];
    try {
      await this.deps.db.transaction(async (tx) => {
        archived.length = 0;
        finished.length = 0;
        const now = this.deps.now();
        const candidates = ready.filter((m) => written.has(m.id) && !this.failedAt.has(m.id));
        if (candidates.length === 0) return;
        const marks = candidates.map(() => '?').join(', ');
        // deleted or archived meanwhile: left out
        // locked on PostgreSQL: a node taking over this node's mail at the same moment waits, then finds it archived
        const waiting = new Set((await tx.all<{ id: string }>(`SELECT id FROM messages WHERE archived = 0 AND id IN (${marks})${forNoKeyUpdate(tx)}`, candidates.map((m) => m.id))).map((r) => r.id));
        const batch = candidates.filter((m) => waiting.has(m.id));
        if (batch.length === 0) return;
        const recipients = await queueRecipientsForArchiveOf(tx, batch.map((m) => m.id));
        for (const m of batch) {
          const sealed = pieces.get(m.id);
          if (sealed) await insertSealedPiece(tx, sealed, now);
        }
        await insertArchiveEntries(
          tx,
          batch.map((m) => this.entryOf(m, written.get(m.id) as WrittenContent, recipients.get(m.id) ?? [], now)),
          now,
        );
        await tx.run(`UPDATE messages SET archived = 1 WHERE id IN (${batch.map(() => '?').join(', ')})`, batch.map((m) => m.id));
        for (const m of batch) {
          const journal = journals.get(m.id);
          if (journal) {
            await insertQueuedMessage(
              tx,
              internalMessage({ id: journal.id, createdAt: now, size: journal.size, spoolKeyId: journal.spoolKeyId, helo: journal.hostname, requirement: 'verify', recipients: [journal.to], bodyType: m.body_type, smtputf8: m.smtputf8 === 1 }),
            );
            await appendAuditEvent(tx, { type: 'archive:journaled', data: { queueId: m.id, journalQueueId: journal.id } }, now);
          }
          archived.push(m);
          if (await leaveIfAllFinal(tx, m.id, recipients.get(m.id) ?? [])) finished.push(m.id);
        }
      }, { rerunnable: true });
      // queued journal reports are the queue's now
      for (const m of archived) journals.delete(m.id);
    } catch (err) {
      // a COMMIT whose answer was lost may have queued them: they stay, for the orphan sweep
      if (maybeCommitted(err)) journals.clear();
      throw err;
    } finally {
      // journal reports whose message was not archived now are not queued: their files go
      await Promise.all([...journals.values()].map((j) => j.file.discard()));
    }
    for (const id of finished) await this.deps.spool.removeFinished(id);
    this.archived(archived.map((m) => ({ id: m.id, size: written.get(m.id)?.size })), 'stage');
  }

  /** A message's new entry: its row, its recipients' rows and its search terms. */
  private entryOf(m: MessageRow, content: WrittenContent, recipients: ArchiveRecipientColumns[], now: number): NewArchiveEntry {
    const verdict = archiveVerdict(m.verdict);
    return { entry: entryColumns(m, content, verdict, now, this.deps.retentionMs({ sender: m.sender, connector: m.connector })), recipients, terms: entryTerms(this.deps.keyring, content, verdict) };
  }

  /**
   * After messages were archived (committed): counted, logged, delivery
   * woken — by the stage; with a verdict the inspection tells delivery (it
   * may have claimed the message in the same transaction).
   */
  private archived(messages: readonly { id: string; size: number | undefined }[], by: 'verdict' | 'stage'): void {
    if (messages.length === 0) return;
    this.recovered('messages', this.messageFailures.succeed());
    for (const m of messages) {
      this.deps.metrics?.inc('sealgate_archived_total', {});
      this.deps.log.debug({ event: 'MESSAGE_ARCHIVED', queueId: m.id, bytes: m.size, with: by }, 'message archived');
    }
    if (by === 'stage') this.deps.onArchived?.();
  }

  /**
   * Stores the batch's contents: small messages in one pack, large ones
   * alone; a failing pack is retried message by message.
   */
  private async writeContents(messages: readonly MessageRow[]): Promise<Map<string, WrittenContent>> {
    const out = new Map<string, WrittenContent>();
    const source = (m: MessageRow): ContentSource => ({ id: m.id, receivedAt: m.created_at, open: () => this.deps.spool.read(m.id) });
    const alone: MessageRow[] = messages.filter((m) => m.size > OWN_OBJECT_BYTES);
    const packed: MessageRow[] = [];
    let bytes = 0;
    for (const m of messages) {
      if (m.size > OWN_OBJECT_BYTES) continue;
      if (packed.length > 0 && bytes >= PACK_TARGET_BYTES) alone.push(m);
      else {
        packed.push(m);
        bytes += m.size;
      }
    }
    const first = packed[0];
    if (packed.length > 1 && first) {
      try {
        // a pack's messages are small (at most PACK_TARGET_BYTES together): read them all at once, then write the pack in one go
        // (content stored in the database is decrypted in one call, not through a stream)
        const bodies = await mapLimit(packed, READS_AT_ONCE, async (m) => {
          const body = await this.deps.spool.readWhole(m.id, OWN_OBJECT_BYTES * 2);
          if (!body) throw new Error('spooled message larger than its queue row says');
          return body;
        });
        const contents = await writeArchiveObject(
          this.deps.objects,
          this.deps.keyring,
          archivePackKey(first.id, first.created_at),
          packed.map((m, i) => {
            const bytes = bodies[i] ?? Buffer.alloc(0);
            return { id: m.id, receivedAt: m.created_at, open: () => Readable.from([bytes]), bytes };
          }),
        );
        contents.forEach((c, i) => {
          const m = packed[i];
          if (m) out.set(m.id, c);
        });
      } catch (err) {
        // one unreadable message must not hold the others back: each alone finds which
        this.deps.log.warn({ event: 'ARCHIVE_PACK_FAILED', messages: packed.length, err: { message: (err as Error).message } }, 'archive pack not stored; archiving its messages one by one');
        alone.push(...packed);
      }
    } else alone.push(...packed);
    for (const m of alone) {
      if (out.has(m.id)) continue;
      try {
        const [c] = await writeArchiveObject(this.deps.objects, this.deps.keyring, archiveObjectKey(m.id, m.created_at), [source(m)]);
        if (c) out.set(m.id, c);
      } catch (err) {
        this.failed(m.id, err);
      }
    }
    return out;
  }

  private failed(id: string, err: unknown): void {
    this.failedAt.set(id, this.deps.now());
    this.deps.metrics?.inc('sealgate_archive_failures_total', {});
    const first = this.messageFailures.fail();
    this.deps.log[first ? 'error' : 'debug']({ event: 'ARCHIVE_FAILED', queueId: id, err: { message: (err as Error).message } }, 'message not archived; retried later (its delivery waits)');
  }

  /** With archive.journalTo: the journal report of the message, spooled (its queue rows go in the archive transaction). */
  private async prepareJournal(msg: MessageRow, content: WrittenContent): Promise<PreparedJournal | undefined> {
    const j = this.deps.journal;
    const to = j?.to();
    if (!j || !to) return undefined;
    const now = this.deps.now();
    const id = generateQueueId(now, j.random);
    const recipients = await this.deps.db.all<{ address: string }>('SELECT address FROM recipients WHERE message_id = ? ORDER BY seq', [msg.id]);
    const report = journalReport(
      {
        queueId: msg.id,
        messageId: content.messageId,
        sender: msg.sender,
        recipients: recipients.map((r) => r.address),
        receivedAt: msg.created_at,
        connector: msg.connector,
        to,
        hostname: j.hostname,
        reportId: id,
        now,
        binary: msg.body_type === 'BINARYMIME',
      },
      this.deps.spool.read(msg.id),
    );
    const counter = new ByteCounter();
    const file = await this.deps.spool.write(id, report, [counter]);
    await file.commit();
    return { id, file, size: counter.bytes, to, hostname: j.hostname, spoolKeyId: j.spoolKeyId() };
  }
}

interface PreparedJournal {
  readonly id: string;
  readonly file: PendingSpoolFile;
  readonly size: number;
  readonly to: string;
  readonly hostname: string;
  readonly spoolKeyId: string;
}

/**
 * In an archiving transaction: a message whose recipients (as just read)
 * are all final already — blocked by the policy, bounced by an operator —
 * leaves the queue now; true when it did (its spooled content is then the
 * caller's to remove after the commit).
 */
async function leaveIfAllFinal(tx: SqlQueryable, id: string, recipients: readonly ArchiveRecipientColumns[]): Promise<boolean> {
  return recipients.every((r) => isFinalState(r.state)) && (await removeIfFinished(tx, id));
}

/** In the transaction that writes its entry: the piece sealed ahead, at the place in its pack the entry names (`atCommit`: with the group's COMMIT, as the entry's rows). */
async function insertSealedPiece(tx: AuditTx, sealed: SealedAhead, now: number, atCommit = false): Promise<void> {
  const piece = { objectKey: sealed.content.objectKey, offset: sealed.content.offset, ciphertext: sealed.ciphertext };
  const held = atCommit ? entryRowsAtCommit(tx) : undefined;
  if (held) held.add(ARCHIVE_PENDING, [pendingPieceRow(piece, now)]);
  else await insertPendingPiece(tx, piece, now);
}

/** Whether a content stored ahead at `stored.at` may still be used at `now` (AHEAD_TTL_MS). */
function freshAhead(stored: StoredAhead, now: number): boolean {
  return now - stored.at < AHEAD_TTL_MS;
}

/** Resolves once `promise` has settled or `ms` have passed, whichever is first (never rejects). */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}

function entryColumns(msg: MessageRow, content: WrittenContent, verdict: StoredVerdict, now: number, retentionMs: number) {
  return {
    id: msg.id,
    origin: msg.connector === 'portal' ? 'portal-reply' : 'smtp',
    message_id: content.messageId,
    received_at: msg.created_at,
    archived_at: now,
    sender: msg.sender,
    sender_domain: addressDomain(msg.sender),
    connector: msg.connector,
    client_ip: msg.client_ip,
    tls_version: msg.tls_version,
    auth_user: msg.auth_user,
    size: content.size,
    content_sha256: content.sha256,
    object_key: content.objectKey,
    object_offset: content.offset,
    object_length: content.length,
    wrapped_key: content.wrappedKey,
    key_id: content.keyId,
    subject_sealed: content.subjectSealed,
    verdict: verdict.json,
    retain_until: msg.created_at + retentionMs,
    hold: 0,
    purged_at: null,
  };
}

function entryTerms(keyring: Keyring, content: WrittenContent, verdict: StoredVerdict): string[] {
  return [...subjectTerms(keyring, content.subject), ...verdict.categories.map(categoryTerm)];
}
