/**
 * Portal sign-in codes (docs/portal.md, "Sign-in codes"), on SQLite or
 * PostgreSQL: the rows around the pure decisions of one-time-code.ts.
 *
 * Every operation reads the state, applies the decision and writes the next
 * state inside one write transaction, alone with its (deposit, recipient):
 * on SQLite the transaction holds the file's write lock (BEGIN IMMEDIATE);
 * on PostgreSQL, where several nodes' transactions run at once, it first
 * locks the deposit's row (`FOR NO KEY UPDATE`, lockDeposit), so requests
 * and checks of one deposit's codes — from any node — run one after
 * another and each sees what the previous one committed. So one code is
 * consumed at most once, never gets more than MAX_WRONG_TRIES wrong tries
 * however many nodes take them, and no code is issued past a lockout or
 * the rate limit that another node's transaction just reached.
 *
 * Only a code's HMAC and salt are stored, never the code. Addresses are kept
 * in lower case (one mailbox, one recipient, as in portal-store.ts). Nothing
 * here logs; results carry outcomes and times, never codes.
 */
import { randomBytes } from 'node:crypto';
import { forNoKeyUpdate } from '../db/locks.js';
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import {
  CODE_RATE_WINDOW_MS,
  checkCode,
  type CheckOutcome,
  type CodeState,
  DEFAULT_CODE_DIGITS,
  issueCode,
  lockoutAfter,
  mayIssueCode,
  type RandomSource,
} from './one-time-code.js';

const CODE_ID_BYTES = 16;

export interface CodeStoreOptions {
  readonly db: SqlDatabase;
  /** The server HMAC key (deriveCodeKey of the master key), ≥ 32 bytes. */
  readonly key: Buffer;
  /** Source of codes, salts and ids; default crypto.randomBytes. */
  readonly random?: RandomSource;
  /** Code length 6..8; default 8. */
  readonly digits?: number;
}

export type RequestCodeResult =
  | { readonly outcome: 'issued'; readonly code: string; readonly expiresAt: number }
  | { readonly outcome: 'refused'; readonly reason: 'locked' | 'rate'; readonly retryAt: number };

export interface CheckCodeResult {
  /** 'wrong' also when no code was ever issued (the caller cannot tell them apart, nor can an attacker). */
  readonly outcome: CheckOutcome;
  /** Wrong tries left on the current code. */
  readonly triesLeft: number;
  /** Set while the (deposit, recipient) is locked out: no new code before this. */
  readonly lockedUntil: number | null;
}

interface CodeRow {
  code_id: string;
  code_hash: string;
  salt: string;
  digits: number;
  expires_at: number;
  wrong_tries: number;
  used_at: number | null;
}

interface LockoutRow {
  lock_count: number;
  locked_until: number;
}

function recipientKey(address: string): string {
  return address.toLowerCase();
}

export class CodeStore {
  private readonly db: SqlDatabase;
  private readonly key: Buffer;
  private readonly random: RandomSource;
  private readonly digits: number;

  constructor(options: CodeStoreOptions) {
    this.db = options.db;
    this.key = options.key;
    this.random = options.random ?? randomBytes;
    this.digits = options.digits ?? DEFAULT_CODE_DIGITS;
  }

  /**
   * A new code for `recipient` of deposit `depositId`, unless a lockout or the
   * rate limit forbids it. A new code replaces any earlier one: those expire now.
   */
  requestCode(depositId: string, recipient: string, now: number): Promise<RequestCodeResult> {
    const rcpt = recipientKey(recipient);
    return this.db.transaction(async (tx): Promise<RequestCodeResult> => {
      await lockDeposit(tx, depositId);
      const issued = await tx.all<{ created_at: number }>(
        'SELECT created_at FROM portal_codes WHERE deposit_id = ? AND recipient = ? AND created_at > ?',
        [depositId, rcpt, now - CODE_RATE_WINDOW_MS],
      );
      const lockout = await readLockout(tx, depositId, rcpt);
      const decision = mayIssueCode({ issuedAt: issued.map((r) => r.created_at), lockedUntil: lockout?.locked_until ?? null }, now);
      if (!decision.allowed) return { outcome: 'refused', reason: decision.reason, retryAt: decision.retryAt };
      const code = issueCode({ now, random: this.random, key: this.key, digits: this.digits });
      const codeId = this.random(CODE_ID_BYTES).toString('hex');
      if (!/^[0-9a-f]{32}$/.test(codeId)) throw new RangeError('random source returned too few bytes');
      await tx.run(
        // every earlier code, used ones too: the newest is then the current one even within one millisecond
        'UPDATE portal_codes SET expires_at = ? WHERE deposit_id = ? AND recipient = ? AND expires_at > ?',
        [now, depositId, rcpt, now],
      );
      await tx.run(
        `INSERT INTO portal_codes (code_id, deposit_id, recipient, code_hash, salt, digits, expires_at, wrong_tries, used_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, ?)`,
        [codeId, depositId, rcpt, code.codeHash, code.salt, code.digits, code.expiresAt, code.createdAt],
      );
      return { outcome: 'issued', code: code.code, expiresAt: code.expiresAt };
    });
  }

  /**
   * Checks `attempt` against the current code of (deposit, recipient) and
   * records the result. The try that locks the code starts a lockout of
   * lockoutAfter(lock count); a sign-in ('ok') clears the lock count.
   */
  checkCode(depositId: string, recipient: string, attempt: unknown, now: number): Promise<CheckCodeResult> {
    const rcpt = recipientKey(recipient);
    return this.db.transaction(async (tx): Promise<CheckCodeResult> => {
      await lockDeposit(tx, depositId);
      const lockout = await readLockout(tx, depositId, rcpt);
      const activeLock = lockout && now < lockout.locked_until ? lockout.locked_until : null;
      // the current code: the newest (a newer code moved the older ones' expiry to its issue time)
      const row = await tx.get<CodeRow>(
        `SELECT code_id, code_hash, salt, digits, expires_at, wrong_tries, used_at FROM portal_codes
          WHERE deposit_id = ? AND recipient = ? ORDER BY expires_at DESC, created_at DESC LIMIT 1`,
        [depositId, rcpt],
      );
      if (!row) return { outcome: 'wrong', triesLeft: 0, lockedUntil: activeLock };
      // during a lockout nothing is checked (the current code is the one that locked)
      if (activeLock !== null && row.used_at === null) return { outcome: 'locked', triesLeft: 0, lockedUntil: activeLock };
      const state: CodeState = {
        codeHash: row.code_hash,
        salt: row.salt,
        digits: row.digits,
        expiresAt: row.expires_at,
        wrongTries: row.wrong_tries,
        usedAt: row.used_at,
      };
      const decision = checkCode(state, attempt, now, this.key);
      const next = decision.nextState;
      if (next.wrongTries !== state.wrongTries || next.usedAt !== state.usedAt) {
        await tx.run('UPDATE portal_codes SET wrong_tries = ?, used_at = ? WHERE code_id = ?', [next.wrongTries, next.usedAt, row.code_id]);
      }
      let lockedUntil = activeLock;
      if (decision.lockedNow) {
        const lockCount = (lockout?.lock_count ?? 0) + 1;
        lockedUntil = now + lockoutAfter(lockCount);
        await tx.run(
          `INSERT INTO portal_lockouts (deposit_id, recipient, lock_count, locked_until) VALUES (?, ?, ?, ?)
           ON CONFLICT (deposit_id, recipient) DO UPDATE SET lock_count = excluded.lock_count, locked_until = excluded.locked_until`,
          [depositId, rcpt, lockCount, lockedUntil],
        );
      } else if (decision.outcome === 'ok' && lockout) {
        await tx.run('DELETE FROM portal_lockouts WHERE deposit_id = ? AND recipient = ?', [depositId, rcpt]);
      }
      return { outcome: decision.outcome, triesLeft: decision.triesLeft, lockedUntil };
    });
  }

  /**
   * Deletes codes that can no longer be used or counted: expired before
   * `now` minus the rate window (the rate limit still needs the newer ones).
   * Returns how many went.
   */
  async purge(now: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const { changes } = await tx.run('DELETE FROM portal_codes WHERE expires_at < ? AND created_at <= ?', [
        now - CODE_RATE_WINDOW_MS,
        now - CODE_RATE_WINDOW_MS,
      ]);
      return changes;
    });
  }
}

/**
 * Makes `tx` the only transaction working on this deposit's codes until it
 * ends (PostgreSQL: its portal_messages row, locked; SQLite: the write lock
 * is held already). A deposit that does not exist has no row and no codes.
 */
async function lockDeposit(tx: SqlQueryable, depositId: string): Promise<void> {
  // SQLite: no statement at all (the transaction holds the write lock from its BEGIN IMMEDIATE)
  if (tx.dialect === 'sqlite') return;
  await tx.get(`SELECT deposit_id FROM portal_messages WHERE deposit_id = ?${forNoKeyUpdate(tx)}`, [depositId]);
}

function readLockout(tx: SqlQueryable, depositId: string, rcpt: string): Promise<LockoutRow | undefined> {
  return tx.get<LockoutRow>('SELECT lock_count, locked_until FROM portal_lockouts WHERE deposit_id = ? AND recipient = ?', [
    depositId,
    rcpt,
  ]);
}
