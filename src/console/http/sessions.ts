/**
 * Console sessions, server-side in `console_sessions` (migration 19).
 *
 * The cookie value is 32 random bytes (base64url); only its SHA-256 is
 * stored, so the table alone cannot be used to sign in. A session ends after
 * SESSION_IDLE_MS without a request, after SESSION_MAX_MS in all, at
 * sign-out, or when its user is disabled or gets a new code secret
 * (users.ts deletes the rows). The user's role is read with the session on
 * every request, so a role change or a disable applies at once.
 *
 * The CSRF token of the signed-in forms is derived from the cookie value
 * (csrf.ts): it needs no column, and a cross-site page that cannot read the
 * cookie cannot make it.
 *
 * Every end but a disable or a new code secret (those have their own
 * events) is in the audit log as `console:signed_out`: at sign-out, and a
 * timeout (idle, max-age) when its cookie comes back or when the next
 * sign-in clears the sessions that are over.
 *
 * Side effects injected: the clock is the `now` argument, randomness the
 * constructor's `random`. Nothing here logs.
 */
import { createHash } from 'node:crypto';
import { appendAuditEvent } from '../../audit/log.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { isConsoleRole, type ConsoleRole } from '../users.js';

/** Idle timeout: a session with no request for this long is over. */
export const SESSION_IDLE_MS = 15 * 60_000;
/** Longest session, however active (a working day). */
export const SESSION_MAX_MS = 8 * 3600_000;
/** last_seen_at is written at most this often. */
export const SESSION_TOUCH_MS = 60_000;
/** 32 random bytes, base64url: cookie values, pre-session cookies. */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface ConsoleSession {
  readonly hash: string;
  readonly name: string;
  readonly role: ConsoleRole;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

export function hashSessionValue(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Pure: whether a session seen last at `lastSeenAt`, made at `createdAt`, is over at `now`. */
export function sessionOver(createdAt: number, lastSeenAt: number, now: number): boolean {
  return timeoutOf(createdAt, lastSeenAt, now) !== undefined;
}

/** Pure: why a session is over at `now` (the 8-hour limit first: it holds however active the session was), or undefined. */
export function timeoutOf(createdAt: number, lastSeenAt: number, now: number): 'max-age' | 'idle' | undefined {
  if (now - createdAt >= SESSION_MAX_MS) return 'max-age';
  if (now - lastSeenAt >= SESSION_IDLE_MS) return 'idle';
  return undefined;
}

export type SignOutReason = 'sign-out' | 'idle' | 'max-age';

export class ConsoleSessions {
  constructor(
    private readonly db: SqlDatabase,
    private readonly random: (n: number) => Buffer,
  ) {}

  secret(): string {
    const value = this.random(32).toString('base64url');
    if (!SECRET_PATTERN.test(value)) throw new RangeError('random source returned too few bytes');
    return value;
  }

  /** A new session for `name`; returns the cookie value (stored nowhere). Removes sessions that are over. */
  async create(name: string, remoteIp: string, now: number): Promise<string> {
    const cookieValue = this.secret();
    await this.db.transaction(async (tx) => {
      // the sessions that are over, deleted in one statement before any audit event (whose chain lock comes last):
      // a node sweeping at the same time, or ending one of them, records each session's end once
      const over = await tx.all<{ token_hash: string; name: string; created_at: number; last_seen_at: number; remote_ip: string }>(
        'DELETE FROM console_sessions WHERE last_seen_at <= ? OR created_at <= ? RETURNING token_hash, name, created_at, last_seen_at, remote_ip',
        [now - SESSION_IDLE_MS, now - SESSION_MAX_MS],
      );
      over.sort((a, b) => a.created_at - b.created_at || (a.token_hash < b.token_hash ? -1 : 1));
      for (const o of over) {
        await appendAuditEvent(tx, { type: 'console:signed_out', data: { user: o.name, remoteIp: o.remote_ip, reason: timeoutOf(o.created_at, o.last_seen_at, now) ?? 'idle' } }, now);
      }
      await tx.run('INSERT INTO console_sessions (token_hash, name, created_at, last_seen_at, remote_ip) VALUES (?, ?, ?, ?, ?)', [hashSessionValue(cookieValue), name, now, now, remoteIp.slice(0, 64)]);
    });
    return cookieValue;
  }

  /**
   * The live session the cookie names, or undefined: none, malformed, over
   * (then deleted), or its user disabled. Moves last_seen_at to `now` (at
   * most once a SESSION_TOUCH_MS).
   */
  async find(cookieValue: unknown, now: number): Promise<ConsoleSession | undefined> {
    if (typeof cookieValue !== 'string' || !SECRET_PATTERN.test(cookieValue)) return undefined;
    const hash = hashSessionValue(cookieValue);
    const row = await this.db.get<{ name: string; created_at: number; last_seen_at: number; remote_ip: string; role: string | null; disabled: number | null }>(
      `SELECT s.name, s.created_at, s.last_seen_at, s.remote_ip, u.role, u.disabled
         FROM console_sessions s LEFT JOIN console_users u ON u.name = s.name WHERE s.token_hash = ?`,
      [hash],
    );
    if (!row) return undefined;
    const timeout = timeoutOf(row.created_at, row.last_seen_at, now);
    if (timeout) {
      await this.end(hash, row.name, row.remote_ip, timeout, now);
      return undefined;
    }
    if (row.role === null || row.disabled !== 0 || !isConsoleRole(row.role)) {
      await this.delete(hash);
      return undefined;
    }
    let lastSeenAt = row.last_seen_at;
    if (now - lastSeenAt >= SESSION_TOUCH_MS) {
      await this.db.transaction((tx) => tx.run('UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?', [now, hash]));
      lastSeenAt = now;
    }
    return { hash, name: row.name, role: row.role, createdAt: row.created_at, lastSeenAt };
  }

  async delete(hash: string): Promise<void> {
    await this.db.transaction((tx) => tx.run('DELETE FROM console_sessions WHERE token_hash = ?', [hash]));
  }

  /** Ends a session and records why (console:signed_out), in one transaction; a session already gone records nothing. */
  async end(hash: string, name: string, remoteIp: string, reason: SignOutReason, now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const r = await tx.run('DELETE FROM console_sessions WHERE token_hash = ?', [hash]);
      if (r.changes > 0) await appendAuditEvent(tx, { type: 'console:signed_out', data: { user: name, remoteIp: remoteIp.slice(0, 64), reason } }, now);
    });
  }
}
