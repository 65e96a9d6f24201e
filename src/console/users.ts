/**
 * Auditor console users: a name, a role, an argon2id password hash and a
 * TOTP secret sealed under the master key. Sign-in needs both the password
 * and a fresh code; failures lock the name with backoff (lockout.ts); an
 * unknown name costs the same argon2 time as a known one. Every change and
 * every sign-in, failure and lockout is in the audit log (names, roles and
 * addresses, never a password, a secret or a code).
 *
 * Roles: `admin` (config view, queue actions, users), `auditor` (metadata,
 * evidence, audit log, reports), `auditor-content` (an auditor who may also
 * open a message's content, each time with a reason).
 */
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { appendAuditEvent } from '../audit/log.js';
import { openKey, sealKey, type Keyring } from '../crypto/keyring.js';
import { LOCK_SPACES, lockKey, type SqlDatabase, type SqlQueryable } from '../db/sql-database.js';
import { SealgateError } from '../errors.js';
import { validatePassword } from '../users/store.js';
import { lockFor } from './lockout.js';
import { acceptTotp, newTotpSecret, totpUri } from './totp.js';

export const CONSOLE_ROLES = ['admin', 'auditor', 'auditor-content'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

const NAME = /^[a-z0-9][a-z0-9._@+-]{0,63}$/i;
const MAX_PASSWORD = 1024;
// argon2id, RFC 9106 second recommended option (64 MiB, 3 passes), as for SMTP AUTH users
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 1 } as const;
let dummyHash: Promise<string> | undefined;

export function isConsoleRole(v: string): v is ConsoleRole {
  return (CONSOLE_ROLES as readonly string[]).includes(v);
}

export function validateConsoleName(name: string): void {
  if (!NAME.test(name)) throw new SealgateError('SG_USAGE', { message: 'console user name must be 1-64 characters: letters, digits and . _ @ + -, starting with a letter or digit' });
}

/** The master key seals a user's TOTP secret bound to the user's name. */
function totpAad(name: string): Buffer {
  return Buffer.from(`sealgate-console-totp:${name.toLowerCase()}`, 'utf8');
}

export interface ConsoleUser {
  readonly name: string;
  readonly role: ConsoleRole;
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly lastSignInAt: number | null;
  readonly lockedUntil: number;
}

export interface Enrolment {
  /** The otpauth:// URI to import into an authenticator app (shown once). */
  readonly uri: string;
}

export interface ConsoleUsersDeps {
  readonly db: SqlDatabase;
  readonly keyring: Keyring;
  /** The issuer shown in authenticator apps, e.g. "Sealgate gw.example.org". */
  readonly issuer: string;
  readonly random?: (n: number) => Buffer;
}

function sealSecret(keyring: Keyring, name: string, secret: Buffer): { sealed: Buffer; keyId: string } {
  return { sealed: sealKey(keyring.current.key, secret, totpAad(name)), keyId: keyring.current.id };
}

/** `operator`: the OS user (sealgate console-users), or the console admin's name with `via` 'console' (the same for disable and reset). */
export async function addConsoleUser(deps: ConsoleUsersDeps, name: string, role: string, password: string, operator: string, now: number, via?: 'console'): Promise<Enrolment> {
  validateConsoleName(name);
  if (!isConsoleRole(role)) throw new SealgateError('SG_USAGE', { message: `role must be one of ${CONSOLE_ROLES.join(', ')}` });
  validatePassword(password);
  const hash = await argon2.hash(password, HASH_OPTIONS);
  const secret = newTotpSecret(deps.random ?? randomBytes);
  try {
    const { sealed, keyId } = sealSecret(deps.keyring, name, secret);
    await deps.db.transaction(async (tx) => {
      // names are unique ignoring case: two nodes adding "Ann" and "ann" at once check one after the other
      await lockKey(tx, LOCK_SPACES.consoleUsers, name.toLowerCase());
      if (await tx.get('SELECT 1 AS x FROM console_users WHERE lower(name) = lower(?)', [name])) {
        throw new SealgateError('SG_USER_EXISTS', { message: `console user ${name} already exists; "sealgate console-users reset-mfa ${name}" gives it a new code secret` });
      }
      await tx.run('INSERT INTO console_users (name, role, password_hash, totp_sealed, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?)', [name, role, hash, sealed, keyId, now]);
      await appendAuditEvent(tx, { type: 'console:user_added', data: { user: name, role, operator, ...(via ? { via } : {}) } }, now);
    });
    return { uri: totpUri(secret, name, deps.issuer) };
  } finally {
    secret.fill(0);
  }
}

export async function listConsoleUsers(db: SqlQueryable): Promise<ConsoleUser[]> {
  const rows = await db.all<{ name: string; role: string; disabled: number; created_at: number; last_sign_in_at: number | null; locked_until: number }>(
    'SELECT name, role, disabled, created_at, last_sign_in_at, locked_until FROM console_users ORDER BY name',
  );
  return rows.map((r) => ({ name: r.name, role: isConsoleRole(r.role) ? r.role : 'auditor', disabled: r.disabled !== 0, createdAt: r.created_at, lastSignInAt: r.last_sign_in_at, lockedUntil: r.locked_until }));
}

function notFound(name: string): SealgateError {
  return new SealgateError('SG_USER_NOT_FOUND', { message: `console user ${name} not found ("sealgate console-users list" shows them)` });
}

/** Disables a user and ends their sessions. */
export async function disableConsoleUser(db: SqlDatabase, name: string, operator: string, now: number, via?: 'console'): Promise<void> {
  await db.transaction(async (tx) => {
    const r = await tx.run('UPDATE console_users SET disabled = 1 WHERE name = ?', [name]);
    if (r.changes === 0) throw notFound(name);
    await tx.run('DELETE FROM console_sessions WHERE name = ?', [name]);
    await appendAuditEvent(tx, { type: 'console:user_disabled', data: { user: name, operator, ...(via ? { via } : {}) } }, now);
  });
}

/** A new TOTP secret (the old one stops working at once), a cleared lockout, and the user's sessions ended. */
export async function resetConsoleMfa(deps: ConsoleUsersDeps, name: string, operator: string, now: number, via?: 'console'): Promise<Enrolment> {
  const secret = newTotpSecret(deps.random ?? randomBytes);
  try {
    const { sealed, keyId } = sealSecret(deps.keyring, name, secret);
    await deps.db.transaction(async (tx) => {
      const r = await tx.run('UPDATE console_users SET totp_sealed = ?, key_id = ?, totp_last_step = 0, failures = 0, locked_until = 0 WHERE name = ?', [sealed, keyId, name]);
      if (r.changes === 0) throw notFound(name);
      await tx.run('DELETE FROM console_sessions WHERE name = ?', [name]);
      await appendAuditEvent(tx, { type: 'console:mfa_reset', data: { user: name, operator, ...(via ? { via } : {}) } }, now);
    });
    return { uri: totpUri(secret, name, deps.issuer) };
  } finally {
    secret.fill(0);
  }
}

export type SignInOutcome =
  | { readonly ok: true; readonly name: string; readonly role: ConsoleRole }
  /** `retryAfter`: ms since epoch when a locked name may try again. */
  | { readonly ok: false; readonly reason: 'credentials' | 'locked'; readonly retryAfter?: number };

/**
 * Checks a sign-in (password and code) and records it: success, failure or
 * lockout, each audited with the user's name (an unknown name as
 * "(unknown)": people type passwords into name fields) and the address.
 * The same answer for an unknown name, a wrong password, a wrong or reused
 * code and a disabled user ('credentials'), so the form tells an attacker
 * nothing; a locked name answers 'locked' with its time.
 */
export async function signIn(deps: ConsoleUsersDeps, attempt: { name: string; password: string; code: string; remoteIp: string }, now: number): Promise<SignInOutcome> {
  const name = attempt.name.slice(0, 64);
  const row = NAME.test(name)
    ? await deps.db.get<{ name: string; role: string; password_hash: string; totp_sealed: Buffer; key_id: string; totp_last_step: number; failures: number; locked_until: number; disabled: number }>(
        'SELECT name, role, password_hash, totp_sealed, key_id, totp_last_step, failures, locked_until, disabled FROM console_users WHERE name = ?',
        [name],
      )
    : undefined;
  if (row && row.locked_until > now) {
    await deps.db.transaction((tx) => appendAuditEvent(tx, { type: 'console:sign_in_failed', data: { user: row.name, remoteIp: attempt.remoteIp, reason: 'locked' } }, now));
    return { ok: false, reason: 'locked', retryAfter: row.locked_until };
  }
  const password = attempt.password.length <= MAX_PASSWORD ? attempt.password : '';
  let passwordOk: boolean;
  if (row) passwordOk = await argon2.verify(row.password_hash, password).catch(() => false);
  else {
    dummyHash ??= argon2.hash('sealgate-console-dummy-password', HASH_OPTIONS);
    await argon2.verify(await dummyHash, password).catch(() => false);
    passwordOk = false;
  }
  let step: number | undefined;
  if (row && passwordOk) {
    const secret = openKey(deps.keyring.get(row.key_id).key, Buffer.from(row.totp_sealed), totpAad(row.name), row.key_id);
    try {
      step = acceptTotp(secret, attempt.code.trim(), now, row.totp_last_step);
    } finally {
      secret.fill(0);
    }
  }
  if (row && passwordOk && step !== undefined && row.disabled === 0 && isConsoleRole(row.role)) {
    const role = row.role;
    // the step is claimed in the same statement that checks it: two requests with one code cannot both pass
    const won = await deps.db.transaction(async (tx) => {
      const r = await tx.run('UPDATE console_users SET totp_last_step = ?, failures = 0, locked_until = 0, last_sign_in_at = ? WHERE name = ? AND totp_last_step < ?', [step, now, row.name, step]);
      if (r.changes === 0) return false;
      await appendAuditEvent(tx, { type: 'console:signed_in', data: { user: row.name, role, remoteIp: attempt.remoteIp } }, now);
      return true;
    });
    if (won) return { ok: true, name: row.name, role };
  }
  const why = !row ? 'unknown-user' : row.disabled !== 0 ? 'disabled' : !passwordOk ? 'password' : 'code';
  const lockedUntil = await deps.db.transaction(async (tx) => {
    // the failure is counted where it is stored (failures + 1), not from the row read before the password check:
    // failed attempts at once, here or on another node, each count, so the lockout holds across nodes.
    // The row is written before the audit events (whose chain lock comes last in every transaction).
    let lock = 0;
    if (row) {
      const counted = await tx.get<{ failures: number }>('UPDATE console_users SET failures = failures + 1 WHERE name = ? RETURNING failures', [row.name]);
      lock = counted ? lockFor(Number(counted.failures)) : 0;
      if (lock > 0) await tx.run('UPDATE console_users SET locked_until = ? WHERE name = ?', [now + lock, row.name]);
    }
    // an unknown name is not recorded as typed: people type their password into the name field
    await appendAuditEvent(tx, { type: 'console:sign_in_failed', data: { user: row ? row.name : '(unknown)', remoteIp: attempt.remoteIp, reason: why } }, now);
    if (row && lock > 0) await appendAuditEvent(tx, { type: 'console:locked', data: { user: row.name, remoteIp: attempt.remoteIp, until: now + lock } }, now);
    return lock > 0 ? now + lock : 0;
  });
  return lockedUntil > 0 ? { ok: false, reason: 'locked', retryAfter: lockedUntil } : { ok: false, reason: 'credentials' };
}
