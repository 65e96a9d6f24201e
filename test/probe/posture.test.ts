import { describe, expect, it } from 'vitest';
import type { SqlQueryable } from '../../src/db/sql-database.js';
import { bindingPosture, forgetPosture, LAST_SEEN_STEP_MS, loadPosture, postureLevel, recordPosture, type ObservedTls, type RememberedPosture } from '../../src/probe/posture.js';
import type { TransportRequirement } from '../../src/delivery/transport-requirement.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();

const DAY = 86_400_000;

describe('postureLevel', () => {
  it.each<[ObservedTls | undefined, TransportRequirement]>([
    [undefined, 'none'],
    [{ version: 'TLSv1.3', authorized: true }, 'verify'],
    [{ version: 'TLSv1.2', authorized: true }, 'verify'],
    [{ version: 'TLSv1.2', authorized: false }, 'encrypt'],
    [{ version: 'TLSv1.1', authorized: true }, 'may'],
    [{ version: 'TLSv1', authorized: false }, 'may'],
  ])('%j → %s', (tls, expected) => {
    expect(postureLevel(tls)).toBe(expected);
  });
});

describe('bindingPosture', () => {
  const now = 100 * DAY;
  it.each<[string, RememberedPosture | undefined, number, TransportRequirement | undefined]>([
    ['nothing remembered', undefined, 30 * DAY, undefined],
    ['verify seen yesterday', { level: 'verify', lastSeen: now - DAY }, 30 * DAY, 'verify'],
    ['encrypt seen yesterday', { level: 'encrypt', lastSeen: now - DAY }, 30 * DAY, 'encrypt'],
    ['verify seen 31 days ago: outside the window', { level: 'verify', lastSeen: now - 31 * DAY }, 30 * DAY, undefined],
    ['memory off', { level: 'verify', lastSeen: now - DAY }, 0, undefined],
    ['cleartext seen: nothing to hold to', { level: 'none', lastSeen: now - DAY }, 30 * DAY, undefined],
    ['old TLS seen: not binding', { level: 'may', lastSeen: now - DAY }, 30 * DAY, undefined],
  ])('%s', (_name, remembered, memory, expected) => {
    expect(bindingPosture(remembered, now, memory)).toBe(expected);
  });
});

// the store (table tls_posture), the same tests on SQLite and PostgreSQL
describe.each(DIALECTS)('posture memory on %s', (kind) => {
  const db = () => dbs.get(kind);
  const T = 1_800_000_000_000;

  it('records the first posture, raises it, never lowers it, and moves last_seen when the best is met again, at most once a step', async () => {
    await recordPosture(db(), 'a.test', 'encrypt', T);
    expect(await loadPosture(db(), 'a.test')).toEqual({ level: 'encrypt', lastSeen: T });
    await recordPosture(db(), 'a.test', 'verify', T + 1);
    expect(await loadPosture(db(), 'a.test')).toEqual({ level: 'verify', lastSeen: T + 1 });
    await recordPosture(db(), 'a.test', 'may', T + 2);
    expect(await loadPosture(db(), 'a.test')).toEqual({ level: 'verify', lastSeen: T + 1 });
    // met again within the step: nothing written (a busy domain's deliveries do not queue on the row)
    await recordPosture(db(), 'a.test', 'verify', T + 3);
    expect(await loadPosture(db(), 'a.test')).toEqual({ level: 'verify', lastSeen: T + 1 });
    await recordPosture(db(), 'a.test', 'verify', T + 1 + LAST_SEEN_STEP_MS);
    expect(await loadPosture(db(), 'a.test')).toEqual({ level: 'verify', lastSeen: T + 1 + LAST_SEEN_STEP_MS });
    // a node whose clock is behind the time another node recorded never moves it back
    await db().run('UPDATE tls_posture SET last_seen = ? WHERE domain = ?', [T + 10 * LAST_SEEN_STEP_MS, 'a.test']);
    await recordPosture(db(), 'a.test', 'verify', T + 8 * LAST_SEEN_STEP_MS);
    expect(await loadPosture(db(), 'a.test')).toEqual({ level: 'verify', lastSeen: T + 10 * LAST_SEEN_STEP_MS });
  });

  it('forgets a posture (probe accept) once', async () => {
    await recordPosture(db(), 'b.test', 'verify', T);
    expect(await forgetPosture(db(), 'b.test')).toBe(true);
    expect(await forgetPosture(db(), 'b.test')).toBe(false);
    expect(await loadPosture(db(), 'b.test')).toBeUndefined();
  });

  it('a node that read an older level cannot lower the level another node raised meanwhile', async () => {
    await recordPosture(db(), 'c.test', 'may', T);
    // this node reads "may"; before it writes, another node records "verify"
    let interleaved = false;
    const racing: SqlQueryable = {
      dialect: kind,
      run: (sql, params) => db().run(sql, params),
      all: (sql, params) => db().all(sql, params),
      exec: (sql) => db().exec(sql),
      get: async <R,>(sql: string, params?: Parameters<SqlQueryable['get']>[1]) => {
        const row = await db().get<R>(sql, params);
        if (!interleaved) {
          interleaved = true;
          await recordPosture(db(), 'c.test', 'verify', T + 1);
        }
        return row;
      },
    };
    await recordPosture(racing, 'c.test', 'encrypt', T + 2);
    expect(await loadPosture(db(), 'c.test')).toEqual({ level: 'verify', lastSeen: T + 1 });
  });

  it('concurrent first recordings of one domain (deliveries on several nodes) keep the best, without an error', async () => {
    const levels: TransportRequirement[] = ['encrypt', 'verify', 'may', 'encrypt', 'verify', 'none', 'encrypt', 'may'];
    const results = await Promise.allSettled(levels.map((level, i) => db().transaction((tx) => recordPosture(tx, 'd.test', level, T + i))));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await loadPosture(db(), 'd.test'))?.level).toBe('verify');
  });
});
