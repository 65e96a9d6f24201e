/**
 * Local SMTP AUTH users (staff mail clients on the submission listener).
 * Passwords are stored only as argon2id hashes (PHC strings). Verification
 * of an unknown user still runs one argon2 verification, so response time
 * does not reveal which user names exist.
 */
import argon2 from 'argon2';
import { LOCK_SPACES, lockKey, type SqlDatabase, type SqlQueryable } from '../db/sql-database.js';
import { SealgateError } from '../errors.js';
import { appendAuditEvent } from '../audit/log.js';

const NAME = /^[a-z0-9][a-z0-9._@+-]{0,127}$/i;
const MIN_PASSWORD = 12;
const MAX_PASSWORD = 1024;

// argon2id, RFC 9106 second recommended option (64 MiB, 3 passes)
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 1 } as const;

let dummyHash: Promise<string> | undefined;

export function validateUserName(name: string): void {
  if (!NAME.test(name)) {
    throw new SealgateError('SG_USAGE', { message: 'user name must be 1-128 characters: letters, digits and . _ @ + -, starting with a letter or digit' });
  }
}

export function validatePassword(password: string): void {
  if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw new SealgateError('SG_USAGE', { message: `password must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters long` });
  }
}

export async function addUser(db: SqlDatabase, name: string, password: string, now: number): Promise<void> {
  validateUserName(name);
  validatePassword(password);
  const hash = await argon2.hash(password, HASH_OPTIONS);
  await db.transaction(async (tx) => {
    // two nodes adding one name at once: the second finds the first's row (not a key violation)
    await lockKey(tx, LOCK_SPACES.users, name);
    const existing = await tx.get('SELECT 1 AS x FROM users WHERE name = ?', [name]);
    if (existing) throw new SealgateError('SG_USER_EXISTS', { message: `user ${name} already exists; use "sealgate users passwd ${name}" to change the password` });
    await tx.run('INSERT INTO users (name, hash, created_at) VALUES (?, ?, ?)', [name, hash, now]);
    await appendAuditEvent(tx, { type: 'users:added', data: { user: name } }, now);
  });
}

export async function setPassword(db: SqlDatabase, name: string, password: string, now: number): Promise<void> {
  validatePassword(password);
  const hash = await argon2.hash(password, HASH_OPTIONS);
  await db.transaction(async (tx) => {
    const r = await tx.run('UPDATE users SET hash = ? WHERE name = ?', [hash, name]);
    if (r.changes === 0) throw new SealgateError('SG_USER_NOT_FOUND', { message: `user ${name} not found` });
    await appendAuditEvent(tx, { type: 'users:password_changed', data: { user: name } }, now);
  });
}

export async function removeUser(db: SqlDatabase, name: string, now: number): Promise<void> {
  await db.transaction(async (tx) => {
    const r = await tx.run('DELETE FROM users WHERE name = ?', [name]);
    if (r.changes === 0) throw new SealgateError('SG_USER_NOT_FOUND', { message: `user ${name} not found` });
    await appendAuditEvent(tx, { type: 'users:removed', data: { user: name } }, now);
  });
}

export async function listUsers(db: SqlQueryable): Promise<{ name: string; createdAt: number; disabled: boolean }[]> {
  const rows = await db.all<{ name: string; created_at: number; disabled: number }>('SELECT name, created_at, disabled FROM users ORDER BY name');
  return rows.map((r) => ({ name: r.name, createdAt: r.created_at, disabled: r.disabled !== 0 }));
}

/** True only for an existing, enabled user with this password. */
export async function verifyUser(db: SqlQueryable, name: string, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD) return false;
  const row = NAME.test(name) ? await db.get<{ hash: string; disabled: number }>('SELECT hash, disabled FROM users WHERE name = ?', [name]) : undefined;
  if (!row) {
    dummyHash ??= argon2.hash('sealgate-dummy-password', HASH_OPTIONS);
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  const ok = await argon2.verify(row.hash, password).catch(() => false);
  return ok && row.disabled === 0;
}
