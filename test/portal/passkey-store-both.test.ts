/**
 * Portal passkeys (table portal_passkeys) on SQLite and PostgreSQL: adding,
 * finding, listing, removing and the signature counter on both, and several
 * writers at once (a second connection: another process on SQLite, another
 * node on PostgreSQL): one credential added twice at once is stored once,
 * the limit per address holds, and one counter value signs in once.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { credentialDigest, MAX_PASSKEYS_PER_RECIPIENT, PasskeyStore } from '../../src/portal/passkey-store.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = Date.UTC(2026, 11, 4, 9, 0, 0);

const credential = (): string => randomBytes(24).toString('base64url');
/** An address of its own per test (the tests share one database per kind). */
const address = (): string => `Pat.${randomBytes(4).toString('hex')}@Gmail.example`;

function input(credentialId: string, recipient: string, counter = 0) {
  return { credentialId, recipient, publicKey: new Uint8Array(randomBytes(77)), counter, transports: ['usb', 'Bad Transport!', 'internal'], now: T };
}

describe.each(DIALECTS)('portal passkeys on %s', (kind) => {
  const db = (): SqlDatabase => dbs.get(kind);
  const store = (on: SqlDatabase = db()): PasskeyStore => new PasskeyStore(on);

  it('adds, finds, lists and removes an address\'s passkeys; another address cannot take one', async () => {
    const who = address();
    const [a, b] = [credential(), credential()];
    expect(await store().add(input(a, who))).toEqual({ outcome: 'added' });
    expect(await store().add({ ...input(b, who.toLowerCase()), now: T + 1 })).toEqual({ outcome: 'added' });
    expect(await store().add(input(a, who))).toEqual({ outcome: 'exists' });
    expect(await store().add(input(a, address()))).toEqual({ outcome: 'taken' });
    const found = await store().find(a);
    expect(found).toMatchObject({ credentialId: a, recipient: who.toLowerCase(), counter: 0, transports: ['usb', 'internal'], createdAt: T, lastUsedAt: null });
    expect(Buffer.isBuffer(found?.publicKey) && found.publicKey.length).toBe(77);
    expect((await store().listFor(who)).map((p) => p.credentialId)).toEqual([a, b]);
    expect(await store().count(who)).toBe(2);
    expect(await store().remove(who, credentialDigest(b).slice(0, 12))).toBe(1);
    expect(await store().remove(who)).toBe(1);
    expect(await store().find(a)).toBeUndefined();
  });

  it(`at most ${MAX_PASSKEYS_PER_RECIPIENT} per address`, async () => {
    const who = address();
    for (let i = 0; i < MAX_PASSKEYS_PER_RECIPIENT; i++) expect((await store().add(input(credential(), who))).outcome).toBe('added');
    expect(await store().add(input(credential(), who))).toEqual({ outcome: 'full' });
  });

  it('the signature counter moves only forward; an authenticator without one stays at 0', async () => {
    const who = address();
    const [counting, zero] = [credential(), credential()];
    await store().add(input(counting, who, 5));
    await store().add(input(zero, who, 0));
    expect(await store().markUsed(counting, 6, T + 1)).toBe(true);
    expect(await store().markUsed(counting, 6, T + 2)).toBe(false);
    expect(await store().markUsed(counting, 4, T + 3)).toBe(false);
    expect(await store().find(counting)).toMatchObject({ counter: 6, lastUsedAt: T + 1 });
    expect(await store().markUsed(zero, 0, T + 4)).toBe(true);
    expect(await store().markUsed(zero, 0, T + 5)).toBe(true);
    expect(await store().find(zero)).toMatchObject({ counter: 0, lastUsedAt: T + 5 });
    expect(await store().markUsed(credential(), 1, T)).toBe(false);
  });

  it('one credential added at once from two connections (two nodes) is stored once', async () => {
    const other = await dbs.connect(kind);
    const who = address();
    const id = credential();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store(i % 2 ? other : db()).add(input(id, who))));
    expect(results.filter((r) => r.outcome === 'added')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'exists')).toHaveLength(7);
    // the same id for two addresses at once: one of them has it, the other is told it is taken
    const contested = credential();
    const [x, y] = [address(), address()];
    const pair = await Promise.all([store().add(input(contested, x)), store(other).add(input(contested, y))]);
    expect(pair.map((r) => r.outcome).sort()).toEqual(['added', 'taken']);
  });

  it(`passkeys added at once from two connections never pass ${MAX_PASSKEYS_PER_RECIPIENT} per address`, async () => {
    const other = await dbs.connect(kind);
    const who = address();
    for (let i = 0; i < MAX_PASSKEYS_PER_RECIPIENT - 3; i++) await store().add(input(credential(), who));
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store(i % 2 ? other : db()).add(input(credential(), who))));
    expect(results.filter((r) => r.outcome === 'added')).toHaveLength(3);
    expect(results.filter((r) => r.outcome === 'full')).toHaveLength(7);
    expect(await store().count(who)).toBe(MAX_PASSKEYS_PER_RECIPIENT);
  });

  it('one counter value shown at once to two connections (two nodes) signs in once', async () => {
    const other = await dbs.connect(kind);
    const who = address();
    const id = credential();
    await store().add(input(id, who, 10));
    for (let counter = 11; counter < 16; counter++) {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store(i % 2 ? other : db()).markUsed(id, counter, T + counter)));
      expect(results.filter(Boolean)).toHaveLength(1);
    }
    expect(await store().find(id)).toMatchObject({ counter: 15 });
  });
});
