import { describe, expect, it } from 'vitest';
import type { SqlQueryable } from '../../src/db/sql-database.js';
import { bindingPosture, forgetPosture, LAST_SEEN_STEP_MS, loadPosture, postureLevel, PostureSeen, recordPosture, type ObservedTls, type RememberedPosture } from '../../src/probe/posture.js';
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

describe('PostureSeen', () => {
  const T = 1_800_000_000_000;
  it.each<[string, TransportRequirement, number, boolean]>([
    ['the same level within the step', 'verify', T + 1000, true],
    ['the same level just before last_seen is due', 'verify', T + LAST_SEEN_STEP_MS - 1, true],
    ['last_seen due: read again', 'verify', T + LAST_SEEN_STEP_MS, false],
    ['a higher level: read (it may raise the best)', 'dane', T + 1000, false],
    ['a lower level: read', 'encrypt', T + 1000, false],
    ['a clock behind the time read: read', 'verify', T - 1, false],
  ])('%s', (_name, level, now, expected) => {
    const seen = new PostureSeen();
    seen.remember('a.test', 'verify', T + LAST_SEEN_STEP_MS);
    expect(seen.confirmed('a.test', level, now)).toBe(expected);
    expect(seen.confirmed('b.test', 'verify', T + 1000)).toBe(false);
  });

  it('keeps at most maxDomains, the oldest going first', () => {
    const seen = new PostureSeen(2);
    for (const d of ['a.test', 'b.test', 'c.test']) seen.remember(d, 'verify', T + LAST_SEEN_STEP_MS);
    expect(['a.test', 'b.test', 'c.test'].map((d) => seen.confirmed(d, 'verify', T + 1))).toEqual([false, true, true]);
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

  it('with what it read remembered: the same rows as without, and no read for deliveries at the best level until last_seen is due', async () => {
    const seen = new PostureSeen();
    let reads = 0;
    const counting: SqlQueryable = new Proxy(db(), {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'get' && typeof value === 'function') return (...args: unknown[]) => ((reads++), (value as (...a: unknown[]) => unknown).apply(target, args));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await recordPosture(counting, 's.test', 'encrypt', T, seen);
    await recordPosture(counting, 's.test', 'verify', T + 1, seen);
    await recordPosture(counting, 's.test', 'may', T + 2, seen);
    expect(await loadPosture(db(), 's.test')).toEqual({ level: 'verify', lastSeen: T + 1 });
    // read once at the best level (nothing to write): the next ones within the step read nothing
    await recordPosture(counting, 's.test', 'verify', T + 3, seen);
    const before = reads;
    await recordPosture(counting, 's.test', 'verify', T + 4, seen);
    await recordPosture(counting, 's.test', 'verify', T + LAST_SEEN_STEP_MS, seen);
    expect(reads).toBe(before);
    // last_seen due: read and moved, as without
    await recordPosture(counting, 's.test', 'verify', T + 1 + LAST_SEEN_STEP_MS, seen);
    expect(reads).toBe(before + 1);
    expect(await loadPosture(db(), 's.test')).toEqual({ level: 'verify', lastSeen: T + 1 + LAST_SEEN_STEP_MS });
    // a higher level is always read and raised
    await recordPosture(counting, 's.test', 'dane', T + 2 + LAST_SEEN_STEP_MS, seen);
    expect(await loadPosture(db(), 's.test')).toEqual({ level: 'dane', lastSeen: T + 2 + LAST_SEEN_STEP_MS });
  });

  it('a posture forgotten elsewhere is recorded again by the first delivery after the remembered read runs out', async () => {
    const seen = new PostureSeen();
    await recordPosture(db(), 'f.test', 'verify', T, seen);
    await recordPosture(db(), 'f.test', 'verify', T + 1, seen);
    expect(await forgetPosture(db(), 'f.test')).toBe(true);
    await recordPosture(db(), 'f.test', 'verify', T + 2, seen);
    expect(await loadPosture(db(), 'f.test')).toBeUndefined();
    await recordPosture(db(), 'f.test', 'verify', T + LAST_SEEN_STEP_MS, seen);
    expect(await loadPosture(db(), 'f.test')).toEqual({ level: 'verify', lastSeen: T + LAST_SEEN_STEP_MS });
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
