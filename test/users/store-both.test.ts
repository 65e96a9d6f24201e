/**
 * The SMTP submission users (src/users/store.ts) on both databases
 * (test/helpers/both-databases.ts): added, verified, changed and removed the
 * same way on SQLite and PostgreSQL, and one name added by two nodes at once
 * is added once — the other is told it exists, not given a key violation.
 */
import { describe, expect, it } from 'vitest';
import { tailAudit } from '../../src/audit/log.js';
import { SealgateError } from '../../src/errors.js';
import { addUser, listUsers, removeUser, setPassword, verifyUser } from '../../src/users/store.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = Date.UTC(2026, 0, 15);

describe.each(DIALECTS)('submission users on %s', (kind) => {
  it('adds, verifies, changes and removes a user, each audited', async () => {
    const db = dbs.get(kind);
    await addUser(db, 'scanner', 'first password 123', T);
    expect(await verifyUser(db, 'scanner', 'first password 123')).toBe(true);
    await setPassword(db, 'scanner', 'second password 456', T + 1);
    expect(await verifyUser(db, 'scanner', 'first password 123')).toBe(false);
    expect(await verifyUser(db, 'scanner', 'second password 456')).toBe(true);
    expect(await listUsers(db)).toContainEqual({ name: 'scanner', createdAt: T, disabled: false });
    await removeUser(db, 'scanner', T + 2);
    expect(await verifyUser(db, 'scanner', 'second password 456')).toBe(false);
    expect((await tailAudit(db, 3)).map((e) => e.type)).toEqual(['users:added', 'users:password_changed', 'users:removed']);
  });

  it('one name added by two nodes at once: added once, the other told it exists', async () => {
    const [a, b] = [dbs.get(kind), await dbs.connect(kind)];
    const results = await Promise.allSettled([addUser(a, 'copier', 'copier password 1', T), addUser(b, 'copier', 'copier password 2', T)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason instanceof SealgateError ? rejected.reason.code : rejected?.reason).toBe('SG_USER_EXISTS');
    expect((await listUsers(a)).filter((u) => u.name === 'copier')).toHaveLength(1);
  });
});
