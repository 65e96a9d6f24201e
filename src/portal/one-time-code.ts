/**
 * One-time sign-in codes for the portal (docs/portal.md, "Sign-in codes"):
 * the decisions only, as pure functions. Time comes in as `now` (integer ms
 * since epoch) and randomness through `random(n)`, so every rule is
 * table-testable; code-store.ts reads and writes the state around them in
 * one transaction.
 *
 * How a code is hashed — HMAC-SHA-256 under a server key, over a per-code
 * random salt and the code:
 *   - A code has at most 8 decimal digits (< 27 bits). A plain or salted
 *     SHA-256 of it is reversed by trying all 10^8 values in well under a
 *     second, so anyone who can read the database (a backup, a copy of the
 *     file, a read-only SQL hole) could sign in with a live code. The HMAC key
 *     is not in the database (the daemon derives it from the master key with
 *     `deriveCodeKey`), so the rows alone do not reveal a code.
 *   - The salt (128 random bits per code) makes two equal codes hash
 *     differently, so the rows do not show when codes repeat.
 *   - Comparison is of the two 32-byte HMACs with crypto.timingSafeEqual.
 *
 * Nothing here logs, and nothing throws on attacker input: `checkCode` turns
 * every input, however odd, into an outcome.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const CODE_LIFETIME_MS = 10 * 60 * 1000;
export const DEFAULT_CODE_DIGITS = 8;
export const MIN_CODE_DIGITS = 6;
export const MAX_CODE_DIGITS = 8;
/** Wrong tries per code; the last one locks the code. */
export const MAX_WRONG_TRIES = 5;
/** Longer input is malformed before it is looked at further. */
export const MAX_ATTEMPT_LENGTH = 16;
/** Codes per (deposit, recipient) per CODE_RATE_WINDOW_MS. */
export const MAX_CODES_PER_WINDOW = 5;
export const CODE_RATE_WINDOW_MS = 60 * 60 * 1000;
/** First lockout; each further lock doubles it, up to LOCKOUT_MAX_MS. */
export const LOCKOUT_BASE_MS = 60 * 1000;
export const LOCKOUT_MAX_MS = 24 * 60 * 60 * 1000;
export const CODE_SALT_BYTES = 16;
/** Smallest HMAC key accepted. */
export const CODE_KEY_MIN_BYTES = 32;

const HMAC_LABEL = 'sealgate-portal-code-v1';
const KEY_INFO = 'sealgate-portal-code-key-v1';
/** Bytes of 250..255 are re-drawn: 250 is the largest multiple of 10 ≤ 256. */
const BYTE_LIMIT = 250;
/** A random source that keeps returning only rejected bytes is broken. */
const MAX_DRAW_ROUNDS = 64;

export type RandomSource = (n: number) => Buffer;

/** The server key for code HMACs, derived from (and rotated with) the master key; never stored. */
export function deriveCodeKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), KEY_INFO, 32));
}

export interface IssueCodeInput {
  readonly now: number;
  readonly random: RandomSource;
  /** Server HMAC key (≥ 32 bytes). */
  readonly key: Buffer;
  /** 6..8; default 8. */
  readonly digits?: number;
}

export interface IssuedCode {
  /** To be mailed to the recipient; returned once, stored nowhere. */
  readonly code: string;
  /** Hex HMAC-SHA-256(key, label ‖ salt ‖ code). */
  readonly codeHash: string;
  /** Hex, CODE_SALT_BYTES random bytes. */
  readonly salt: string;
  readonly digits: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * Draws `digits` uniform decimal digits by rejection sampling: one random byte
 * per digit, bytes ≥ 250 re-drawn (256 is not a multiple of 10, so `byte % 10`
 * over all bytes would favour 0–5).
 */
export function drawDigits(random: RandomSource, digits: number): string {
  let out = '';
  for (let round = 0; out.length < digits; round++) {
    if (round >= MAX_DRAW_ROUNDS) throw new RangeError('random source keeps returning rejected bytes');
    const need = digits - out.length;
    const bytes = random(need);
    if (!Buffer.isBuffer(bytes) || bytes.length < need) throw new RangeError('random source returned too few bytes');
    for (let i = 0; i < need; i++) {
      const b = bytes[i] ?? 255;
      if (b < BYTE_LIMIT) out += String(b % 10);
    }
  }
  return out;
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < CODE_KEY_MIN_BYTES) throw new RangeError('code key must be at least 32 bytes');
}

/** Hex HMAC of a code under the server key and the code's salt (hex). */
export function hashCode(key: Buffer, saltHex: string, code: string): string {
  return createHmac('sha256', key).update(`${HMAC_LABEL}\0${saltHex}\0${code}`, 'utf8').digest('hex');
}

export function issueCode(input: IssueCodeInput): IssuedCode {
  const digits = input.digits ?? DEFAULT_CODE_DIGITS;
  if (!Number.isInteger(digits) || digits < MIN_CODE_DIGITS || digits > MAX_CODE_DIGITS) {
    throw new RangeError(`code length must be ${MIN_CODE_DIGITS}..${MAX_CODE_DIGITS} digits`);
  }
  if (!Number.isSafeInteger(input.now)) throw new RangeError('now must be integer ms');
  checkKey(input.key);
  const saltBytes = input.random(CODE_SALT_BYTES);
  if (!Buffer.isBuffer(saltBytes) || saltBytes.length < CODE_SALT_BYTES) throw new RangeError('random source returned too few bytes');
  const salt = saltBytes.subarray(0, CODE_SALT_BYTES).toString('hex');
  const code = drawDigits(input.random, digits);
  return {
    code,
    codeHash: hashCode(input.key, salt, code),
    salt,
    digits,
    createdAt: input.now,
    expiresAt: input.now + CODE_LIFETIME_MS,
  };
}

/** What is kept of an issued code. */
export interface CodeState {
  readonly codeHash: string;
  readonly salt: string;
  readonly digits: number;
  readonly expiresAt: number;
  readonly wrongTries: number;
  readonly usedAt: number | null;
}

export type CheckOutcome = 'ok' | 'wrong' | 'expired' | 'used' | 'locked' | 'malformed';

export interface CheckDecision {
  readonly outcome: CheckOutcome;
  readonly nextState: CodeState;
  /** This attempt locked the code (the store then starts a lockout). */
  readonly lockedNow: boolean;
  /** Wrong tries left on this code after this attempt. */
  readonly triesLeft: number;
}

/**
 * The form a typed code is accepted in: surrounding and inner white space and
 * hyphens are dropped ("1234 5678", "1234-5678", a pasted trailing newline);
 * full-width digits become ASCII (NFKC). Anything else that is not exactly
 * `digits` ASCII digits is malformed — undefined here.
 */
export function normalizeAttempt(attempt: unknown, digits: number): string | undefined {
  if (typeof attempt !== 'string' || attempt.length > MAX_ATTEMPT_LENGTH) return undefined;
  const s = attempt.normalize('NFKC').replace(/[\s-]/g, '');
  if (s.length !== digits || !/^[0-9]+$/.test(s)) return undefined;
  return s;
}

function sameHash(storedHex: string, givenHex: string): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  const given = Buffer.from(givenHex, 'hex');
  // a corrupt stored hash (wrong length) is never equal, and never throws
  if (stored.length !== 32 || given.length !== 32) return false;
  return timingSafeEqual(stored, given);
}

/**
 * Decides one sign-in attempt against a code's state.
 *
 * Order: a used code stays 'used'; a locked code (MAX_WRONG_TRIES wrong
 * tries) stays 'locked'; past its life it is 'expired' — none of these change
 * the state. Otherwise the attempt is either the code ('ok': the code is
 * consumed) or a wrong try: 'wrong', or 'malformed' when it is not a code at
 * all. Malformed input counts as a wrong try, so the form cannot be probed for
 * free; the try that reaches MAX_WRONG_TRIES answers 'locked'. Never throws.
 */
export function checkCode(state: CodeState, attempt: unknown, now: number, key: Buffer): CheckDecision {
  const triesLeft = Math.max(0, MAX_WRONG_TRIES - state.wrongTries);
  const unchanged = (outcome: CheckOutcome): CheckDecision => ({ outcome, nextState: state, lockedNow: false, triesLeft });
  if (state.usedAt !== null) return unchanged('used');
  if (state.wrongTries >= MAX_WRONG_TRIES) return unchanged('locked');
  if (!(now < state.expiresAt)) return unchanged('expired');
  const normalized = normalizeAttempt(attempt, state.digits);
  let right = false;
  if (normalized !== undefined && Buffer.isBuffer(key) && key.length >= CODE_KEY_MIN_BYTES) {
    right = sameHash(state.codeHash, hashCode(key, state.salt, normalized));
  }
  if (right) return { outcome: 'ok', nextState: { ...state, usedAt: now }, lockedNow: false, triesLeft };
  const wrongTries = state.wrongTries + 1;
  const lockedNow = wrongTries >= MAX_WRONG_TRIES;
  return {
    outcome: lockedNow ? 'locked' : normalized === undefined ? 'malformed' : 'wrong',
    nextState: { ...state, wrongTries },
    lockedNow,
    triesLeft: Math.max(0, MAX_WRONG_TRIES - wrongTries),
  };
}

/**
 * How long new codes are refused after the `lockCount`-th lock of a
 * (deposit, recipient): 1 min, 2, 4, … doubling, capped at 24 h. 0 (or
 * anything not a positive integer) means no lockout.
 */
export function lockoutAfter(lockCount: number): number {
  if (!Number.isInteger(lockCount) || lockCount < 1) return 0;
  // 2^11 min > 24 h already: no huge powers
  if (lockCount > 12) return LOCKOUT_MAX_MS;
  return Math.min(LOCKOUT_BASE_MS * 2 ** (lockCount - 1), LOCKOUT_MAX_MS);
}

export interface CodeHistory {
  /** Creation times (ms) of codes issued for this (deposit, recipient); older ones may be left out. */
  readonly issuedAt: readonly number[];
  /** End of the current lockout, if any. */
  readonly lockedUntil: number | null;
}

export type IssueDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'locked' | 'rate'; readonly retryAt: number };

/**
 * Whether a new code may be sent to this (deposit, recipient) now: never
 * during a lockout, and at most MAX_CODES_PER_WINDOW in any sliding
 * CODE_RATE_WINDOW_MS. `retryAt` is the first moment a request would pass
 * this rule.
 */
export function mayIssueCode(history: CodeHistory, now: number): IssueDecision {
  if (history.lockedUntil !== null && now < history.lockedUntil) {
    return { allowed: false, reason: 'locked', retryAt: history.lockedUntil };
  }
  const recent = history.issuedAt.filter((t) => t > now - CODE_RATE_WINDOW_MS && t <= now).sort((a, b) => a - b);
  if (recent.length >= MAX_CODES_PER_WINDOW) {
    // the window frees a slot when enough of the oldest leave it
    const oldestToLeave = recent[recent.length - MAX_CODES_PER_WINDOW] ?? now;
    return { allowed: false, reason: 'rate', retryAt: oldestToLeave + CODE_RATE_WINDOW_MS };
  }
  return { allowed: true };
}
