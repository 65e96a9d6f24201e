/**
 * Sign-out and session timeouts are in the audit log (console:signed_out):
 * the button (with the request's address), an idle session whose cookie
 * comes back, a session past 8 hours, and sessions that timed out without
 * coming back (recorded when the next sign-in clears them). Real HTTPS, real
 * argon2 users and codes, an injected clock; the reason is a pure function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tailAudit } from '../../src/audit/log.js';
import { SESSION_IDLE_MS, SESSION_MAX_MS, timeoutOf } from '../../src/console/http/sessions.js';
import { csrfOf, PASSWORD, startConsoleWebTest, type ConsoleWebTest } from './console-web-helper.js';

let t: ConsoleWebTest;
let ann: Buffer;
let bob: Buffer;

beforeAll(async () => {
  t = await startConsoleWebTest({ signInsPerMinute: 1000 });
  ann = await t.addUser('ann', 'auditor');
  bob = await t.addUser('bob', 'auditor-content');
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

async function signedOut(): Promise<Record<string, unknown>[]> {
  return (await tailAudit(t.db, 1000)).filter((r) => r.type === 'console:signed_out').map((r) => r.data as Record<string, unknown>);
}

describe('console:signed_out', () => {
  it('the Sign out button records the user, the address and reason sign-out, once', async () => {
    t.clock += 30_000;
    const c = t.client();
    expect((await c.signIn('ann', PASSWORD, t.code(ann))).status).toBe(303);
    const page = await c.get('/archive');
    const before = (await signedOut()).length;
    expect((await c.post('/sign-out', { csrf: csrfOf(page.body) })).status).toBe(303);
    expect((await signedOut()).slice(before)).toEqual([{ user: 'ann', remoteIp: '127.0.0.1', reason: 'sign-out' }]);
    // a forged sign-out of a session already over records nothing more
    await c.post('/sign-out', { csrf: csrfOf(page.body) });
    expect((await signedOut()).length).toBe(before + 1);
  });

  it('an idle session whose cookie comes back is recorded as idle; a session past 8 hours as max-age', async () => {
    t.clock += 30_000;
    const idle = t.client();
    expect((await idle.signIn('ann', PASSWORD, t.code(ann))).status).toBe(303);
    const before = (await signedOut()).length;
    t.clock += SESSION_IDLE_MS;
    expect((await idle.get('/archive')).headers.location).toBe('/sign-in?expired=1');
    expect((await signedOut()).slice(before)).toEqual([{ user: 'ann', remoteIp: '127.0.0.1', reason: 'idle' }]);

    t.clock += 30_000;
    const busy = t.client();
    expect((await busy.signIn('bob', PASSWORD, t.code(bob))).status).toBe(303);
    // active all day: a request every 10 minutes
    for (let at = 0; at < 8 * 60; at += 10) {
      t.clock += 10 * 60_000;
      if ((await busy.get('/archive')).status !== 200) break;
    }
    expect((await busy.get('/archive')).status).toBe(303);
    expect((await signedOut()).at(-1)).toEqual({ user: 'bob', remoteIp: '127.0.0.1', reason: 'max-age' });
  }, 60_000);

  it('a session that timed out and never came back is recorded when the next sign-in clears it', async () => {
    t.clock += 30_000;
    const gone = t.client();
    expect((await gone.signIn('bob', PASSWORD, t.code(bob))).status).toBe(303);
    t.clock += SESSION_IDLE_MS + 30_000;
    const before = (await signedOut()).length;
    expect((await t.client().signIn('ann', PASSWORD, t.code(ann))).status).toBe(303);
    expect((await signedOut()).slice(before)).toEqual([{ user: 'bob', remoteIp: '127.0.0.1', reason: 'idle' }]);
    const rows = await t.db.all<{ name: string }>('SELECT name FROM console_sessions');
    expect(rows.map((r) => r.name)).toEqual(['ann']);
  });

  it.each<[number, number, 'idle' | 'max-age' | undefined]>([
    [0, 0, undefined],
    [SESSION_IDLE_MS - 1, SESSION_IDLE_MS - 1, undefined],
    [SESSION_IDLE_MS, SESSION_IDLE_MS, 'idle'],
    [SESSION_MAX_MS - 1, 0, undefined],
    [SESSION_MAX_MS, 0, 'max-age'],
    [SESSION_MAX_MS, SESSION_IDLE_MS, 'max-age'],
  ])('timeoutOf: %i ms after creation, %i ms idle → %s', (age, idle, reason) => {
    expect(timeoutOf(0, age - idle, age)).toBe(reason);
  });
});
