/**
 * The console's web server over real HTTPS, real argon2 users and real
 * RFC 6238 codes, with an injected clock: the session cookie's attributes,
 * the 15-minute idle timeout (and that activity keeps a session alive),
 * sign-out, CSRF refusal on every POST form, a wrong code and a locked name,
 * the role rules on the content route (403 and audited for a plain
 * auditor), bounded bodies, the security headers, and the pure helpers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tailAudit } from '../../src/audit/log.js';
import { checkReason, rawSearchOf } from '../../src/console/http/routes-archive.js';
import { searchQuery } from '../../src/console/http/pages-archive.js';
import { auditPage, beforeOf, stageOf } from '../../src/console/http/pages-audit.js';
import { SESSION_IDLE_MS, SESSION_MAX_MS, sessionOver } from '../../src/console/http/sessions.js';
import { csrfOf, PASSWORD, startConsoleWebTest, type ConsoleWebTest } from './console-web-helper.js';

let t: ConsoleWebTest;
let ann: Buffer;
let cora: Buffer;
let root: Buffer;
const ID = '0123456789ABCDEFGHJK';

beforeAll(async () => {
  t = await startConsoleWebTest({ signInsPerMinute: 1000 });
  ann = await t.addUser('ann', 'auditor');
  cora = await t.addUser('cora', 'auditor-content');
  root = await t.addUser('root', 'admin');
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

/** Each code works once: the next sign-in of a user is a 30-second step later. */
function nextStep(): void {
  t.clock += 30_000;
}

async function events(type: string): Promise<Record<string, unknown>[]> {
  const rows = await tailAudit(t.db, 1000);
  return rows.filter((r) => r.type === type).map((r) => r.data as Record<string, unknown>);
}

describe('sign-in', () => {
  it('password and code start a session: a random cookie (HttpOnly, Secure, SameSite=Strict), only its hash stored', async () => {
    nextStep();
    const c = t.client();
    const form = await c.get('/sign-in');
    expect(form.status).toBe(200);
    expect(form.body).toContain('name="username"');
    expect(form.body).toMatch(/name="password" autocomplete="current-password"/);
    expect(form.body).toMatch(/name="code" autocomplete="one-time-code"/);
    const r = await c.post('/sign-in', { csrf: csrfOf(form.body), username: 'ann', password: PASSWORD, code: t.code(ann) });
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
    const set = (r.headers['set-cookie'] as string[]).find((s) => s.startsWith('__Host-sealgate_console='));
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/Secure/);
    expect(set).toMatch(/SameSite=Strict/);
    // no Max-Age or Expires: the cookie ends with the browser session
    expect(set).not.toMatch(/Max-Age|Expires/i);
    const value = c.jar.get('__Host-sealgate_console') ?? '';
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await t.db.all<{ token_hash: string; name: string }>('SELECT token_hash, name FROM console_sessions');
    expect(rows.some((row) => row.name === 'ann')).toBe(true);
    expect(rows.some((row) => row.token_hash.includes(value))).toBe(false);
    const home = await c.get('/');
    expect(home.status).toBe(303);
    expect(home.headers.location).toBe('/archive');
    const page = await c.get('/archive');
    expect(page.status).toBe(200);
    expect(page.body).toContain('ann (auditor)');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).not.toContain('script-src');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
    expect((await events('archive:searched')).at(-1)).toEqual({ operator: 'ann', via: 'console', filters: [], results: 0 });
  });

  it('a wrong code is refused with the same answer as a wrong password, and audited', async () => {
    nextStep();
    const c = t.client();
    const good = t.code(cora);
    const wrong = good === '000000' ? '000001' : '000000';
    const r = await c.signIn('cora', PASSWORD, wrong);
    expect(r.status).toBe(401);
    expect(r.body).toContain('The name, password or code is not right.');
    expect(c.jar.has('__Host-sealgate_console')).toBe(false);
    const r2 = await c.signIn('cora', 'not the password at all', good);
    expect(r2.body).toContain('The name, password or code is not right.');
    const failed = await events('console:sign_in_failed');
    expect(failed.slice(-2).map((f) => f.reason)).toEqual(['code', 'password']);
    // the form keeps the name, never the password
    expect(r2.body).toContain('value="cora"');
    expect(r2.body).not.toContain('not the password at all');
  });

  it('a locked name says until when, and the right password and code do not get in', async () => {
    const lock = await t.addUser('lee', 'auditor');
    const c = t.client();
    let last = await c.signIn('lee', 'wrong password!!', '123456');
    for (let i = 0; i < 4; i++) last = await c.signIn('lee', 'wrong password!!', '123456');
    expect(last.status).toBe(429);
    expect(last.body).toMatch(/locked until 2026-12-05 \d\d:\d\d:\d\d \(UTC\)/);
    nextStep();
    const right = await c.signIn('lee', PASSWORD, t.code(lock));
    expect(right.status).toBe(429);
    expect(c.jar.has('__Host-sealgate_console')).toBe(false);
  }, 30_000);

  it('the sign-in form is refused without its pre-session cookie and token (login CSRF)', async () => {
    nextStep();
    const c = t.client();
    const r = await c.post('/sign-in', { csrf: 'forged', username: 'ann', password: PASSWORD, code: t.code(ann) });
    expect(r.status).toBe(403);
    expect(c.jar.has('__Host-sealgate_console')).toBe(false);
    // a token from another browser's form does not fit this browser's cookie
    const other = t.client();
    const token = csrfOf((await other.get('/sign-in')).body);
    await c.get('/sign-in');
    const r2 = await c.post('/sign-in', { csrf: token, username: 'ann', password: PASSWORD, code: t.code(ann) });
    expect(r2.status).toBe(403);
    expect(c.jar.has('__Host-sealgate_console')).toBe(false);
  });
});

describe('sessions', () => {
  it('end after 15 minutes without a request; requests keep them alive', async () => {
    nextStep();
    const c = t.client();
    expect((await c.signIn('ann', PASSWORD, t.code(ann))).status).toBe(303);
    t.clock += SESSION_IDLE_MS - 60_000;
    expect((await c.get('/archive')).status).toBe(200);
    t.clock += SESSION_IDLE_MS - 60_000;
    expect((await c.get('/archive')).status).toBe(200);
    t.clock += SESSION_IDLE_MS;
    const r = await c.get('/archive');
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/sign-in?expired=1');
    const page = await c.get('/sign-in?expired=1');
    expect(page.body).toContain('Your session ended');
    // the row is gone: the same cookie does not come back to life
    t.clock -= SESSION_IDLE_MS;
    expect((await c.get('/archive')).status).toBe(303);
  });

  it('sign-out needs the session CSRF token, then ends the session', async () => {
    nextStep();
    const c = t.client();
    await c.signIn('ann', PASSWORD, t.code(ann));
    const page = await c.get('/archive');
    const forged = await c.post('/sign-out', { csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect((await c.get('/archive')).status).toBe(200);
    const out = await c.post('/sign-out', { csrf: csrfOf(page.body) });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/sign-in?out=1');
    expect((await c.get('/archive')).status).toBe(303);
  });

  it.each<[number, number, boolean]>([
    [0, 0, false],
    [SESSION_IDLE_MS - 1, SESSION_IDLE_MS - 1, false],
    [SESSION_IDLE_MS, SESSION_IDLE_MS, true],
    [SESSION_MAX_MS - 1, 0, false],
    [SESSION_MAX_MS, 0, true],
  ])('sessionOver: %i ms after creation, %i ms idle → %s', (age, idle, over) => {
    expect(sessionOver(0, age - idle, age)).toBe(over);
  });
});

describe('search input', () => {
  it('a filter that does not parse answers 400 with the reason (named as the form names it), and is not audited as a search', async () => {
    nextStep();
    const c = t.client();
    await c.signIn('ann', PASSWORD, t.code(ann));
    const before = (await events('archive:searched')).length;
    const r = await c.get('/archive?method=carrier-pigeon&from=alice%40example.com');
    expect(r.status).toBe(400);
    expect(r.body).toContain('method must be one of');
    expect(r.body).not.toContain('--method');
    // the form keeps what was typed
    expect(r.body).toContain('value="alice@example.com"');
    expect((await events('archive:searched')).length).toBe(before);
    const ok = await c.get('/archive?from=alice%40example.com&to=&subject=');
    expect(ok.status).toBe(200);
    expect((await events('archive:searched')).at(-1)).toEqual({ operator: 'ann', via: 'console', filters: ['from'], results: 0 });
  });
});

describe('content route by role', () => {
  it('a plain auditor gets 403 on the direct URL and on a crafted POST, each audited', async () => {
    nextStep();
    const c = t.client();
    await c.signIn('ann', PASSWORD, t.code(ann));
    const csrf = csrfOf((await c.get('/archive')).body);
    const before = (await events('archive:content_refused')).length;
    const get = await c.get(`/archive/${ID}/content`);
    expect(get.status).toBe(403);
    expect(get.body).toContain('auditor-content');
    const post = await c.post(`/archive/${ID}/content`, { csrf, reason: 'curious' });
    expect(post.status).toBe(403);
    const refused = await events('archive:content_refused');
    expect(refused.slice(before)).toEqual([
      { queueId: ID, operator: 'ann', via: 'console' },
      { queueId: ID, operator: 'ann', via: 'console' },
    ]);
    expect((await events('archive:content_opened')).length).toBe(0);
  });

  it('auditor-content: the POST needs the session CSRF token and a reason', async () => {
    nextStep();
    const c = t.client();
    await c.signIn('cora', PASSWORD, t.code(cora));
    const form = await c.get(`/archive/${ID}/content`);
    expect(form.status).toBe(200);
    expect(form.body).toContain('name="reason"');
    const forged = await c.post(`/archive/${ID}/content`, { csrf: 'forged', reason: 'ticket 42' });
    expect(forged.status).toBe(403);
    const noReason = await c.post(`/archive/${ID}/content`, { csrf: csrfOf(form.body), reason: '   ' });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toContain('Give a reason');
    const missing = await c.post(`/archive/${ID}/content`, { csrf: csrfOf(form.body), reason: 'ticket 42' });
    expect(missing.status).toBe(404);
    expect((await events('archive:content_opened')).length).toBe(0);
  });

  it('admin has no archive pages; its home page links to its own', async () => {
    nextStep();
    const c = t.client();
    await c.signIn('root', PASSWORD, t.code(root));
    const home = await c.get('/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('href="/admin/queue"');
    expect((await c.get('/archive')).status).toBe(403);
    expect((await c.get(`/archive/${ID}/content`)).status).toBe(403);
  });
});

describe('audit log page', () => {
  it('shows the newest events first, filters by stage, pages to older ones, records each view; admin gets 403', async () => {
    nextStep();
    const c = t.client();
    await c.signIn('ann', PASSWORD, t.code(ann));
    const page = await c.get('/audit');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Audit log</h1>');
    expect(page.body).toContain('aria-current="page">Audit log');
    const seqs = [...page.body.matchAll(/<tr><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    const newest = (await t.db.get<{ seq: number }>('SELECT max(seq) AS seq FROM audit_log WHERE type <> ?', ['audit:viewed']))?.seq ?? 0;
    expect(seqs[0]).toBe(newest);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect((await events('audit:viewed')).at(-1)).toEqual({ operator: 'ann', via: 'console', events: seqs.length });

    const consoleOnly = await c.get('/audit?stage=console');
    const types = [...consoleOnly.body.matchAll(/<\/td><td>([a-z]+:[a-z_]+)<\/td><td><code>/g)].map((m) => m[1]);
    expect(types.length).toBeGreaterThan(0);
    expect(types.every((x) => x?.startsWith('console:'))).toBe(true);
    expect((await events('audit:viewed')).at(-1)).toEqual({ operator: 'ann', via: 'console', stage: 'console', events: types.length });

    const last = seqs.at(-1) ?? 0;
    const older = await c.get(`/audit?before=${last}`);
    const olderSeqs = [...older.body.matchAll(/<tr><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(olderSeqs.every((x) => x < last)).toBe(true);
    // an unknown stage or a bad cursor is no filter, never an error
    expect((await c.get('/audit?stage=%3Cscript%3E&before=-1')).status).toBe(200);

    nextStep();
    const admin = t.client();
    await admin.signIn('root', PASSWORD, t.code(root));
    expect((await admin.get('/audit')).status).toBe(403);
  });
});

describe('bounds and errors', () => {
  it('a signed-out request goes to the sign-in page; other methods 405; big bodies 413; JSON 415', async () => {
    const c = t.client();
    const r = await c.get('/archive');
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/sign-in');
    expect((await c.send('PUT', '/archive')).status).toBe(405);
    expect((await c.send('DELETE', '/sign-in')).status).toBe(405);
    expect((await c.get('/nothing-here')).status).toBe(404);
    const big = await c.post('/sign-in', { csrf: 'x', username: 'a'.repeat(20_000) });
    expect(big.status).toBe(413);
    const json = await c.send('POST', '/sign-in', undefined, { 'content-type': 'application/json', 'content-length': '2' });
    expect([400, 415]).toContain(json.status);
  });
});

describe('pure helpers', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['', false],
    ['   ', false],
    ['ticket 42', true],
    ['a'.repeat(500), true],
    ['a'.repeat(501), false],
    ['two\nlines', false],
  ])('checkReason(%j) ok=%s', (reason, ok) => {
    expect(checkReason(reason).ok).toBe(ok);
  });

  it.each<[string | undefined, string | undefined, string | undefined, number | undefined]>([
    [undefined, undefined, undefined, undefined],
    ['console', '12', 'console', 12],
    ['Console', '0', undefined, undefined],
    ['<script>', '-5', undefined, undefined],
    ['archive', '1e3', 'archive', undefined],
    ['', '9999999999999999', undefined, undefined],
  ])('audit page query stage=%j before=%j → %j, %j', (stage, before, wantStage, wantBefore) => {
    expect(stageOf(stage)).toBe(wantStage);
    expect(beforeOf(before)).toBe(wantBefore);
  });

  it('the audit page escapes event data and shows control and bidi characters as ?', () => {
    const page = auditPage({ rows: [{ seq: 7, ts: 0, type: 'console:sign_in_failed', data: '{"user":"<b>x</b>\u202e"}' }], form: {} });
    expect(page.main).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(page.main).not.toContain('<b>x');
    expect(page.main).not.toContain('\u202e');
  });

  it('rawSearchOf keeps the known non-empty filters; searchQuery builds the next-page link', () => {
    const raw = rawSearchOf({ from: ' alice@example.com ', to: '', subject: 'lab', evil: 'x', after: '0123456789ABCDEFGHJK', limit: '1000' });
    expect(raw).toEqual({ from: 'alice@example.com', subject: 'lab', after: '0123456789ABCDEFGHJK' });
    expect(searchQuery(raw, 'ZZZZZZZZZZZZZZZZZZZZ')).toBe('?from=alice%40example.com&subject=lab&after=ZZZZZZZZZZZZZZZZZZZZ');
  });
});
