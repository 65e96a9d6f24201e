/**
 * Portal reading sessions (table portal_sessions) on SQLite and PostgreSQL:
 * a session made through one connection is found through another (a load
 * balancer needs no stickiness), idle and too-old sessions end, sign-out on
 * one node ends it on every node, and sign-ins on two nodes at once clear
 * old sessions without waiting for or failing on each other.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { hashSessionValue, SESSION_IDLE_MS, SESSION_MAX_MS, SESSION_TOUCH_MS, SessionStore } from '../../src/portal/http/sessions.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = Date.UTC(2026, 11, 4, 9, 0, 0);
const RCPT = 'Pat@Gmail.example';

/** A deposit row of its own per test (the tests share one database per kind). */
async function addDeposit(db: SqlDatabase): Promise<string> {
  const id = randomBytes(16).toString('hex');
  await db.run(
    `INSERT INTO portal_messages (deposit_id, queue_id, object_key, wrapped_key, key_id, size, created_at, expires_at)
     VALUES (?, 'Q1', ?, NULL, 'k1', 10, ?, ?)`,
    [id, `portal/${id.slice(0, 2)}/${id}`, T, T + 30 * 86_400_000],
  );
  return id;
}

describe.each(DIALECTS)('portal sessions on %s', (kind) => {
  const db = (): SqlDatabase => dbs.get(kind);
  const sessions = (on: SqlDatabase = db()): SessionStore => new SessionStore({ db: on });

  it('a session made on one node is found on another, for its own message and recipient only', async () => {
    const other = await dbs.connect(kind);
    const deposit = await addDeposit(db());
    const { cookieValue, session } = await sessions().create({ depositId: deposit, recipient: RCPT, method: 'passkey', remoteIp: '127.0.0.1', now: T });
    expect(session).toMatchObject({ depositId: deposit, recipient: RCPT.toLowerCase(), method: 'passkey', createdAt: T, lastSeenAt: T });
    expect(await sessions(other).find(cookieValue, deposit, RCPT, T + 1000)).toEqual(session);
    expect(await sessions(other).find(cookieValue, await addDeposit(db()), RCPT, T + 1000)).toBeUndefined();
    expect(await sessions(other).find(cookieValue, deposit, 'someone@else.example', T + 1000)).toBeUndefined();
    expect(await sessions(other).find('not a cookie', deposit, RCPT, T + 1000)).toBeUndefined();
    // nothing of the cookie value is stored but its hash
    const row = await db().get<Record<string, unknown>>('SELECT * FROM portal_sessions WHERE deposit_id = ?', [deposit]);
    expect(JSON.stringify(row)).not.toContain(cookieValue);
    expect(row?.session_hash).toBe(hashSessionValue(cookieValue));
  });

  it('last seen moves forward at most once a minute, never back; idle and too-old sessions end', async () => {
    const deposit = await addDeposit(db());
    const { cookieValue } = await sessions().create({ depositId: deposit, recipient: RCPT, method: 'code', remoteIp: '127.0.0.1', now: T });
    expect((await sessions().find(cookieValue, deposit, RCPT, T + SESSION_TOUCH_MS - 1))?.lastSeenAt).toBe(T);
    expect((await sessions().find(cookieValue, deposit, RCPT, T + SESSION_TOUCH_MS))?.lastSeenAt).toBe(T + SESSION_TOUCH_MS);
    // a node whose clock is behind does not move it back
    await db().transaction((tx) => tx.run('UPDATE portal_sessions SET last_seen_at = ? WHERE deposit_id = ?', [T + 3 * SESSION_TOUCH_MS, deposit]));
    expect((await sessions().find(cookieValue, deposit, RCPT, T + 2 * SESSION_TOUCH_MS + 1))?.lastSeenAt).toBe(T + 3 * SESSION_TOUCH_MS);
    expect(await db().get('SELECT last_seen_at FROM portal_sessions WHERE deposit_id = ?', [deposit])).toEqual({ last_seen_at: T + 3 * SESSION_TOUCH_MS });
    // idle: over, and deleted
    expect(await sessions().find(cookieValue, deposit, RCPT, T + 3 * SESSION_TOUCH_MS + SESSION_IDLE_MS)).toBeUndefined();
    expect(await db().get('SELECT count(*) AS n FROM portal_sessions WHERE deposit_id = ?', [deposit])).toEqual({ n: 0 });
    // too old however active
    const old = await sessions().create({ depositId: deposit, recipient: RCPT, method: 'code', remoteIp: '127.0.0.1', now: T });
    for (let t = T; t < T + SESSION_MAX_MS; t += SESSION_IDLE_MS - 1) expect(await sessions().find(old.cookieValue, deposit, RCPT, t)).toBeDefined();
    expect(await sessions().find(old.cookieValue, deposit, RCPT, T + SESSION_MAX_MS)).toBeUndefined();
  });

  it('sign-out on one node ends the session on the other', async () => {
    const other = await dbs.connect(kind);
    const deposit = await addDeposit(db());
    const { cookieValue, session } = await sessions().create({ depositId: deposit, recipient: RCPT, method: 'code', remoteIp: '127.0.0.1', now: T });
    await sessions(other).delete(session.hash);
    expect(await sessions().find(cookieValue, deposit, RCPT, T + SESSION_TOUCH_MS)).toBeUndefined();
  });

  it('purge deletes what is over, and only that', async () => {
    const deposit = await addDeposit(db());
    const late = T + 10 * SESSION_MAX_MS;
    await sessions().create({ depositId: deposit, recipient: RCPT, method: 'code', remoteIp: '127.0.0.1', now: late - SESSION_IDLE_MS });
    const live = await sessions().create({ depositId: deposit, recipient: RCPT, method: 'code', remoteIp: '127.0.0.1', now: late - 1 });
    expect(await sessions().purge(late)).toBeGreaterThanOrEqual(1);
    expect(await db().all('SELECT session_hash FROM portal_sessions WHERE deposit_id = ?', [deposit])).toEqual([{ session_hash: live.session.hash }]);
  });

  it('sign-ins on two nodes at once, each clearing the same old sessions: all succeed, the old ones go, the new ones stay', async () => {
    const other = await dbs.connect(kind);
    const deposit = await addDeposit(db());
    const start = T + 100 * SESSION_MAX_MS;
    for (let i = 0; i < 40; i++) await sessions().create({ depositId: deposit, recipient: RCPT, method: 'code', remoteIp: '127.0.0.1', now: start + i });
    const now = start + SESSION_MAX_MS;
    const results = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => sessions(i % 2 ? other : db()).create({ depositId: deposit, recipient: RCPT, method: 'code', remoteIp: '127.0.0.1', now: now + i })),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await db().get('SELECT count(*) AS n FROM portal_sessions WHERE deposit_id = ? AND created_at < ?', [deposit, now])).toEqual({ n: 0 });
    expect(await db().get('SELECT count(*) AS n FROM portal_sessions WHERE deposit_id = ? AND created_at >= ?', [deposit, now])).toEqual({ n: 16 });
  });
});
