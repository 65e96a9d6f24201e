/**
 * Reading sessions of the portal, server-side in `portal_sessions`.
 *
 * The cookie value is 32 random bytes (base64url); only its SHA-256 is
 * stored (`session_hash`), so the table alone cannot be used to sign in. A
 * session belongs to one (deposit, recipient): it opens that message only.
 * It ends after SESSION_IDLE_MS without a request, after SESSION_MAX_MS in
 * all, or at sign-out (the row is deleted). Each session has its own random
 * CSRF token for the signed-in forms.
 *
 * Portable SQL (SQLite or PostgreSQL, docs/scale-out.md): a session made on
 * one node is found by every node sharing the database. With several nodes
 * at once: creating touches no row but its own (a new random hash) and
 * clears sessions that are over by taking only rows no other node is
 * clearing at that moment (`FOR UPDATE SKIP LOCKED`, locks.ts), so two
 * sign-ins never wait for or deadlock on each other's clean-up; the
 * last-seen time only moves forward, whichever node writes it; and a
 * session deleted (sign-out, expiry) on one node is not revived by
 * another's touch.
 *
 * Side effects injected: the clock is the `now` argument, randomness
 * `options.random`. Nothing here logs; cookie values and tokens never leave
 * this module except to the cookie and the form.
 */
import { createHash, randomBytes } from 'node:crypto';
import { forUpdateSkipLocked } from '../../db/locks.js';
import type { SqlDatabase, SqlQueryable } from '../../db/sql-database.js';
import { SECRET_PATTERN } from './csrf.js';

/** Idle timeout: a session with no request for this long is over. */
export const SESSION_IDLE_MS = 15 * 60_000;
/** Longest session, however active. */
export const SESSION_MAX_MS = 8 * 3600_000;
/** last_seen_at is written at most this often (one commit per minute of reading, not per request). */
export const SESSION_TOUCH_MS = 60_000;
const SECRET_BYTES = 32;

export type SignInMethod = 'code' | 'passkey';

export interface PortalSession {
  readonly hash: string;
  readonly depositId: string;
  /** Lower case. */
  readonly recipient: string;
  readonly method: SignInMethod;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

interface SessionRow {
  session_hash: string;
  deposit_id: string;
  recipient: string;
  method: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
}

export interface SessionStoreOptions {
  readonly db: SqlDatabase;
  readonly random?: (n: number) => Buffer;
}

export function hashSessionValue(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export class SessionStore {
  private readonly db: SqlDatabase;
  private readonly random: (n: number) => Buffer;

  constructor(options: SessionStoreOptions) {
    this.db = options.db;
    this.random = options.random ?? randomBytes;
  }

  /** 32 random bytes, base64url (cookie values, CSRF tokens, pre-session cookies). */
  secret(): string {
    const value = this.random(SECRET_BYTES).toString('base64url');
    if (!SECRET_PATTERN.test(value)) throw new RangeError('random source returned too few bytes');
    return value;
  }

  /**
   * A new session for (deposit, recipient). Returns the cookie value, which
   * is stored nowhere. Also removes sessions that are over (any message).
   */
  async create(input: { depositId: string; recipient: string; method: SignInMethod; remoteIp: string; now: number }): Promise<{ cookieValue: string; session: PortalSession }> {
    const cookieValue = this.secret();
    const session: PortalSession = {
      hash: hashSessionValue(cookieValue),
      depositId: input.depositId,
      recipient: input.recipient.toLowerCase(),
      method: input.method,
      csrfToken: this.secret(),
      createdAt: input.now,
      lastSeenAt: input.now,
    };
    await this.db.transaction(async (tx) => {
      await deleteOverSessions(tx, input.now);
      await tx.run(
        `INSERT INTO portal_sessions (session_hash, deposit_id, recipient, method, csrf_token, created_at, last_seen_at, remote_ip)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [session.hash, session.depositId, session.recipient, session.method, session.csrfToken, input.now, input.now, input.remoteIp.slice(0, 64)],
      );
    });
    return { cookieValue, session };
  }

  /**
   * The live session the cookie value names for this (deposit, recipient),
   * or undefined: no such session, malformed value, another message's
   * session, or over (idle or too old — then it is deleted). A live session's
   * last_seen_at moves to `now` (at most once a SESSION_TOUCH_MS).
   */
  async find(cookieValue: unknown, depositId: string, recipient: string, now: number): Promise<PortalSession | undefined> {
    if (typeof cookieValue !== 'string' || !SECRET_PATTERN.test(cookieValue)) return undefined;
    const hash = hashSessionValue(cookieValue);
    // the lookup is by the hash of a 256-bit secret: its timing reveals nothing usable
    const row = await this.db.get<SessionRow>(
      'SELECT session_hash, deposit_id, recipient, method, csrf_token, created_at, last_seen_at FROM portal_sessions WHERE session_hash = ?',
      [hash],
    );
    if (!row) return undefined;
    if (now - row.last_seen_at >= SESSION_IDLE_MS || now - row.created_at >= SESSION_MAX_MS) {
      await this.delete(hash);
      return undefined;
    }
    if (row.deposit_id !== depositId || row.recipient !== recipient.toLowerCase()) return undefined;
    let lastSeenAt = row.last_seen_at;
    if (now - row.last_seen_at >= SESSION_TOUCH_MS) {
      // forward only: another node may have touched it later already
      const { changes } = await this.db.transaction((tx) => tx.run('UPDATE portal_sessions SET last_seen_at = ? WHERE session_hash = ? AND last_seen_at < ?', [now, hash, now]));
      if (changes > 0) lastSeenAt = now;
      // nothing changed: touched meanwhile, or deleted meanwhile (signed out, on this node or another): then it is over
      else if (!(await this.db.get('SELECT 1 AS live FROM portal_sessions WHERE session_hash = ?', [hash]))) return undefined;
    }
    return {
      hash,
      depositId: row.deposit_id,
      recipient: row.recipient,
      method: row.method === 'passkey' ? 'passkey' : 'code',
      csrfToken: row.csrf_token,
      createdAt: row.created_at,
      lastSeenAt,
    };
  }

  async delete(hash: string): Promise<void> {
    await this.db.transaction((tx) => tx.run('DELETE FROM portal_sessions WHERE session_hash = ?', [hash]));
  }

  /** Deletes every session that is over (but those another node is deleting at this moment); returns how many. */
  purge(now: number): Promise<number> {
    return this.db.transaction((tx) => deleteOverSessions(tx, now));
  }
}

/**
 * In `tx`: deletes the sessions that are over at `now` (idle or too old),
 * skipping on PostgreSQL the rows another transaction holds (another node
 * deleting them too, or touching one). Returns how many it deleted.
 */
export async function deleteOverSessions(tx: SqlQueryable, now: number): Promise<number> {
  return deleteSessionsWhere(tx, 'last_seen_at <= ? OR created_at <= ?', [now - SESSION_IDLE_MS, now - SESSION_MAX_MS]);
}

/**
 * In `tx`: deletes the sessions matching `where` (a condition on
 * portal_sessions' columns with `?` placeholders), skipping on PostgreSQL
 * rows another transaction holds, so clean-ups on several nodes never wait
 * for or deadlock on each other.
 */
export async function deleteSessionsWhere(tx: SqlQueryable, where: string, params: readonly (number | string)[]): Promise<number> {
  const { changes } = await tx.run(
    `DELETE FROM portal_sessions WHERE session_hash IN (SELECT session_hash FROM portal_sessions WHERE ${where}${forUpdateSkipLocked(tx)})`,
    params,
  );
  return changes;
}
