/**
 * Portal sign-in codes on SQLite and PostgreSQL: the store's behaviour on
 * both, and several writers at once — a second connection to the same
 * database (SQLite: another connection to the file, as a second process;
 * PostgreSQL: another pool, as a second node). One code used from both at
 * once signs in once; wrong guesses from both never pass the limit; codes
 * requested from both never pass the rate limit.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { CodeStore } from '../../src/portal/code-store.js';
import { CODE_LIFETIME_MS, deriveCodeKey, MAX_CODES_PER_WINDOW, MAX_WRONG_TRIES } from '../../src/portal/one-time-code.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const NOW = Date.UTC(2026, 11, 4, 9, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const RCPT = 'Patient@Gmail.example';
const KEY = deriveCodeKey(randomBytes(32));

/** A deposit row of its own per test (the tests share one database per kind). */
async function addDeposit(db: SqlDatabase): Promise<string> {
  const id = randomBytes(16).toString('hex');
  await db.run(
    `INSERT INTO portal_messages (deposit_id, queue_id, object_key, wrapped_key, key_id, size, created_at, expires_at)
     VALUES (?, 'Q1', ?, NULL, 'k1', 10, ?, ?)`,
    [id, `portal/${id.slice(0, 2)}/${id}`, NOW, NOW + 30 * 24 * HOUR],
  );
  return id;
}

function wrongFor(code: string): string {
  return code.replace(/./g, (d) => String((Number(d) + 1) % 10));
}

async function issue(store: CodeStore, deposit: string, at = NOW, rcpt = RCPT): Promise<string> {
  const r = await store.requestCode(deposit, rcpt, at);
  if (r.outcome !== 'issued') throw new Error(`refused: ${r.reason}`);
  return r.code;
}

describe.each(DIALECTS)('portal sign-in codes on %s', (kind) => {
  const db = (): SqlDatabase => dbs.get(kind);
  const store = (on: SqlDatabase = db()): CodeStore => new CodeStore({ db: on, key: KEY });

  it('issue → ok → used; expiry; a new code replaces the old; addresses in any case', async () => {
    const deposit = await addDeposit(db());
    const first = await issue(store(), deposit);
    expect((await store().checkCode(deposit, RCPT, first, NOW + CODE_LIFETIME_MS)).outcome).toBe('expired');
    const second = await issue(store(), deposit, NOW + MIN);
    if (first !== second) expect((await store().checkCode(deposit, RCPT, first, NOW + 2 * MIN)).outcome).toBe('wrong');
    expect(await store().checkCode(deposit, 'patient@gmail.EXAMPLE', second, NOW + 2 * MIN)).toMatchObject({ outcome: 'ok' });
    expect((await store().checkCode(deposit, RCPT, second, NOW + 3 * MIN)).outcome).toBe('used');
    expect((await store().checkCode(deposit, 'other@x.example', second, NOW + 3 * MIN)).outcome).toBe('wrong');
  });

  it('five wrong tries lock; lockouts double; a sign-in clears the count; purge keeps what the rate limit needs', async () => {
    const deposit = await addDeposit(db());
    const code = await issue(store(), deposit);
    const outcomes: string[] = [];
    for (let i = 0; i < MAX_WRONG_TRIES; i++) outcomes.push((await store().checkCode(deposit, RCPT, wrongFor(code), NOW + MIN)).outcome);
    expect(outcomes).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'locked']);
    expect(await store().requestCode(deposit, RCPT, NOW + MIN + 1)).toEqual({ outcome: 'refused', reason: 'locked', retryAt: NOW + 2 * MIN });
    const t = NOW + 2 * MIN;
    await issue(store(), deposit, t);
    for (let i = 0; i < MAX_WRONG_TRIES; i++) await store().checkCode(deposit, RCPT, 'nonsense', t);
    expect(await db().get('SELECT lock_count, locked_until FROM portal_lockouts WHERE deposit_id = ?', [deposit])).toEqual({ lock_count: 2, locked_until: t + 2 * MIN });
    const code3 = await issue(store(), deposit, t + 2 * MIN);
    expect((await store().checkCode(deposit, RCPT, code3, t + 2 * MIN)).outcome).toBe('ok');
    expect(await db().get('SELECT lock_count FROM portal_lockouts WHERE deposit_id = ?', [deposit])).toBeUndefined();
    // three codes issued within the hour before t + 2 min + 3 h: none of them is needed any more
    const before = await db().get<{ n: number }>('SELECT count(*) AS n FROM portal_codes WHERE deposit_id = ?', [deposit]);
    expect(before?.n).toBe(3);
    expect(await store().purge(t + 2 * MIN + 3 * HOUR)).toBeGreaterThanOrEqual(3);
    expect(await db().get('SELECT count(*) AS n FROM portal_codes WHERE deposit_id = ?', [deposit])).toEqual({ n: 0 });
  });

  it('at most five codes an hour per deposit and recipient', async () => {
    const deposit = await addDeposit(db());
    for (let i = 0; i < MAX_CODES_PER_WINDOW; i++) await issue(store(), deposit, NOW + i * MIN);
    expect(await store().requestCode(deposit, RCPT, NOW + 10 * MIN)).toEqual({ outcome: 'refused', reason: 'rate', retryAt: NOW + HOUR });
    expect((await store().requestCode(deposit, 'other@x.example', NOW + 10 * MIN)).outcome).toBe('issued');
  });

  it('one code used at once from two connections (two nodes) signs in exactly once', async () => {
    const other = await dbs.connect(kind);
    for (let round = 0; round < 5; round++) {
      const deposit = await addDeposit(db());
      const code = await issue(store(), deposit);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store(i % 2 ? other : db()).checkCode(deposit, RCPT, code, NOW + MIN)));
      expect(results.filter((r) => r.outcome === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'used')).toHaveLength(11);
    }
  });

  it('wrong guesses at once from two connections never pass the limit, and lock once', async () => {
    const other = await dbs.connect(kind);
    for (let round = 0; round < 5; round++) {
      const deposit = await addDeposit(db());
      const code = await issue(store(), deposit);
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => store(i % 2 ? other : db()).checkCode(deposit, RCPT, wrongFor(code), NOW + MIN)));
      expect(results.filter((r) => r.outcome === 'wrong')).toHaveLength(MAX_WRONG_TRIES - 1);
      expect(results.filter((r) => r.outcome === 'locked')).toHaveLength(16 - (MAX_WRONG_TRIES - 1));
      expect(await db().get('SELECT wrong_tries FROM portal_codes WHERE deposit_id = ?', [deposit])).toEqual({ wrong_tries: MAX_WRONG_TRIES });
      expect(await db().get('SELECT lock_count FROM portal_lockouts WHERE deposit_id = ?', [deposit])).toEqual({ lock_count: 1 });
      // the right code after the lock: still locked
      expect((await store(other).checkCode(deposit, RCPT, code, NOW + MIN)).outcome).toBe('locked');
    }
  });

  it('codes requested at once from two connections never pass the rate limit', async () => {
    const other = await dbs.connect(kind);
    for (let round = 0; round < 3; round++) {
      const deposit = await addDeposit(db());
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store(i % 2 ? other : db()).requestCode(deposit, RCPT, NOW)));
      expect(results.filter((r) => r.outcome === 'issued')).toHaveLength(MAX_CODES_PER_WINDOW);
      expect(await db().get('SELECT count(*) AS n FROM portal_codes WHERE deposit_id = ?', [deposit])).toEqual({ n: MAX_CODES_PER_WINDOW });
    }
  });

  it('a code requested while the guesses that lock arrive from another connection: never a fresh code after the lock', async () => {
    const other = await dbs.connect(kind);
    for (let round = 0; round < 5; round++) {
      const deposit = await addDeposit(db());
      const code = await issue(store(), deposit);
      for (let i = 0; i < MAX_WRONG_TRIES - 1; i++) await store().checkCode(deposit, RCPT, wrongFor(code), NOW + MIN);
      // the locking guess on one node, a new code asked for on the other, at the same moment
      const [check, request] = await Promise.all([store(other).checkCode(deposit, RCPT, wrongFor(code), NOW + MIN), store().requestCode(deposit, RCPT, NOW + MIN)]);
      if (request.outcome === 'issued') {
        // the request came first: the guess then hit the new code, one wrong try of five on it
        expect(check.outcome).toBe('wrong');
        expect(check.triesLeft).toBe(MAX_WRONG_TRIES - 1);
      } else {
        // the guess came first and locked: no code while the lockout lasts
        expect(check.outcome).toBe('locked');
        expect(request).toEqual({ outcome: 'refused', reason: 'locked', retryAt: NOW + 2 * MIN });
      }
    }
  });
});
