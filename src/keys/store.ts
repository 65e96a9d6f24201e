/**
 * The key directory store. `KeyDirectory` is the port; `SqlKeyDirectory` keeps
 * it in the gateway database (table recipient_keys, migration 13) with
 * portable SQL only — plain INSERT/UPDATE/DELETE, integer ms timestamps,
 * TEXT — on SQLite or PostgreSQL. Each change is audited in the same
 * transaction. With several nodes, a store for one address holds that
 * address's lock (lockKey) from its read of the address's keys to its
 * commit, so two nodes finding keys for one address at once decide one after
 * the other.
 */
import { LOCK_SPACES, lockKey, type SqlDatabase, type SqlQueryable } from '../db/sql-database.js';
import { appendAuditEvent } from '../audit/log.js';
import { decideStore, type StoreDecision } from './replace.js';
import { type KeyDetails, type KeyKind, type KeyReason, type KeyRecord, type KeySource } from './types.js';

export interface KeyDirectory {
  /** Stores `record` unless the replacement rules say keep; returns what was done. */
  put(record: KeyRecord, ctx: { operator?: string }): Promise<StoreDecision>;
  /** Every row, or only those for `address` (normalized), ordered by address then fingerprint. */
  list(filter?: { address?: string }): Promise<KeyRecord[]>;
  /** The rows of one fingerprint (one per address); empty when unknown. */
  get(fingerprint: string): Promise<KeyRecord[]>;
  /** Deletes every row of the fingerprint; returns how many. */
  remove(fingerprint: string, ctx: { operator: string; now: number }): Promise<number>;
}

interface Row {
  fingerprint: string;
  address: string;
  kind: string;
  source: string;
  algorithm: string;
  created_at: number;
  expires_at: number | null;
  revoked: number | null;
  valid: number;
  reason: string;
  details: string;
  material: string;
  imported_at: number;
  checked_at: number;
}

const COLUMNS = 'fingerprint, address, kind, source, algorithm, created_at, expires_at, revoked, valid, reason, details, material, imported_at, checked_at';

function fromRow(r: Row): KeyRecord {
  return {
    fingerprint: r.fingerprint,
    address: r.address,
    kind: r.kind as KeyKind,
    source: r.source as KeySource,
    algorithm: r.algorithm,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    revoked: r.revoked === null ? null : r.revoked !== 0,
    valid: r.valid !== 0,
    // a reason code written by a newer version is passed through as is
    reason: r.reason as KeyReason,
    details: JSON.parse(r.details) as KeyDetails,
    material: r.material,
    importedAt: Number(r.imported_at),
    checkedAt: Number(r.checked_at),
  };
}

function values(r: KeyRecord): (string | number | null)[] {
  return [r.fingerprint, r.address, r.kind, r.source, r.algorithm, r.createdAt, r.expiresAt, r.revoked === null ? null : r.revoked ? 1 : 0, r.valid ? 1 : 0, r.reason, JSON.stringify(r.details), r.material, r.importedAt, r.checkedAt];
}

export class SqlKeyDirectory implements KeyDirectory {
  constructor(private readonly db: SqlDatabase) {}

  put(incoming: KeyRecord, ctx: { operator?: string }): Promise<StoreDecision> {
    return this.db.transaction(async (tx) => {
      let record = incoming;
      await lockKey(tx, LOCK_SPACES.recipientKeys, record.address);
      const existing = await tx.all<{ fingerprint: string; kind: string; source: string; valid: number }>('SELECT fingerprint, kind, source, valid FROM recipient_keys WHERE address = ?', [record.address]);
      const decision = decideStore(
        existing.map((e) => ({ fingerprint: e.fingerprint, kind: e.kind as KeyKind, source: e.source as KeySource, valid: e.valid !== 0 })),
        record,
      );
      if (decision.action === 'keep') return decision;
      if (decision.action === 'update') {
        // the same key found again by a less trusted source keeps its more trusted source
        if (decision.source !== undefined) record = { ...record, source: decision.source };
        await tx.run(
          'UPDATE recipient_keys SET kind = ?, source = ?, algorithm = ?, created_at = ?, expires_at = ?, revoked = ?, valid = ?, reason = ?, details = ?, material = ?, imported_at = ?, checked_at = ? WHERE fingerprint = ? AND address = ?',
          [...values(record).slice(2), record.fingerprint, record.address],
        );
      } else {
        for (const fp of decision.replaces) await tx.run('DELETE FROM recipient_keys WHERE fingerprint = ? AND address = ?', [fp, record.address]);
        await tx.run(`INSERT INTO recipient_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, values(record));
      }
      await appendAuditEvent(
        tx,
        {
          type: 'keys:stored',
          data: { fingerprint: record.fingerprint, kind: record.kind, address: record.address, source: record.source, verdict: record.reason, ...(decision.action === 'insert' && decision.replaces.length > 0 ? { replaced: [...decision.replaces] } : {}), ...(ctx.operator ? { operator: ctx.operator } : {}) },
        },
        record.checkedAt,
      );
      return decision;
    });
  }

  list(filter: { address?: string } = {}): Promise<KeyRecord[]> {
    return listKeys(this.db, filter);
  }

  async get(fingerprint: string): Promise<KeyRecord[]> {
    return (await this.db.all<Row>(`SELECT ${COLUMNS} FROM recipient_keys WHERE fingerprint = ? ORDER BY address`, [fingerprint])).map(fromRow);
  }

  remove(fingerprint: string, ctx: { operator: string; now: number }): Promise<number> {
    return this.db.transaction(async (tx) => {
      const r = await tx.run('DELETE FROM recipient_keys WHERE fingerprint = ?', [fingerprint]);
      if (r.changes > 0) await appendAuditEvent(tx, { type: 'keys:removed', data: { fingerprint, operator: ctx.operator, count: r.changes } }, ctx.now);
      return r.changes;
    });
  }
}

/**
 * The directory's rows, or only those for `address` (normalized), ordered by
 * address then fingerprint, read through any queryable: the directory's
 * database or a read snapshot of it (`sealgate policy replay`).
 */
export async function listKeys(q: SqlQueryable, filter: { address?: string } = {}): Promise<KeyRecord[]> {
  const rows =
    filter.address === undefined
      ? await q.all<Row>(`SELECT ${COLUMNS} FROM recipient_keys ORDER BY address, fingerprint`)
      : await q.all<Row>(`SELECT ${COLUMNS} FROM recipient_keys WHERE address = ? ORDER BY fingerprint`, [filter.address]);
  return rows.map(fromRow);
}
