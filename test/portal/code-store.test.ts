/**
 * Sign-in codes with real SQLite: issue → check → used; five wrong tries lock
 * and start a lockout that doubles; the request limit; concurrent attempts on
 * one code (exactly one sign-in, never more than five wrong tries); no code
 * stored in plaintext.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { CodeStore } from '../../src/portal/code-store.js';
import { CODE_LIFETIME_MS, deriveCodeKey } from '../../src/portal/one-time-code.js';

const NOW = Date.UTC(2026, 11, 4, 9, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DEPOSIT = 'ab'.repeat(16);
const OTHER_DEPOSIT = 'cd'.repeat(16);
const RCPT = 'Patient@Gmail.example';

let dir: string;
let db: Database;
let store: CodeStore;

async function addDeposit(id: string): Promise<void> {
  await db.run(
    `INSERT INTO portal_messages (deposit_id, queue_id, object_key, wrapped_key, key_id, size, created_at, expires_at)
     VALUES (?, 'Q1', ?, NULL, 'k1', 10, ?, ?)`,
    [id, `portal/${id.slice(0, 2)}/${id}`, NOW, NOW + 30 * 24 * HOUR],
  );
}

async function issue(at = NOW, depositId = DEPOSIT, rcpt = RCPT): Promise<string> {
  const r = await store.requestCode(depositId, rcpt, at);
  if (r.outcome !== 'issued') throw new Error(`refused: ${r.reason}`);
  return r.code;
}

function wrongFor(code: string): string {
  return code.replace(/./g, (d) => String((Number(d) + 1) % 10));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-codes-'));
  db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
  await addDeposit(DEPOSIT);
  await addDeposit(OTHER_DEPOSIT);
  store = new CodeStore({ db, key: deriveCodeKey(randomBytes(32)) });
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('CodeStore', () => {
  it('migration 8 creates the tables and their indexes', async () => {
    const names = (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE name LIKE 'portal_%' ORDER BY name")).map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining(['portal_codes', 'portal_codes_expires', 'portal_codes_recipient', 'portal_lockouts', 'portal_lockouts_until']),
    );
    expect((await db.get<{ user_version: number }>('PRAGMA user_version'))?.user_version).toBeGreaterThanOrEqual(8);
  });

  it('issue → check ok → check again is used', async () => {
    const code = await issue();
    expect(code).toMatch(/^[0-9]{8}$/);
    expect(await store.checkCode(DEPOSIT, RCPT, code, NOW + MIN)).toMatchObject({ outcome: 'ok' });
    expect(await store.checkCode(DEPOSIT, RCPT, code, NOW + 2 * MIN)).toMatchObject({ outcome: 'used' });
  });

  it('addresses compare case-insensitively; another deposit or recipient does not match', async () => {
    const code = await issue();
    expect((await store.checkCode(OTHER_DEPOSIT, RCPT, code, NOW)).outcome).toBe('wrong');
    expect((await store.checkCode(DEPOSIT, 'someone@else.example', code, NOW)).outcome).toBe('wrong');
    expect((await store.checkCode(DEPOSIT, 'patient@gmail.example', code, NOW)).outcome).toBe('ok');
  });

  it('expires after 10 minutes', async () => {
    const code = await issue();
    expect((await store.checkCode(DEPOSIT, RCPT, code, NOW + CODE_LIFETIME_MS)).outcome).toBe('expired');
  });

  it('a new code replaces the previous one', async () => {
    const first = await issue();
    const second = await issue(NOW + MIN);
    if (first !== second) expect((await store.checkCode(DEPOSIT, RCPT, first, NOW + 2 * MIN)).outcome).toBe('wrong');
    expect((await store.checkCode(DEPOSIT, RCPT, second, NOW + 2 * MIN)).outcome).toBe('ok');
  });

  it('5 wrong → locked; lockouts double; a sign-in clears the count', async () => {
    const code = await issue();
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) outcomes.push((await store.checkCode(DEPOSIT, RCPT, wrongFor(code), NOW + MIN)).outcome);
    expect(outcomes).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'locked']);
    expect(await store.checkCode(DEPOSIT, RCPT, code, NOW + MIN)).toEqual({ outcome: 'locked', triesLeft: 0, lockedUntil: NOW + 2 * MIN });
    // no new code during the lockout
    expect(await store.requestCode(DEPOSIT, RCPT, NOW + MIN + 30_000)).toEqual({ outcome: 'refused', reason: 'locked', retryAt: NOW + 2 * MIN });
    // after it: a new code, and a second lock lasts 2 minutes
    const t = NOW + 2 * MIN;
    const code2 = await issue(t);
    for (let i = 0; i < 5; i++) await store.checkCode(DEPOSIT, RCPT, 'nonsense', t);
    expect((await store.checkCode(DEPOSIT, RCPT, code2, t)).lockedUntil).toBe(t + 2 * MIN);
    expect(await db.get('SELECT lock_count, locked_until FROM portal_lockouts')).toEqual({ lock_count: 2, locked_until: t + 2 * MIN });
    // the other recipient and the other deposit are not locked
    expect((await store.requestCode(OTHER_DEPOSIT, RCPT, t)).outcome).toBe('issued');
    // sign in after the lockout: the count is cleared
    const code3 = await issue(t + 2 * MIN);
    expect((await store.checkCode(DEPOSIT, RCPT, code3, t + 2 * MIN)).outcome).toBe('ok');
    expect(await db.get('SELECT * FROM portal_lockouts WHERE deposit_id = ?', [DEPOSIT])).toBeUndefined();
  });

  it('at most 5 codes per hour per deposit and recipient', async () => {
    for (let i = 0; i < 5; i++) await issue(NOW + i * MIN);
    expect(await store.requestCode(DEPOSIT, RCPT, NOW + 10 * MIN)).toEqual({ outcome: 'refused', reason: 'rate', retryAt: NOW + HOUR });
    expect((await store.requestCode(DEPOSIT, 'other@x.example', NOW + 10 * MIN)).outcome).toBe('issued');
    expect((await store.requestCode(DEPOSIT, RCPT, NOW + HOUR)).outcome).toBe('issued');
  });

  it('concurrent checks of the same right code: exactly one ok', async () => {
    const code = await issue();
    const results = await Promise.all(Array.from({ length: 10 }, () => store.checkCode(DEPOSIT, RCPT, code, NOW + MIN)));
    const outcomes = results.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'used')).toHaveLength(9);
  });

  it('concurrent wrong tries never exceed 5 and lock exactly once', async () => {
    const code = await issue();
    const results = await Promise.all(Array.from({ length: 12 }, () => store.checkCode(DEPOSIT, RCPT, wrongFor(code), NOW + MIN)));
    expect(results.filter((r) => r.outcome === 'wrong')).toHaveLength(4);
    expect(results.filter((r) => r.outcome === 'locked')).toHaveLength(8);
    expect(await db.get('SELECT wrong_tries FROM portal_codes')).toEqual({ wrong_tries: 5 });
    expect(await db.get('SELECT lock_count FROM portal_lockouts')).toEqual({ lock_count: 1 });
    expect((await store.checkCode(DEPOSIT, RCPT, code, NOW + MIN)).outcome).toBe('locked');
  });

  it('a check with no code issued is wrong and changes nothing', async () => {
    expect(await store.checkCode(DEPOSIT, RCPT, '12345678', NOW)).toEqual({ outcome: 'wrong', triesLeft: 0, lockedUntil: null });
  });

  it('never stores a code in plaintext', async () => {
    const codes: string[] = [];
    for (const rcpt of ['a@x.example', 'b@x.example', 'c@x.example']) codes.push(await issue(NOW, DEPOSIT, rcpt));
    const rows = await db.all<Record<string, unknown>>('SELECT * FROM portal_codes');
    expect(rows).toHaveLength(3);
    for (const row of rows) for (const code of codes) expect(JSON.stringify(row)).not.toContain(code);
    await db.close();
    // every file of the database (main, WAL, shm), as text and as bytes
    for (const name of await readdir(dir)) {
      const bytes = await readFile(join(dir, name));
      for (const code of codes) expect(bytes.includes(Buffer.from(code))).toBe(false);
    }
    db = await Database.open(join(dir, 'sealgate.db'));
  });

  it('purge deletes old codes only', async () => {
    await issue(NOW - 3 * HOUR);
    await issue(NOW);
    expect(await store.purge(NOW)).toBe(1);
    expect(await db.all('SELECT created_at FROM portal_codes')).toEqual([{ created_at: NOW }]);
  });

  it('codes go with their deposit', async () => {
    await issue();
    await db.run('DELETE FROM portal_messages WHERE deposit_id = ?', [DEPOSIT]);
    expect(await db.all('SELECT * FROM portal_codes')).toEqual([]);
  });

  it('6-digit codes when configured', async () => {
    const six = new CodeStore({ db, key: randomBytes(32), digits: 6 });
    const r = await six.requestCode(DEPOSIT, RCPT, NOW);
    expect(r.outcome === 'issued' && /^[0-9]{6}$/.test(r.code)).toBe(true);
  });
});
