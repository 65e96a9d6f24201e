/**
 * `sealgate archive verify`: checks that the archive is what the audit chain
 * and the signed checkpoints say it is, and reports the FIRST thing that is
 * not. Every pass reads in pages (keyset pagination, PAGE_SIZE rows per
 * query), so memory stays flat at any size. The checks, in this order:
 *
 * 1. audit  — the hash chain itself (verifyAuditChain).
 * 2. checkpoint — each checkpoint in order: numbered 1, 2, 3 …, linked to the
 *    previous one's hash, its hash recomputed, signed by the gateway key
 *    (and that key is the expected one, when given), never going back in the
 *    chain, and the audit event it signed exists with the hash it signed. A
 *    checkpoint beyond the chain's end means the newest entries were removed.
 * 3. row — every archive_messages / archive_recipients row: the audit event
 *    at its record_seq is an archive:record naming this row, and its sha256
 *    is the row's canonical hash (records.ts).
 * 4. record — every archive:record event: its row exists and its record_seq
 *    is at or after the event (else the row is missing or was rolled back to
 *    an older version); every archive:checkpoint event: the checkpoint it
 *    names exists with that hash, numbered 1, 2, 3 … like the checkpoints;
 *    and every checkpoint has its event.
 * 5. head — the newest entries are covered: there is a checkpoint once the
 *    archive has anything, and the newest one is not older than the
 *    checkpoint interval plus slack unless the gateway stopped cleanly after
 *    it (a `stop` checkpoint).
 * 6. anchor — checkpoints from a copy kept outside the database (the
 *    ARCHIVE_CHECKPOINT log lines): each is validly signed and present in
 *    the database with the same hash.
 *
 * The guarantee and its limit (docs/archive.md): without the signing key
 * (sealed under the master key) a checkpoint cannot be forged, so the
 * database cannot be rolled back or truncated below a checkpoint without
 * this showing it. Someone who can write the database AND holds the master
 * key could rewrite everything and sign again; the logged checkpoints, kept
 * elsewhere, are the anchor that catches that. Events after the newest
 * checkpoint (at most CHECKPOINT_EVERY_EVENTS, at most an hour) are covered
 * only by the chain.
 */
import { GENESIS_HASH } from '../audit/chain.js';
import { verifyAuditChain } from '../audit/log.js';
import type { Dialect, SqlQueryable } from '../db/sql-database.js';
import { CHECKPOINT_INTERVAL_MS, checkpointHash, checkpointSignatureValid, type Checkpoint } from './checkpoints.js';
import { recordHash, type ArchivePart } from './records.js';
import { readPublicSigningKey, type PublicSigningKey } from './signing-key.js';

/** Rows per query. */
export const VERIFY_PAGE_SIZE = 1000;
/** How late the writer may be with its hourly checkpoint (a busy or briefly paused gateway). */
export const CHECKPOINT_SLACK_MS = 15 * 60 * 1000;

export type VerifyCheck = 'audit' | 'checkpoint' | 'row' | 'record' | 'head' | 'anchor';

export interface ArchiveProblem {
  readonly check: VerifyCheck;
  /** What is bad, e.g. `audit event #17`, `entry Q1 recipient #2`, `checkpoint #3`. */
  readonly entry: string;
  /** A short code, e.g. hash_mismatch, row_missing, truncated, stale. */
  readonly reason: string;
  /** One sentence: what was found and what it means. */
  readonly detail: string;
}

export interface ArchiveVerifySummary {
  readonly auditEvents: number;
  readonly lastHash: string;
  readonly messages: number;
  readonly recipients: number;
  readonly records: number;
  readonly checkpoints: number;
  readonly keyFingerprint: string | undefined;
  readonly newestCheckpoint: { readonly seq: number; readonly ts: number; readonly reason: string; readonly auditSeq: number } | undefined;
  /** Audit events after the newest checkpoint's head (covered by the chain only). */
  readonly uncovered: number;
  /** Logged checkpoints checked against the database. */
  readonly anchors: number;
}

export type ArchiveVerifyResult = ({ readonly ok: true } & ArchiveVerifySummary) | { readonly ok: false; readonly problem: ArchiveProblem };

/** A row an archive:record event names. */
export interface RowRef {
  readonly queueId: string;
  readonly part: ArchivePart;
  readonly seq: number | undefined;
}

export interface ArchiveVerifyOptions {
  /** ms since the epoch: the freshness check's "now". */
  readonly now: number;
  readonly pageSize?: number;
  /** Newest checkpoint's greatest allowed age when the gateway did not stop cleanly after it. */
  readonly maxCheckpointAgeMs?: number;
  /** The signing key's fingerprint as the auditor knows it from elsewhere: any other key fails. */
  readonly expectedFingerprint?: string;
  /** Checkpoints kept outside the database (the ARCHIVE_CHECKPOINT log lines). */
  readonly anchors?: AsyncIterable<Checkpoint> | Iterable<Checkpoint>;
  /**
   * Hook for retention: whether a row that no longer exists was disposed of
   * legitimately (a disposal event in the chain). Purge keeps the rows
   * today (it clears the key and records the new row), so by default no
   * missing row is explained.
   */
  readonly disposed?: (ref: RowRef, eventSeq: number) => Promise<boolean> | boolean;
  /** Called after each page: the pass and how many items it has done. */
  readonly onProgress?: (pass: VerifyCheck, done: number) => void;
}

class Found extends Error {
  constructor(readonly problem: ArchiveProblem) {
    super(problem.detail);
  }
}

function fail(check: VerifyCheck, entry: string, reason: string, detail: string): never {
  throw new Found({ check, entry, reason, detail });
}

function rowName(ref: RowRef): string {
  return ref.part === 'message' ? `entry ${ref.queueId}` : `entry ${ref.queueId} recipient #${String(ref.seq)}`;
}

function parseJson(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The row an archive:record event's data names; undefined when malformed. */
function refOf(data: Record<string, unknown>): RowRef | undefined {
  const { queueId, part, seq } = data;
  if (typeof queueId !== 'string') return undefined;
  if (part === 'message' && seq === undefined) return { queueId, part, seq: undefined };
  if (part === 'recipient' && Number.isSafeInteger(seq)) return { queueId, part, seq: seq as number };
  return undefined;
}

interface Context {
  readonly db: SqlQueryable;
  readonly pageSize: number;
  readonly headSeq: number;
  readonly progress: (pass: VerifyCheck, done: number) => void;
}

// ---- 2. checkpoints ------------------------------------------------------------------------------

interface CheckpointJoinRow {
  seq: number;
  ts: number;
  reason: string;
  audit_seq: number;
  audit_hash: string;
  prev_hash: string;
  hash: string;
  key_fingerprint: string;
  signature: string;
  ev_hash: string | null;
}

async function verifyCheckpoints(ctx: Context, key: PublicSigningKey | undefined): Promise<{ count: number; newest: Checkpoint | undefined }> {
  let prevHash = GENESIS_HASH;
  let prevAuditSeq = 0;
  let count = 0;
  let newest: Checkpoint | undefined;
  for (;;) {
    const rows = await ctx.db.all<CheckpointJoinRow>(
      `SELECT c.seq, c.ts, c.reason, c.audit_seq, c.audit_hash, c.prev_hash, c.hash, c.key_fingerprint, c.signature, a.hash AS ev_hash
         FROM archive_checkpoints c LEFT JOIN audit_log a ON a.seq = c.audit_seq
        WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
      [count, ctx.pageSize],
    );
    for (const r of rows) {
      const n = count + 1;
      const name = `checkpoint #${n}`;
      if (r.seq !== n) fail('checkpoint', name, 'gap', `checkpoint #${n} is missing (the next one is #${r.seq}): a checkpoint was deleted or renumbered`);
      const c: Checkpoint = { seq: r.seq, ts: r.ts, reason: r.reason, auditSeq: r.audit_seq, auditHash: r.audit_hash, prevHash: r.prev_hash, hash: r.hash, keyFingerprint: r.key_fingerprint, signature: r.signature };
      if (!Number.isSafeInteger(c.ts) || !Number.isSafeInteger(c.auditSeq) || typeof c.reason !== 'string' || typeof c.auditHash !== 'string' || typeof c.signature !== 'string') {
        fail('checkpoint', name, 'bad_data', `${name} has a column of the wrong type`);
      }
      if (c.prevHash !== prevHash) fail('checkpoint', name, 'prev_mismatch', `${name} does not link to the previous checkpoint's hash: checkpoints were removed, swapped or rewritten`);
      if (checkpointHash(c) !== c.hash) fail('checkpoint', name, 'hash_mismatch', `${name}'s stored hash is not the hash of its fields: it was edited`);
      if (!key) fail('checkpoint', name, 'no_key', `${name} exists but the database holds no gateway signing key: the key was removed`);
      if (c.keyFingerprint !== key.fingerprint) fail('checkpoint', name, 'other_key', `${name} names signing key ${c.keyFingerprint}, not the gateway key ${key.fingerprint}`);
      if (!checkpointSignatureValid(key.publicKey, c, c.signature)) fail('checkpoint', name, 'bad_signature', `${name}'s signature is not valid under the gateway key: it was forged or edited`);
      if (c.auditSeq < prevAuditSeq) fail('checkpoint', name, 'went_back', `${name} signed audit event #${c.auditSeq}, before the previous checkpoint's #${prevAuditSeq}`);
      if (c.auditSeq > ctx.headSeq) {
        fail('checkpoint', name, 'truncated', `${name} signed audit event #${c.auditSeq} but the chain ends at #${ctx.headSeq}: the newest entries were removed`);
      }
      const expectedHash = c.auditSeq === 0 ? GENESIS_HASH : r.ev_hash;
      if (expectedHash !== c.auditHash) {
        fail('checkpoint', name, 'audit_mismatch', `audit event #${c.auditSeq} is not the event ${name} signed: the chain was rewritten from there on`);
      }
      prevHash = c.hash;
      prevAuditSeq = c.auditSeq;
      count = n;
      newest = c;
    }
    ctx.progress('checkpoint', count);
    if (rows.length < ctx.pageSize) return { count, newest };
  }
}

// ---- 3. rows -------------------------------------------------------------------------------------

/** Checks one row against the audit event at its record_seq. */
function checkRow(ctx: Context, ref: RowRef, row: Record<string, unknown>): void {
  const name = rowName(ref);
  const recordSeq = row.record_seq;
  if (!Number.isSafeInteger(recordSeq) || typeof row.ev_type !== 'string') {
    const beyond = Number.isSafeInteger(recordSeq) && (recordSeq as number) > ctx.headSeq;
    fail('row', name, 'no_record', `${name} names audit event #${String(recordSeq)} as its record, ${beyond ? `but the chain ends at #${ctx.headSeq}: the newest entries were removed` : 'which does not exist'}`);
  }
  const at = `audit event #${String(recordSeq)}`;
  if (row.ev_type !== 'archive:record') fail('row', name, 'not_a_record', `${name} names ${at} as its record, but that is a ${row.ev_type} event`);
  const data = parseJson(row.ev_data);
  const evRef = data && refOf(data);
  if (!data || !evRef) fail('row', name, 'not_a_record', `${at} (the record of ${name}) has malformed data`);
  if (evRef.queueId !== ref.queueId || evRef.part !== ref.part || evRef.seq !== ref.seq) {
    fail('row', name, 'wrong_row', `${at}, named by ${name}, records ${rowName(evRef)}: rows were swapped or copied`);
  }
  if (recordHash(ref.part, row) !== data.sha256) fail('row', name, 'hash_mismatch', `${name} does not match the hash recorded in ${at}: a column was changed`);
}

async function verifyMessageRows(ctx: Context): Promise<number> {
  let count = 0;
  let after = '';
  for (;;) {
    const rows = await ctx.db.all<Record<string, unknown>>(
      `SELECT m.*, a.type AS ev_type, a.data AS ev_data FROM archive_messages m LEFT JOIN audit_log a ON a.seq = m.record_seq WHERE m.id > ? ORDER BY m.id LIMIT ?`,
      [after, ctx.pageSize],
    );
    for (const row of rows) {
      const id = String(row.id);
      checkRow(ctx, { queueId: id, part: 'message', seq: undefined }, row);
      after = id;
      count++;
    }
    ctx.progress('row', count);
    if (rows.length < ctx.pageSize) return count;
  }
}

async function verifyRecipientRows(ctx: Context, before: number): Promise<number> {
  let count = 0;
  let after: [string, number] = ['', -1];
  for (;;) {
    const rows = await ctx.db.all<Record<string, unknown>>(
      `SELECT r.*, a.type AS ev_type, a.data AS ev_data FROM archive_recipients r LEFT JOIN audit_log a ON a.seq = r.record_seq
        WHERE (r.archive_id, r.seq) > (?, ?) ORDER BY r.archive_id, r.seq LIMIT ?`,
      [after[0], after[1], ctx.pageSize],
    );
    for (const row of rows) {
      const id = String(row.archive_id);
      const seq = Number(row.seq);
      checkRow(ctx, { queueId: id, part: 'recipient', seq }, row);
      after = [id, seq];
      count++;
    }
    ctx.progress('row', before + count);
    if (rows.length < ctx.pageSize) return count;
  }
}

// ---- 4. records ----------------------------------------------------------------------------------

interface EventJoinRow {
  seq: number;
  type: string;
  data: string;
  m_seq: number | null;
  r_seq: number | null;
  c_hash: string | null;
}

/**
 * Pure: SQL for a top-level field of the JSON text in column `column` (the
 * audit event's data): `text` gives a string field as text, `number` a
 * number field as a number; NULL when the field is absent (or, on
 * PostgreSQL, of another kind, so a forged value never makes the query fail:
 * the check in code then names the malformed event). The data is JSON: the
 * chain, checked first, holds only canonical JSON.
 */
export function jsonFieldSql(dialect: Dialect, column: string, field: string, kind: 'text' | 'number'): string {
  if (!/^[a-z_][a-z0-9_.]*$/i.test(column) || !/^[a-zA-Z]+$/.test(field)) throw new TypeError('jsonFieldSql: a column and a field name, nothing else');
  if (dialect === 'sqlite') return `json_extract(${column}, '$.${field}')`;
  return kind === 'text'
    ? `(${column}::json ->> '${field}')`
    : `(CASE WHEN json_typeof(${column}::json -> '${field}') = 'number' THEN (${column}::json ->> '${field}')::numeric END)`;
}

/** The records pass's query: each event with the row it names, looked up by its key (one query per page, not per event). */
function recordsSql(dialect: Dialect): string {
  const field = (name: string, kind: 'text' | 'number'): string => jsonFieldSql(dialect, 'a.data', name, kind);
  return `SELECT a.seq, a.type, a.data,
              CASE WHEN a.type = 'archive:record' AND ${field('part', 'text')} = 'message'
                   THEN (SELECT m.record_seq FROM archive_messages m WHERE m.id = ${field('queueId', 'text')}) END AS m_seq,
              CASE WHEN a.type = 'archive:record' AND ${field('part', 'text')} = 'recipient'
                   THEN (SELECT r.record_seq FROM archive_recipients r WHERE r.archive_id = ${field('queueId', 'text')} AND r.seq = ${field('seq', 'number')}) END AS r_seq,
              CASE WHEN a.type = 'archive:checkpoint'
                   THEN (SELECT c.hash FROM archive_checkpoints c WHERE c.seq = ${field('checkpoint', 'number')}) END AS c_hash
         FROM audit_log a
        WHERE a.seq > ? AND a.type IN ('archive:record', 'archive:checkpoint') ORDER BY a.seq LIMIT ?`;
}

async function verifyRecords(ctx: Context, options: ArchiveVerifyOptions, checkpoints: number): Promise<number> {
  let records = 0;
  let checkpointEvents = 0;
  let lastSeq = 0;
  const sql = recordsSql(ctx.db.dialect);
  for (;;) {
    const rows = await ctx.db.all<EventJoinRow>(sql, [lastSeq, ctx.pageSize]);
    for (const ev of rows) {
      const at = `audit event #${ev.seq}`;
      const data = parseJson(ev.data);
      if (ev.type === 'archive:checkpoint') {
        const n = checkpointEvents + 1;
        if (data?.checkpoint !== n) fail('record', at, 'checkpoint_order', `${at} records checkpoint #${String(data?.checkpoint)} where #${n} was expected`);
        if (ev.c_hash === null) fail('record', at, 'checkpoint_missing', `${at} records checkpoint #${n}, which is not in the database: it was deleted`);
        if (ev.c_hash !== data.sha256) fail('record', at, 'checkpoint_mismatch', `${at} records checkpoint #${n} with another hash than the stored one: the checkpoint was replaced`);
        checkpointEvents = n;
      } else {
        const ref = data && refOf(data);
        if (!ref || typeof data.sha256 !== 'string') fail('record', at, 'bad_record', `${at} is an archive:record event with malformed data`);
        const rowSeq = ref.part === 'message' ? ev.m_seq : ev.r_seq;
        if (rowSeq === null) {
          if (!(await options.disposed?.(ref, ev.seq))) fail('record', at, 'row_missing', `${rowName(ref)}, recorded by ${at}, is not in the archive: the row was deleted`);
        } else if (rowSeq < ev.seq) {
          fail('record', at, 'row_rolled_back', `${rowName(ref)} names audit event #${rowSeq} as its record, older than ${at}: the row was put back to an earlier version`);
        }
        records++;
      }
      lastSeq = ev.seq;
    }
    ctx.progress('record', records);
    if (rows.length < ctx.pageSize) break;
  }
  if (checkpointEvents < checkpoints) {
    const n = checkpointEvents + 1;
    fail('record', `checkpoint #${n}`, 'checkpoint_unrecorded', `checkpoint #${n} has no archive:checkpoint event in the chain: the audit events after it were removed`);
  }
  return records;
}

// ---- 6. anchors ----------------------------------------------------------------------------------

async function verifyAnchors(db: SqlQueryable, key: PublicSigningKey | undefined, anchors: AsyncIterable<Checkpoint> | Iterable<Checkpoint>): Promise<number> {
  let count = 0;
  for await (const a of anchors) {
    const name = `logged checkpoint #${a.seq}`;
    if (!key) fail('anchor', name, 'no_key', `${name} exists but the database holds no gateway signing key`);
    if (a.keyFingerprint !== key.fingerprint) fail('anchor', name, 'other_key', `${name} was signed by key ${a.keyFingerprint}, not by this database's gateway key ${key.fingerprint}`);
    if (checkpointHash(a) !== a.hash || !checkpointSignatureValid(key.publicKey, a, a.signature)) {
      fail('anchor', name, 'bad_signature', `${name} is not validly signed by the gateway key: that log line was altered`);
    }
    const stored = await db.get<{ hash: string }>('SELECT hash FROM archive_checkpoints WHERE seq = ?', [a.seq]);
    if (!stored) fail('anchor', name, 'anchor_missing', `${name} is not in the database: checkpoints and the entries they covered were removed`);
    if (stored.hash !== a.hash) fail('anchor', name, 'anchor_mismatch', `${name} differs from checkpoint #${a.seq} in the database: the database was rewritten and signed again`);
    count++;
  }
  return count;
}

// ---- the whole check -----------------------------------------------------------------------------

function age(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  return minutes >= 120 ? `${Math.floor(minutes / 60)} h` : `${minutes} min`;
}

/**
 * Runs every check and returns the first problem, or the summary. For a
 * consistent picture of a database the gateway is writing, run it inside a
 * read transaction (the CLI does).
 */
export async function verifyArchive(db: SqlQueryable, options: ArchiveVerifyOptions): Promise<ArchiveVerifyResult> {
  const pageSize = options.pageSize ?? VERIFY_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  const progress = options.onProgress ?? (() => undefined);
  try {
    // 1. the chain
    progress('audit', 0);
    const chain = await verifyAuditChain(db, { pageSize });
    if (!chain.ok) {
      fail('audit', `audit event #${chain.brokenAt}`, chain.reason, `audit event #${chain.brokenAt} does not verify (${chain.reason}): it or its predecessor was altered or removed; ${chain.count} events before it verify`);
    }
    progress('audit', chain.count);
    const ctx: Context = { db, pageSize, headSeq: chain.count, progress };

    const key = await readPublicSigningKey(db).catch((err: unknown) => fail('checkpoint', 'gateway signing key', 'bad_key', (err as Error).message));
    if (options.expectedFingerprint !== undefined) {
      const expected = options.expectedFingerprint.toLowerCase();
      // an expected key that is not there at all is as bad as another one: key, checkpoints and all may have been removed
      if (!key) fail('checkpoint', 'gateway signing key', 'no_key', `the database holds no gateway signing key, expected ${expected}`);
      if (key.fingerprint !== expected) fail('checkpoint', 'gateway signing key', 'other_key', `the database's signing key is ${key.fingerprint}, not the expected ${expected}`);
    }
    // 2. checkpoints
    const cps = await verifyCheckpoints(ctx, key);
    // 3. rows
    const messages = await verifyMessageRows(ctx);
    const recipients = await verifyRecipientRows(ctx, messages);
    // 4. records
    const records = await verifyRecords(ctx, options, cps.count);
    // 5. head: the newest entries are covered
    const newest = cps.newest;
    if (!newest) {
      if (messages + recipients + records > 0) fail('head', 'checkpoint #1', 'no_checkpoint', 'the archive has entries but there is no checkpoint: the checkpoints were removed');
    } else if (newest.reason !== 'stop') {
      const maxAge = options.maxCheckpointAgeMs ?? CHECKPOINT_INTERVAL_MS + CHECKPOINT_SLACK_MS;
      if (options.now - newest.ts > maxAge) {
        fail(
          'head',
          `checkpoint #${newest.seq}`,
          'stale',
          `the newest checkpoint #${newest.seq} (${newest.reason}, ${new Date(newest.ts).toISOString()}) is ${age(options.now - newest.ts)} old and no clean stop followed it: ` +
            `entries after audit event #${newest.auditSeq} may have been removed, or the gateway is down after a crash; start it (it signs a start checkpoint) or compare with the logged checkpoints (--log)`,
        );
      }
    }
    // 6. the outside copies
    const anchors = options.anchors ? await verifyAnchors(db, key, options.anchors) : 0;
    return {
      ok: true,
      auditEvents: chain.count,
      lastHash: chain.lastHash,
      messages,
      recipients,
      records,
      checkpoints: cps.count,
      keyFingerprint: key?.fingerprint,
      newestCheckpoint: newest && { seq: newest.seq, ts: newest.ts, reason: newest.reason, auditSeq: newest.auditSeq },
      uncovered: chain.count - (newest?.auditSeq ?? 0),
      anchors,
    };
  } catch (err) {
    if (err instanceof Found) return { ok: false, problem: err.problem };
    throw err;
  }
}
