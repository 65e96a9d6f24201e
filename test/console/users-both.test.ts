/**
 * Console users and their web sessions on both databases
 * (test/helpers/both-databases.ts), with several writers — a second
 * connection to the SQLite file (a second process), a second pool on the
 * PostgreSQL database (a second node) — as a load balancer without
 * stickiness sends a user's requests to any node:
 *   - names are unique ignoring case, also when two nodes add them at once;
 *   - failed sign-ins at once, on any node, each count, so the lockout after
 *     FREE_FAILURES holds across nodes (a count read before the password
 *     check and written back would let every node allow its own tries);
 *   - a session that is over is swept once: its end is audited once however
 *     many nodes sweep at the same moment.
 * The CLI, TOTP codes and the lockout's course are in users.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tailAudit, verifyAuditChain } from '../../src/audit/log.js';
import { ConsoleSessions, SESSION_IDLE_MS } from '../../src/console/http/sessions.js';
import { FREE_FAILURES, lockFor } from '../../src/console/lockout.js';
import { addConsoleUser, listConsoleUsers, signIn, type ConsoleUsersDeps } from '../../src/console/users.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { SealgateError } from '../../src/errors.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = Date.UTC(2026, 0, 15);
const PASSWORD = 'correct horse battery staple';
const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
const deps = (db: SqlDatabase): ConsoleUsersDeps => ({ db, keyring, issuer: 'Sealgate test' });

function codeOf(result: PromiseSettledResult<unknown>): string | undefined {
  return result.status === 'rejected' && result.reason instanceof SealgateError ? result.reason.code : undefined;
}

describe.each(DIALECTS)('console users on %s', (kind) => {
  it('two nodes adding one name in two cases at once: one is added, the other is told it exists', async () => {
    const [a, b] = [dbs.get(kind), await dbs.connect(kind)];
    const results = await Promise.allSettled([addConsoleUser(deps(a), 'Ann', 'auditor', PASSWORD, 'root', T), addConsoleUser(deps(b), 'ann', 'admin', PASSWORD, 'root', T)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.map(codeOf).filter((c) => c !== undefined)).toEqual(['SG_USER_EXISTS']);
    expect((await listConsoleUsers(a)).filter((u) => u.name.toLowerCase() === 'ann')).toHaveLength(1);
  });

  it('failed sign-ins at once on two nodes each count: the lockout follows the total', async () => {
    const [a, b] = [dbs.get(kind), await dbs.connect(kind)];
    await addConsoleUser(deps(a), 'carol', 'auditor', PASSWORD, 'root', T);
    const tries = FREE_FAILURES + 3;
    const outcomes = await Promise.all(Array.from({ length: tries }, (_, i) => signIn(deps(i % 2 ? b : a), { name: 'carol', password: `wrong ${i}`, code: '000000', remoteIp: '127.0.0.1' }, T + 1000)));
    expect(outcomes.every((o) => !o.ok)).toBe(true);
    const row = await a.get<{ failures: number; locked_until: number }>('SELECT failures, locked_until FROM console_users WHERE name = ?', ['carol']);
    expect(row).toEqual({ failures: tries, locked_until: T + 1000 + lockFor(tries) });
    // the name is locked now, on either node, even for the right password
    const next = await signIn(deps(b), { name: 'carol', password: PASSWORD, code: '000000', remoteIp: '127.0.0.1' }, T + 2000);
    expect(next).toEqual({ ok: false, reason: 'locked', retryAfter: T + 1000 + lockFor(tries) });
    const events = (await tailAudit(a, tries * 2 + 1)).map((e) => e.type);
    expect(events.filter((t) => t === 'console:sign_in_failed')).toHaveLength(tries + 1);
    expect(events.filter((t) => t === 'console:locked')).toHaveLength(tries - FREE_FAILURES + 1);
    expect((await verifyAuditChain(a)).ok).toBe(true);
  });

  it('sessions that are over are swept once, with one audited end each, when two nodes sweep at once', async () => {
    const [a, b] = [dbs.get(kind), await dbs.connect(kind)];
    const random = (n: number): Buffer => randomBytes(n);
    const [here, there] = [new ConsoleSessions(a, random), new ConsoleSessions(b, random)];
    await addConsoleUser(deps(a), 'dave', 'auditor', PASSWORD, 'root', T);
    const old = await Promise.all(Array.from({ length: 6 }, (_, i) => here.create('dave', `127.0.0.${i + 1}`, T + i)));
    const later = T + SESSION_IDLE_MS + 60_000;
    const before = (await verifyAuditChain(a)).count;
    // two nodes each open a session at once: each sweeps the six idle ones
    const fresh = await Promise.all([here.create('dave', '127.0.1.1', later), there.create('dave', '127.0.1.2', later)]);
    const ends = (await tailAudit(a, 20)).filter((e) => e.seq > before && e.type === 'console:signed_out');
    expect(ends.map((e) => (e.data as { remoteIp: string }).remoteIp).sort()).toEqual(old.map((_, i) => `127.0.0.${i + 1}`));
    for (const cookie of old) expect(await there.find(cookie, later)).toBeUndefined();
    for (const cookie of fresh) expect((await here.find(cookie, later))?.name).toBe('dave');
    expect((await verifyAuditChain(a)).ok).toBe(true);
  });
});
