/**
 * Passkey challenges in the database, on both databases (migration 31;
 * docs/scale-out.md): a challenge issued through one connection (a portal
 * node sending the options) is taken through another (the node the answer
 * reaches) exactly once, even when several take it at the same moment; an
 * expired one is refused and swept, by the next issue and by the portal
 * sweeper's run; a new challenge for a binding replaces the old one; the
 * binding itself (a session or cookie hash) is never stored.
 */
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/db/sql-database.js';
import { CHALLENGE_TTL_MS, ChallengeStore, sweepChallenges } from '../../src/portal/http/passkey-challenges.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const NOW = Date.UTC(2026, 11, 6, 9, 0, 0);
const dbs = bothDatabases();

describe.each(DIALECTS)('passkey challenges on %s', (kind: Dialect) => {
  it('one node issues, another takes it exactly once, even with eight takers on both at once', async () => {
    // two connections to one database: two pools on PostgreSQL (as two nodes have), two connections to the SQLite file
    const nodeA = new ChallengeStore(dbs.get(kind));
    const nodeB = new ChallengeStore(await dbs.connect(kind));
    await nodeA.issue('login:cookie1:link1', 'challenge-1', NOW);
    expect(await nodeB.take('login:cookie1:link1', NOW + 1000)).toBe('challenge-1');
    expect(await nodeA.take('login:cookie1:link1', NOW + 1000)).toBeUndefined();

    await nodeA.issue('register:session9', 'challenge-9', NOW);
    const taken = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? nodeB : nodeA).take('register:session9', NOW + 1000)));
    expect(taken.filter((t) => t !== undefined)).toEqual(['challenge-9']);
    // the binding itself (a session's or cookie's hash) is not what is stored
    await nodeA.issue('register:session10', 'challenge-10', NOW);
    expect(await dbs.get(kind).all('SELECT binding FROM portal_passkey_challenges')).toEqual([{ binding: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown }]);
  });

  it('a new challenge replaces the old; an expired one is refused, and swept by the next issue and the sweep', async () => {
    const db = await dbs.fresh(kind);
    const store = new ChallengeStore(db);
    await store.issue('b1', 'old', NOW);
    await store.issue('b1', 'new', NOW + 10);
    expect(await store.take('b1', NOW + 20)).toBe('new');

    await store.issue('b2', 'late', NOW);
    expect(await store.take('b2', NOW + CHALLENGE_TTL_MS)).toBeUndefined();
    expect(await store.take('b2', NOW)).toBeUndefined(); // refused once means gone

    await store.issue('b3', 'x', NOW);
    await store.issue('b4', 'y', NOW + CHALLENGE_TTL_MS - 1);
    // b3 expired at this issue's time: swept by it
    await store.issue('b5', 'z', NOW + CHALLENGE_TTL_MS);
    expect(await store.size()).toBe(2);
    expect(await sweepChallenges(db, NOW + 2 * CHALLENGE_TTL_MS)).toBe(2);
    expect(await store.size()).toBe(0);
  });

  it('stays bounded: past the most rows, the soonest to expire go', async () => {
    const db = await dbs.fresh(kind);
    const store = new ChallengeStore(db, 3);
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) await store.issue(k, `c-${k}`, NOW + i);
    expect(await store.size()).toBe(3);
    expect(await store.take('a', NOW + 10)).toBeUndefined();
    expect(await store.take('b', NOW + 10)).toBeUndefined();
    expect(await store.take('e', NOW + 10)).toBe('c-e');
    await expect(store.issue('f', '', NOW)).rejects.toThrow(RangeError);
    await expect(store.issue('f', 'x'.repeat(513), NOW)).rejects.toThrow(RangeError);
  });
});
