/**
 * The append-only, hash-chained audit log in the `audit_log` table.
 *
 * Each row stores seq (1, 2, 3 … without gaps), ts, type, data (canonical
 * JSON), prev_hash (the previous row's hash, GENESIS_HASH for seq 1) and hash
 * (see chain.ts). Appends happen inside the caller's write transaction, so an
 * event commits or rolls back with the writes it describes. One chain for the
 * whole database, however many nodes write it (docs/scale-out.md, "The audit
 * chain with several nodes"):
 *
 * - SQLite: the transaction is BEGIN IMMEDIATE (Database.transaction), which
 *   holds the file's write lock from the start: reading the last row and
 *   inserting the next one cannot interleave with another connection or
 *   process. The head is read once per group commit (its first append);
 *   each event is chained onto it in memory and the group's events are
 *   inserted together just before its COMMIT (PendingAuditRows, the
 *   group's deferred writes): one multi-row INSERT for the group instead
 *   of one per event. A transaction of the group that fails takes its
 *   events back with it. Inside a write transaction the chain's head is
 *   therefore read with `auditChainHead`, never from the table.
 * - PostgreSQL: transactions of several nodes run at once, so the append
 *   first takes a transaction-scoped advisory lock (AUDIT_CHAIN_LOCK) and
 *   then reads the head: appends queue for the head one after another, and
 *   the lock is held until the transaction commits or rolls back, so the
 *   next append reads a head that is committed (or gone). Nothing is kept
 *   in memory between transactions: another node may have appended since.
 *
 * Either way seq is the primary key, so a racing second insert of the same
 * seq fails rather than forking the chain.
 *
 * The chain makes the log tamper-evident, not tamper-proof: someone who can
 * write the database can rewrite every row from some point on with fresh
 * hashes. `verifyAuditChain` finds any other alteration; comparing its
 * `lastHash` with a copy kept elsewhere finds that one too.
 */
import { DeferredRows, deferredWriter, type DeferredWrites, type SqlValue } from '../db/database.js';
import type { AtCommitSql, SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import { insertRowsChunked, type RowsTable } from '../db/rows-at-commit.js';
import { SealgateError } from '../errors.js';
import { canonicalJson, chainedHash, GENESIS_HASH } from './chain.js';
import { validateAuditEvent, type AuditEvent, type AuditEventType } from './events.js';

/** Rows per query when verifying. */
export const AUDIT_VERIFY_PAGE_SIZE = 1000;

export interface AppendedAuditEvent {
  readonly seq: number;
  readonly hash: string;
}

/**
 * A transaction's statements as the audit log uses them: the deferred writes
 * are those of SQLite's group commit (database.ts), absent on PostgreSQL and
 * outside a transaction.
 */
export type AuditTx = SqlQueryable & { readonly deferred?: Map<string, DeferredWrites> | undefined; readonly atCommit?: Map<string, AtCommitSql> | undefined };

/**
 * The PostgreSQL advisory lock key that serialises appends to the chain (a
 * fixed number of our own, not the migrations' key in schema-postgres.ts).
 */
export const AUDIT_CHAIN_LOCK = 0x5ea1a0d1;

/**
 * Makes `tx` (an open write transaction) the only writer of the chain until
 * it ends, so that what it reads of the chain's head is still the head when
 * it appends: PostgreSQL's transaction-scoped advisory lock (taking it again
 * in the same transaction is free). On SQLite the transaction holds the
 * file's write lock from its start already: nothing to do.
 */
export async function lockAuditChain(tx: SqlQueryable): Promise<void> {
  if (tx.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?) AS locked', [AUDIT_CHAIN_LOCK]);
}

/**
 * Appends one event. MUST be called with the `tx` of an open write
 * transaction (`db.transaction(async (tx) => …)`), so the event commits or
 * rolls back together with the caller's other writes and the last-row read
 * is protected by the write lock (SQLite) or the chain lock (PostgreSQL,
 * held until that transaction ends). `now` is ms since the epoch (a safe
 * integer). Throws a TypeError for an unknown type or malformed data (see
 * validateAuditEvent) before touching the database.
 */
export async function appendAuditEvent<T extends AuditEventType>(tx: AuditTx, event: AuditEvent<T>, now: number): Promise<AppendedAuditEvent> {
  return (await appendAuditEvents(tx, [event], now))[0] as AppendedAuditEvent;
}

/** The name of the audit rows among a group commit's deferred writes. */
const AUDIT_ROWS = 'audit-chain-rows';

type ChainHead = { readonly seq: number; readonly hash: string } | undefined;

/**
 * A group commit's audit events, chained in memory onto the head read at
 * the group's first append and inserted before its COMMIT (DeferredWrites).
 */
class PendingAuditRows extends DeferredRows {
  /** The head after each row. */
  private readonly heads: AppendedAuditEvent[] = [];
  private start: ChainHead;
  /** The head as the group found it, read once. */
  readonly ready: Promise<void>;

  constructor(tx: SqlQueryable) {
    super(insertRows);
    this.ready = readChainHead(tx).then((head) => {
      this.start = head;
    });
  }

  head(): ChainHead {
    return this.heads[this.heads.length - 1] ?? this.start;
  }

  addChained(built: { rows: SqlValue[][]; out: AppendedAuditEvent[] }): void {
    this.add(built.rows);
    this.heads.push(...built.out);
  }

  override rollbackTo(mark: number): void {
    super.rollbackTo(mark);
    this.heads.length = mark;
  }
}

/** The group's pending audit rows, made (and the head read) at its first append; concurrent appends of one transaction share it. */
async function pendingRows(deferred: Map<string, DeferredWrites>, tx: SqlQueryable): Promise<PendingAuditRows> {
  const pending = deferredWriter(deferred, AUDIT_ROWS, () => new PendingAuditRows(tx));
  await pending.ready;
  return pending;
}

/**
 * The chain's head as the transaction `tx` sees it: the last event appended
 * in it or earlier in its group (not yet in the table), else the table's
 * last row. What a write transaction that signs or covers the head reads.
 */
export async function auditChainHead(tx: AuditTx): Promise<{ seq: number; hash: string }> {
  const head = tx.deferred ? (await pendingRows(tx.deferred, tx)).head() : await readChainHead(tx);
  return head ?? { seq: 0, hash: GENESIS_HASH };
}

async function readChainHead(tx: SqlQueryable): Promise<ChainHead> {
  return tx.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
}

/** The chain's table, for multi-row INSERTs of 200 events at most (6 parameters each, far below SQLite's and PostgreSQL's limits). */
const AUDIT_LOG: RowsTable = { name: 'audit_log', columns: ['seq', 'ts', 'type', 'data', 'prev_hash', 'hash'], perStatement: 200 };

type ValidEvent = ReturnType<typeof validateAuditEvent>;

function checkTime(now: number): void {
  if (!Number.isSafeInteger(now) || now < 0) throw new TypeError('audit event time must be a whole number of ms since the epoch');
}

/** Pure: the rows (and their seq and hash) of `events` chained after `last`. */
function chainFrom(events: readonly ValidEvent[], now: number, last: ChainHead): { rows: SqlValue[][]; out: AppendedAuditEvent[] } {
  let seq = last ? last.seq : 0;
  let prevHash = last ? last.hash : GENESIS_HASH;
  const rows: SqlValue[][] = [];
  const out: AppendedAuditEvent[] = [];
  for (const { type, data } of events) {
    seq++;
    const dataJson = canonicalJson(data);
    const hash = chainedHash(prevHash, seq, now, type, dataJson);
    rows.push([seq, now, type, dataJson, prevHash, hash]);
    out.push({ seq, hash });
    prevHash = hash;
  }
  return { rows, out };
}

function insertRows(tx: SqlQueryable, rows: readonly SqlValue[][]): Promise<void> {
  return insertRowsChunked(tx, AUDIT_LOG, rows);
}

/**
 * Appends `events` in order, in the caller's write transaction (as
 * appendAuditEvent): one read of the chain head and multi-row INSERTs, for
 * a stage that records many events at once (the archive). Every event is
 * validated before anything is written. Returns each event's seq and hash.
 */
export async function appendAuditEvents(tx: AuditTx, events: readonly AuditEvent<AuditEventType>[], now: number): Promise<AppendedAuditEvent[]> {
  const valid = events.map((e) => validateAuditEvent(e));
  checkTime(now);
  if (valid.length === 0) return [];
  if (tx.dialect === 'postgres') {
    // several nodes: one round trip takes the chain lock (held until this transaction ends), reads the committed head
    // and chains the events onto it with the same hash as chainFrom (migration 33, sealgate_audit_append)
    const rows = await tx.all<{ out_seq: number | string; out_hash: string }>('SELECT out_seq, out_hash FROM sealgate_audit_append(?, ?) ORDER BY out_seq', [AUDIT_CHAIN_LOCK, appendArgument(valid, now)]);
    return rows.map((r) => ({ seq: Number(r.out_seq), hash: r.out_hash }));
  }
  if (tx.deferred) {
    // SQLite's group commit: chained now, inserted with the group's other events before its COMMIT
    const pending = await pendingRows(tx.deferred, tx);
    const built = chainFrom(valid, now, pending.head());
    pending.addChained(built);
    return built.out;
  }
  // no group commit (statements on a Database outside a transaction): read the head and insert now
  const built = chainFrom(valid, now, await readChainHead(tx));
  await insertRows(tx, built.rows);
  return built.out;
}

/** An archive recipient row whose record_seq the at-commit append sets (its archive:record event's seq). */
export interface RecordOf {
  readonly archiveId: string;
  readonly seq: number;
}

/** One event as sealgate_audit_append takes it: its type (also as JSON), its canonical data, its time (decimal text). */
function appendItem({ type, data }: ValidEvent, now: number, recordOf?: RecordOf): { type: string; typeJson: string; data: string; ts: string; recordOf?: RecordOf } {
  return { type, typeJson: JSON.stringify(type), data: canonicalJson(data), ts: String(now), ...(recordOf ? { recordOf } : {}) };
}

/** The events as sealgate_audit_append takes them (JSON). */
function appendArgument(events: readonly ValidEvent[], now: number): string {
  return JSON.stringify(events.map((e) => appendItem(e, now)));
}

/** The at-commit audit events of one PostgreSQL transaction, appended in its COMMIT's round trip. */
class AtCommitAuditEvents implements AtCommitSql {
  readonly events: { readonly valid: ValidEvent; readonly now: number; readonly recordOf?: RecordOf | undefined }[] = [];

  sql(escapeLiteral: (value: string) => string): string {
    // one call for the transaction's events, in the order they were given (each with its own time)
    const argument = JSON.stringify(this.events.map(({ valid, now, recordOf }) => appendItem(valid, now, recordOf)));
    return `SELECT count(*) FROM sealgate_audit_append(${AUDIT_CHAIN_LOCK}, ${escapeLiteral(argument)})`;
  }
}

/**
 * Appends an event whose seq and hash the caller does not need, in `tx`,
 * as late as the database allows, so a hot transaction holds the chain's
 * lock as briefly as it can: on PostgreSQL in the COMMIT's own round trip
 * (AtCommitSql: the lock is then held for the server's work and the WAL
 * flush, never while the node's event loop is busy elsewhere); on SQLite
 * as appendAuditEvent (the group commit inserts it before its COMMIT).
 * Validated now: an invalid event throws before anything is written. The
 * events of one transaction keep their order among themselves; on
 * PostgreSQL an appendAuditEvent in the same transaction comes before them
 * (on SQLite every event is in call order).
 */
export async function appendAuditAtCommit<T extends AuditEventType>(tx: AuditTx, event: AuditEvent<T>, now: number): Promise<void> {
  if (!deferAuditEvent(tx, event, now)) await appendAuditEvent(tx, event, now);
}

/**
 * The PostgreSQL half of appendAuditAtCommit: when `tx` carries its work to
 * the COMMIT (a PostgreSQL transaction), validates `event` and queues it
 * there, and returns true; otherwise (SQLite) returns false and writes
 * nothing — the caller appends it now. With `recordOf`, the append also
 * sets that archive recipient row's record_seq to the event's seq.
 */
export function deferAuditEvent<T extends AuditEventType>(tx: AuditTx, event: AuditEvent<T>, now: number, recordOf?: RecordOf): boolean {
  if (tx.dialect !== 'postgres' || !tx.atCommit) return false;
  const valid = validateAuditEvent(event);
  checkTime(now);
  let pending = tx.atCommit.get(AUDIT_ROWS) as AtCommitAuditEvents | undefined;
  if (!pending) {
    pending = new AtCommitAuditEvents();
    tx.atCommit.set(AUDIT_ROWS, pending);
  }
  pending.events.push({ valid, now, recordOf });
  return true;
}

/** Appends one event in a transaction of its own. */
export async function appendAudit<T extends AuditEventType>(db: SqlDatabase, event: AuditEvent<T>, now: number): Promise<AppendedAuditEvent> {
  validateAuditEvent(event); // fail before taking the write lock
  return db.transaction((tx) => appendAuditEvent(tx, event, now));
}

export type AuditBreakReason = 'hash_mismatch' | 'prev_mismatch' | 'gap' | 'bad_data';

export type AuditVerifyResult =
  | { readonly ok: true; readonly count: number; readonly lastHash: string }
  | {
      readonly ok: false;
      /** Events before the break that verified. */
      readonly count: number;
      /** seq of the first event that does not verify (for 'gap': the missing seq). */
      readonly brokenAt: number;
      readonly reason: AuditBreakReason;
    };

export interface AuditVerifyOptions {
  /** Rows per query (default AUDIT_VERIFY_PAGE_SIZE). */
  readonly pageSize?: number;
  /** Verify only what follows an event already verified (its seq and hash): the alert monitor's incremental check. */
  readonly from?: { readonly seq: number; readonly hash: string };
}

interface StoredRow {
  seq: unknown;
  ts: unknown;
  type: unknown;
  data: unknown;
  prev_hash: unknown;
  hash: unknown;
}

/** Why `row`, expected at `seq` after an event whose hash is `prevHash`, does not verify; undefined if it does. */
function checkRow(row: StoredRow, seq: number, prevHash: string): AuditBreakReason | undefined {
  if (row.seq !== seq) return 'gap';
  if (row.prev_hash !== prevHash) return 'prev_mismatch';
  if (!Number.isSafeInteger(row.ts) || typeof row.type !== 'string' || typeof row.data !== 'string') return 'bad_data';
  let data: unknown;
  try {
    data = JSON.parse(row.data);
    if (canonicalJson(data) !== row.data) return 'bad_data';
  } catch {
    return 'bad_data';
  }
  // row.data is the canonical JSON of data (checked above)
  const expected = chainedHash(prevHash, seq, row.ts as number, row.type, row.data);
  return row.hash === expected ? undefined : 'hash_mismatch';
}

/**
 * Recomputes the whole chain, reading `pageSize` rows per query, and reports
 * the FIRST event that does not verify. Checks, per event in seq order:
 * 'gap' (seq is not previous + 1, or the first is not 1: an event was
 * removed, moved or inserted), 'prev_mismatch' (prev_hash is not the previous
 * event's hash), 'bad_data' (ts not an integer, type/data not text, data not
 * JSON or not in canonical form), 'hash_mismatch' (hash is not the hash of
 * the stored fields). An empty log verifies with count 0 and GENESIS_HASH.
 * Removing events from the END cannot be seen from the chain alone: compare
 * `lastHash`/`count` with a previously recorded value.
 */
export async function verifyAuditChain(db: SqlQueryable, options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
  const pageSize = options.pageSize ?? AUDIT_VERIFY_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  const columns = 'SELECT seq, ts, type, data, prev_hash, hash FROM audit_log';
  let prevHash = options.from?.hash ?? GENESIS_HASH;
  let count = options.from?.seq ?? 0;
  let lastSeq: number | undefined = options.from?.seq;
  for (;;) {
    const rows =
      lastSeq === undefined
        ? await db.all<StoredRow>(`${columns} ORDER BY seq LIMIT ?`, [pageSize])
        : await db.all<StoredRow>(`${columns} WHERE seq > ? ORDER BY seq LIMIT ?`, [lastSeq, pageSize]);
    for (const row of rows) {
      const seq = count + 1;
      const reason = checkRow(row, seq, prevHash);
      if (reason) return { ok: false, count, brokenAt: seq, reason };
      prevHash = row.hash as string;
      lastSeq = seq;
      count = seq;
    }
    if (rows.length < pageSize) return { ok: true, count, lastHash: prevHash };
  }
}

export interface AuditRow {
  readonly seq: number;
  readonly ts: number;
  readonly type: string;
  /** The event data, parsed from its stored JSON. */
  readonly data: unknown;
  readonly hash: string;
}

/**
 * Events in ascending seq order. Without `afterSeq`: the last `limit` events.
 * With `afterSeq`: the first `limit` events after that seq (so a follower
 * polling with the last seq it saw never skips an event; call again while a
 * full page comes back). Reading does not verify the chain; a row whose data
 * is not JSON throws SG_AUDIT_BROKEN.
 */
export async function tailAudit(db: SqlQueryable, limit: number, afterSeq?: number): Promise<AuditRow[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  if (afterSeq !== undefined && !Number.isSafeInteger(afterSeq)) throw new RangeError('afterSeq must be an integer');
  const rows =
    afterSeq === undefined
      ? await db.all<{ seq: number; ts: number; type: string; data: string; hash: string }>(
          'SELECT seq, ts, type, data, hash FROM (SELECT seq, ts, type, data, hash FROM audit_log ORDER BY seq DESC LIMIT ?) AS newest ORDER BY seq',
          [limit],
        )
      : await db.all<{ seq: number; ts: number; type: string; data: string; hash: string }>('SELECT seq, ts, type, data, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?', [afterSeq, limit]);
  return rows.map((r) => {
    let data: unknown;
    try {
      data = JSON.parse(r.data);
    } catch (err) {
      throw new SealgateError('SG_AUDIT_BROKEN', { message: `audit event #${r.seq} has unreadable data; run "sealgate audit verify"`, cause: err, detail: { seq: r.seq } });
    }
    return { seq: r.seq, ts: r.ts, type: r.type, data, hash: r.hash };
  });
}
