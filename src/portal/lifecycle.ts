/**
 * The life of a portal message after its deposit (docs/portal.md,
 * "Lifecycle"): expiry, revocation and the purge that crypto-shreds what
 * expired or was revoked.
 *
 *   - `portalState` and `shredReason` are pure: the state a deposit is in at
 *     `now`, and whether (and why) it is due for shredding.
 *   - `PortalLifecycle` applies them to the rows. Each deposit is shredded by
 *     PortalStore.shred, whose key-destroying transaction also appends the
 *     `portal:shredded` audit event and ends the deposit's reading sessions:
 *     the key's destruction and its disposal record commit together or not at
 *     all. The object is deleted after that commit; a crash in between leaves
 *     an object whose key is gone (unreadable), which `removeLeftovers`
 *     deletes later.
 *   - Revocation commits `revoked_at`/`revoked_by` and `portal:revoked` first,
 *     then shreds. A crash in between leaves a revoked deposit that still has
 *     its key: `purgeDue` shreds it (reason `revoked`) on its next run, and
 *     nothing serves a revoked deposit meanwhile.
 *
 * Several nodes (PostgreSQL, docs/scale-out.md): revocation locks the
 * deposits it reads (in one order) before it changes them or appends to the
 * audit chain, a shred locks its deposit's row (PortalStore.shred), so a
 * deposit is revoked and shredded once however many nodes try at once; the
 * purge's session clean-up skips rows another node is deleting.
 *
 * Audit events and results carry ids, times, sizes and reasons, never
 * content, tokens or addresses.
 */
import { appendAuditEvent } from '../audit/log.js';
import { forNoKeyUpdate } from '../db/locks.js';
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import { SealgateError } from '../errors.js';
import type { ObjectStore } from '../objects/object-store.js';
import type { CodeStore } from './code-store.js';
import type { PortalStore } from './portal-store.js';
import { sweepChallenges } from './http/passkey-challenges.js';
import { deleteSessionsWhere } from './http/sessions.js';

/** A reading session idle this long is over (and its row deleted by the purge). */
export const PORTAL_SESSION_IDLE_MS = 15 * 60 * 1000;

export type PortalState = 'active' | 'expired' | 'revoked' | 'shredded';
export type ShredReason = 'expired' | 'revoked';

export interface PortalTimes {
  /** ms since epoch. */
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly shreddedAt: number | null;
}

/**
 * The state of a deposit at `now`: shredded once its key is destroyed (for
 * whatever reason), else revoked once revoked, else expired from its expiry
 * time on, else active.
 */
export function portalState(t: PortalTimes, now: number): PortalState {
  if (t.shreddedAt !== null) return 'shredded';
  if (t.revokedAt !== null) return 'revoked';
  if (now >= t.expiresAt) return 'expired';
  return 'active';
}

/** Why a deposit must be shredded at `now`, or undefined when it need not (active, or shredded already). */
export function shredReason(t: PortalTimes, now: number): ShredReason | undefined {
  const state = portalState(t, now);
  return state === 'revoked' || state === 'expired' ? state : undefined;
}

export interface RevokeOutcome {
  readonly depositId: string;
  readonly queueId: string;
  readonly size: number;
  /** This call revoked it (false: revoked before, or shredded before without a revocation). */
  readonly revoked: boolean;
  /** This call destroyed its key (false: destroyed before). */
  readonly shredded: boolean;
  readonly revokedAt: number | null;
  readonly revokedBy: string | null;
  readonly shreddedAt: number | null;
}

export interface PurgeItem {
  readonly depositId: string;
  readonly queueId: string;
  readonly reason: ShredReason;
  /** Bytes of the original MIME. */
  readonly size: number;
}

export interface PurgeFailure extends PurgeItem {
  /** The SG_* code, or the error's name: never content. */
  readonly error: string;
}

export interface PurgeResult {
  readonly dryRun: boolean;
  /** Shredded by this run (dry run: would be). */
  readonly shredded: readonly PurgeItem[];
  /** Due, but shredding failed; the next run tries again (unless the key was already destroyed). */
  readonly failed: readonly PurgeFailure[];
  /** Sign-in codes deleted (null in a dry run: not counted). */
  readonly codes: number | null;
  /** Idle reading sessions deleted (null in a dry run: not counted). */
  readonly sessions: number | null;
}

export interface PortalLifecycleOptions {
  readonly db: SqlDatabase;
  readonly portal: Pick<PortalStore, 'shred'>;
  /** The object store the portal keeps its copies in (for removeLeftovers). */
  readonly objects: ObjectStore;
  /** Sign-in codes, purged with the deposits. */
  readonly codes?: Pick<CodeStore, 'purge'>;
  /** ms since epoch; default Date.now. */
  readonly now?: () => number;
}

interface DepositRow {
  deposit_id: string;
  queue_id: string;
  size: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
  shredded_at: number | null;
}

const DEPOSIT_COLUMNS = 'deposit_id, queue_id, size, expires_at, revoked_at, revoked_by, shredded_at';
const DEPOSIT_ID = /^[0-9a-f]{32}$/;

function timesOf(row: DepositRow): PortalTimes {
  return { expiresAt: row.expires_at, revokedAt: row.revoked_at, shreddedAt: row.shredded_at };
}

/** SG_PORTAL_NOT_FOUND for an id no deposit has; the id shown as printable ASCII, bounded. */
export function portalNotFound(id: string): SealgateError {
  const shown = String(id).replace(/[^\x21-\x7e]/g, '?').slice(0, 64);
  const what = DEPOSIT_ID.test(id) ? 'queue id or deposit id' : 'queue id';
  return new SealgateError('SG_PORTAL_NOT_FOUND', { message: `no portal message with ${what} ${shown}`, detail: { id: shown } });
}

function errorName(err: unknown): string {
  if (err instanceof SealgateError) return err.code;
  return err instanceof Error ? err.name : 'Error';
}

export class PortalLifecycle {
  private readonly db: SqlDatabase;
  private readonly portal: Pick<PortalStore, 'shred'>;
  private readonly objects: ObjectStore;
  private readonly codes: Pick<CodeStore, 'purge'> | undefined;
  private readonly now: () => number;

  constructor(options: PortalLifecycleOptions) {
    this.db = options.db;
    this.portal = options.portal;
    this.objects = options.objects;
    this.codes = options.codes;
    this.now = options.now ?? Date.now;
  }

  /**
   * Revokes every deposit of a message (by queue id; a deposit id names one
   * deposit) and destroys their keys at once. Idempotent: deposits revoked or
   * shredded before are reported, not revoked again. Rejects with
   * SG_PORTAL_NOT_FOUND when no deposit has this id.
   */
  async revoke(id: string, operator: string): Promise<RevokeOutcome[]> {
    const now = this.now();
    const newly = await this.db.transaction(async (tx) => {
      // locked (PostgreSQL) before any change or audit append: the rows first, then the chain (locks.ts)
      const rows = await depositsOf(tx, id, true);
      if (rows.length === 0) throw portalNotFound(id);
      const revoked = new Set<string>();
      for (const r of rows) {
        const { changes } = await tx.run(
          'UPDATE portal_messages SET revoked_at = ?, revoked_by = ? WHERE deposit_id = ? AND revoked_at IS NULL AND shredded_at IS NULL',
          [now, operator, r.deposit_id],
        );
        if (changes === 0) continue;
        revoked.add(r.deposit_id);
        await appendAuditEvent(tx, { type: 'portal:revoked', data: { depositId: r.deposit_id, queueId: r.queue_id, operator } }, now);
      }
      return revoked;
    });
    // every revoked deposit that still has its key, also one a crash left revoked but unshredded
    const shreddedNow = new Set<string>();
    let firstError: unknown;
    for (const r of await depositsOf(this.db, id)) {
      if (r.revoked_at === null || r.shredded_at !== null) continue;
      try {
        if (await this.shredOne(r, 'revoked', now)) shreddedNow.add(r.deposit_id);
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError !== undefined) throw firstError;
    return (await depositsOf(this.db, id)).map((r) => ({
      depositId: r.deposit_id,
      queueId: r.queue_id,
      size: r.size,
      revoked: newly.has(r.deposit_id),
      shredded: shreddedNow.has(r.deposit_id),
      revokedAt: r.revoked_at,
      revokedBy: r.revoked_by,
      shreddedAt: r.shredded_at,
    }));
  }

  /**
   * Shreds every deposit that is due at `now` (expired, or revoked but not yet
   * shredded), and deletes spent sign-in codes and idle reading sessions. A
   * failing deposit does not stop the others: it is reported in `failed`. A
   * dry run only lists what would be shredded and changes nothing.
   */
  async purgeDue(now: number, options: { readonly dryRun?: boolean } = {}): Promise<PurgeResult> {
    const dryRun = options.dryRun === true;
    const rows = await this.db.all<DepositRow>(
      `SELECT ${DEPOSIT_COLUMNS} FROM portal_messages
        WHERE shredded_at IS NULL AND (expires_at <= ? OR revoked_at IS NOT NULL)
        ORDER BY expires_at, deposit_id`,
      [now],
    );
    const shredded: PurgeItem[] = [];
    const failed: PurgeFailure[] = [];
    for (const r of rows) {
      const reason = shredReason(timesOf(r), now);
      if (!reason) continue;
      const item: PurgeItem = { depositId: r.deposit_id, queueId: r.queue_id, reason, size: r.size };
      if (dryRun) {
        shredded.push(item);
        continue;
      }
      try {
        // false: another process shredded it first (and wrote its record)
        if (await this.shredOne(r, reason, now)) shredded.push(item);
      } catch (err) {
        failed.push({ ...item, error: errorName(err) });
      }
    }
    if (dryRun) return { dryRun, shredded, failed, codes: null, sessions: null };
    const codes = this.codes ? await this.codes.purge(now) : 0;
    const sessions = await this.db.transaction((tx) => deleteSessionsWhere(tx, 'last_seen_at < ?', [now - PORTAL_SESSION_IDLE_MS]));
    // passkey challenges nobody answered (they are refused once expired; this only frees their rows)
    await sweepChallenges(this.db, now);
    return { dryRun, shredded, failed, codes, sessions };
  }

  /**
   * Deletes portal objects whose deposit is shredded (a crash after the key's
   * destruction and before the object's deletion leaves one; it cannot be
   * read, its key is gone). Safe while deposits run: it never touches an
   * object whose row is missing or unshredded. Returns how many went.
   */
  async removeLeftovers(): Promise<number> {
    let removed = 0;
    for await (const key of this.objects.list('portal/')) {
      const row = await this.db.get<{ shredded_at: number | null }>('SELECT shredded_at FROM portal_messages WHERE object_key = ?', [key]);
      if (row && row.shredded_at !== null) {
        await this.objects.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Destroys one deposit's key with its audit record and sessions in one transaction, then deletes the object. */
  private shredOne(r: DepositRow, reason: ShredReason, now: number): Promise<boolean> {
    return this.portal.shred(r.deposit_id, now, {
      inTransaction: async (tx) => {
        await tx.run('DELETE FROM portal_sessions WHERE deposit_id = ?', [r.deposit_id]);
        await appendAuditEvent(tx, { type: 'portal:shredded', data: { depositId: r.deposit_id, queueId: r.queue_id, reason } }, now);
      },
    });
  }
}

/** The deposits a queue id (or one deposit id) names, oldest first; `lock`: locked in that order until `db`'s transaction ends (PostgreSQL). */
function depositsOf(db: SqlQueryable, id: string, lock = false): Promise<DepositRow[]> {
  return db.all<DepositRow>(
    `SELECT ${DEPOSIT_COLUMNS} FROM portal_messages WHERE queue_id = ? OR deposit_id = ? ORDER BY created_at, deposit_id${lock ? forNoKeyUpdate(db) : ''}`,
    [id, id],
  );
}
