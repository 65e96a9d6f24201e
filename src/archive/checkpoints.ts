/**
 * Signed checkpoints of the audit chain head, so that removing the NEWEST
 * entries — which the hash chain alone cannot show — is detectable too.
 *
 * A checkpoint signs, with the gateway's Ed25519 key (signing-key.ts), the
 * chain head it saw (audit seq and hash), its time, why it was written and
 * the previous checkpoint's hash:
 *
 *   body      = canonicalJson({ auditHash, auditSeq, keyFingerprint, prevHash, reason, seq, ts })
 *   hash      = hex(sha256(utf8(body)))
 *   signature = base64(Ed25519-sign(utf8(body)))
 *
 * `prevHash` is the previous checkpoint's `hash` (64 zeros for the first).
 * Each checkpoint is stored in `archive_checkpoints` together with an
 * `archive:checkpoint` audit event naming it (one transaction), and logged
 * as ARCHIVE_CHECKPOINT with every field, so a copy lives outside the
 * database wherever the logs are shipped. docs/archive.md describes the
 * construction for auditors; keep them in step.
 *
 * The daemon writes one at start, every CHECKPOINT_EVERY_EVENTS audit events,
 * at least every CHECKPOINT_INTERVAL_MS, and at a clean stop.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, GENESIS_HASH } from '../audit/chain.js';
import { appendAuditEvent, auditChainHead, lockAuditChain } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import type { Logger } from '../log/logger.js';
import { loadOrCreateSigningKey, type SigningKey } from './signing-key.js';
import { FailureRun } from '../log/failure-run.js';

/** A checkpoint is written when this many audit events were appended since the last one… */
export const CHECKPOINT_EVERY_EVENTS = 500;
/** …and at least this often, even when nothing happened (so a stale newest checkpoint means something). */
export const CHECKPOINT_INTERVAL_MS = 60 * 60 * 1000;
/** How often the writer looks at the chain head. */
const POLL_MS = 5_000;

export type CheckpointReason = 'start' | 'count' | 'interval' | 'stop';

/** The signed fields of a checkpoint. */
export interface CheckpointFields {
  readonly seq: number;
  readonly ts: number;
  readonly reason: string;
  readonly auditSeq: number;
  readonly auditHash: string;
  readonly prevHash: string;
  readonly keyFingerprint: string;
}

export interface Checkpoint extends CheckpointFields {
  readonly hash: string;
  /** base64 */
  readonly signature: string;
}

/** The bytes a checkpoint's hash and signature cover. */
export function checkpointBody(c: CheckpointFields): string {
  return canonicalJson({ auditHash: c.auditHash, auditSeq: c.auditSeq, keyFingerprint: c.keyFingerprint, prevHash: c.prevHash, reason: c.reason, seq: c.seq, ts: c.ts });
}

export function checkpointHash(c: CheckpointFields): string {
  return createHash('sha256').update(checkpointBody(c), 'utf8').digest('hex');
}

/** Ed25519 needs no digest name: it hashes the message itself. */
export function signCheckpoint(privateKey: KeyObject, c: CheckpointFields): Checkpoint {
  const body = Buffer.from(checkpointBody(c), 'utf8');
  return { ...c, hash: checkpointHash(c), signature: sign(null, body, privateKey).toString('base64') };
}

/** Whether `signature` (base64) is a valid signature of `c` under `publicKey`; false for a malformed one. */
export function checkpointSignatureValid(publicKey: KeyObject, c: CheckpointFields, signature: string): boolean {
  if (!/^[A-Za-z0-9+/]{86}==$/.test(signature)) return false; // 64 bytes, canonical base64
  try {
    return verify(null, Buffer.from(checkpointBody(c), 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** What the writer knows when it decides (pure input). */
export interface CheckpointState {
  /** The newest checkpoint; undefined when there is none. */
  readonly last: { readonly ts: number; readonly auditSeq: number } | undefined;
  /** The audit chain head's seq (0: empty). */
  readonly headSeq: number;
  readonly now: number;
}

/** Whether a checkpoint is due, and why (pure). */
export function checkpointDue(s: CheckpointState, everyEvents = CHECKPOINT_EVERY_EVENTS, intervalMs = CHECKPOINT_INTERVAL_MS): 'count' | 'interval' | undefined {
  if (!s.last) return 'interval';
  if (s.headSeq - s.last.auditSeq >= everyEvents) return 'count';
  if (s.now - s.last.ts >= intervalMs) return 'interval';
  return undefined;
}

interface CheckpointRow {
  seq: number;
  ts: number;
  reason: string;
  audit_seq: number;
  audit_hash: string;
  prev_hash: string;
  hash: string;
  key_fingerprint: string;
  signature: string;
}

export function checkpointFromRow(r: CheckpointRow): Checkpoint {
  return { seq: r.seq, ts: r.ts, reason: r.reason, auditSeq: r.audit_seq, auditHash: r.audit_hash, prevHash: r.prev_hash, hash: r.hash, keyFingerprint: r.key_fingerprint, signature: r.signature };
}

export const CHECKPOINT_SELECT = 'SELECT seq, ts, reason, audit_seq, audit_hash, prev_hash, hash, key_fingerprint, signature FROM archive_checkpoints';

/** The newest checkpoint, if any. */
export async function newestCheckpoint(db: SqlQueryable): Promise<Checkpoint | undefined> {
  const row = await db.get<CheckpointRow>(`${CHECKPOINT_SELECT} ORDER BY seq DESC LIMIT 1`);
  return row ? checkpointFromRow(row) : undefined;
}

/**
 * Signs the current chain head and stores the checkpoint with its
 * `archive:checkpoint` audit event, in one write transaction that holds the
 * chain (SQLite's write lock from its start; on PostgreSQL the chain lock,
 * taken first, lockAuditChain), so neither the head nor the newest
 * checkpoint can move meanwhile, whichever node writes. The event lands one
 * past the head it covers; the next checkpoint covers it.
 */
export async function writeCheckpoint(db: SqlDatabase, key: SigningKey, reason: CheckpointReason, now: number): Promise<Checkpoint> {
  return db.transaction(async (tx) => {
    await lockAuditChain(tx);
    const head = await auditChainHead(tx);
    const last = await newestCheckpoint(tx);
    const c = signCheckpoint(key.privateKey, {
      seq: (last?.seq ?? 0) + 1,
      ts: now,
      reason,
      auditSeq: head.seq,
      auditHash: head.hash,
      prevHash: last?.hash ?? GENESIS_HASH,
      keyFingerprint: key.fingerprint,
    });
    await tx.run(
      'INSERT INTO archive_checkpoints (seq, ts, reason, audit_seq, audit_hash, prev_hash, hash, key_fingerprint, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [c.seq, c.ts, c.reason, c.auditSeq, c.auditHash, c.prevHash, c.hash, c.keyFingerprint, c.signature],
    );
    await appendAuditEvent(tx, { type: 'archive:checkpoint', data: { checkpoint: c.seq, reason: c.reason, auditSeq: c.auditSeq, sha256: c.hash } }, now);
    return c;
  });
}

/** The log line that carries a checkpoint out of the database (event ARCHIVE_CHECKPOINT). */
export function logCheckpoint(log: Logger, c: Checkpoint): void {
  log.info(
    { event: 'ARCHIVE_CHECKPOINT', checkpoint: c.seq, ts: c.ts, reason: c.reason, auditSeq: c.auditSeq, auditHash: c.auditHash, prevHash: c.prevHash, hash: c.hash, keyFingerprint: c.keyFingerprint, signature: c.signature },
    'archive checkpoint signed',
  );
}

export interface CheckpointWriterDeps {
  readonly db: SqlDatabase;
  readonly key: SigningKey;
  readonly log: Logger;
  readonly now: () => number;
  /** Defaults: CHECKPOINT_EVERY_EVENTS, CHECKPOINT_INTERVAL_MS, 5 s. */
  readonly everyEvents?: number;
  readonly intervalMs?: number;
  readonly pollMs?: number;
}

/** The daemon's checkpoint writer: polls the head, writes when due, and once more at stop. */
export class CheckpointWriter {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();
  /** Ticks failing in a row (the database away): the first is logged at error, the rest at debug, the end of the run once. */
  private readonly failures = new FailureRun();
  private stopped = false;

  constructor(private readonly deps: CheckpointWriterDeps) {}

  /** Writes a checkpoint now and logs it. */
  async write(reason: CheckpointReason): Promise<Checkpoint> {
    const c = await writeCheckpoint(this.deps.db, this.deps.key, reason, this.deps.now());
    logCheckpoint(this.deps.log, c);
    return c;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.busy = this.busy.then(() => this.tick());
    }, this.deps.pollMs ?? POLL_MS);
    this.timer.unref();
  }

  /** One look at the head; writes a checkpoint when due. Errors are logged, not thrown (the next tick tries again). */
  async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const last = await newestCheckpoint(this.deps.db);
      const head = await auditChainHead(this.deps.db);
      const due = checkpointDue({ last, headSeq: head.seq, now: this.deps.now() }, this.deps.everyEvents, this.deps.intervalMs);
      if (due) await this.write(due);
      const failures = this.failures.succeed();
      if (failures > 0) this.deps.log.info({ event: 'STAGE_RECOVERED', stage: 'checkpoints', what: 'ticks', failures }, 'archive checkpoints work again after failures');
    } catch (err) {
      const first = this.failures.fail();
      this.deps.log[first ? 'error' : 'debug']({ event: 'ARCHIVE_CHECKPOINT_FAILED', err: { message: (err as Error).message } }, 'archive checkpoint not written; tried again shortly');
    }
  }

  /** Stops the timer and writes the clean-stop checkpoint (after the caller's last audit event). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.busy;
    try {
      await this.write('stop');
    } catch (err) {
      this.deps.log.error({ event: 'ARCHIVE_CHECKPOINT_FAILED', err: { message: (err as Error).message } }, 'stop checkpoint not written: archive verify will report the newest checkpoint as stale');
    }
  }
}

/**
 * Loads (on first start: creates) the signing key, writes the start
 * checkpoint — anchoring the state the gateway found, e.g. after a crash —
 * and starts the periodic writer.
 */
export async function startCheckpointWriter(deps: Omit<CheckpointWriterDeps, 'key'> & { readonly keyring: Keyring }): Promise<CheckpointWriter> {
  const key = await loadOrCreateSigningKey(deps.db, deps.keyring, deps.now());
  const writer = new CheckpointWriter({ ...deps, key });
  await writer.write('start');
  writer.start();
  return writer;
}

/**
 * A checkpoint from one ARCHIVE_CHECKPOINT log line (JSON, as logCheckpoint
 * writes it); undefined for any other line. Fields of the wrong type make
 * it undefined too: what is returned still has to verify.
 */
export function checkpointFromLogLine(line: string): Checkpoint | undefined {
  if (!line.includes('ARCHIVE_CHECKPOINT')) return undefined;
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  let v: Record<string, unknown>;
  try {
    const parsed = JSON.parse(line.slice(start)) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    v = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (v.event !== 'ARCHIVE_CHECKPOINT') return undefined;
  const { checkpoint, ts, reason, auditSeq, auditHash, prevHash, hash, keyFingerprint, signature } = v;
  if (!Number.isSafeInteger(checkpoint) || !Number.isSafeInteger(ts) || !Number.isSafeInteger(auditSeq)) return undefined;
  for (const s of [reason, auditHash, prevHash, hash, keyFingerprint, signature]) if (typeof s !== 'string') return undefined;
  return {
    seq: checkpoint as number,
    ts: ts as number,
    reason: reason as string,
    auditSeq: auditSeq as number,
    auditHash: auditHash as string,
    prevHash: prevHash as string,
    hash: hash as string,
    keyFingerprint: keyFingerprint as string,
    signature: signature as string,
  };
}
